# removeDuplicates: keeps the oldest row of each group of duplicates.
#
# The tutorial's "archiving ... duplicate data records". App settings it reads:
#   DEDUPE_TABLE   the table to clean (required)
#   DEDUPE_KEYS    the columns that make two rows duplicates, separated by
#                  commas, e.g. "author, text" (required)
# Of each group of rows with equal values in those columns (empty values
# count as equal), the row with the smallest id stays; the database does the
# work in one statement, so the run needs no memory for the rows. A key the
# table lacks (or a system column) fails the run with one line naming every
# missing one, before anything is deleted.


def removeDuplicates():
    settings = config.app_settings
    name = settings["DEDUPE_TABLE"]
    keys = [key.strip() for key in settings["DEDUPE_KEYS"].split(",") if key.strip()]
    if not keys:
        raise ValueError("DEDUPE_KEYS names no column; give column names separated by commas")

    table = tables.get_table(name)
    names = {c.name for c in table.columns if not c.system}
    missing = [key for key in keys if key not in names]
    if missing:
        raise ValueError(
            f"{table.name} has no column {', '.join(map(repr, missing))} (DEDUPE_KEYS); "
            "nothing was removed"
        )
    before = table.count()
    removed = table.delete_duplicates(*keys)
    console.log(
        f"Removed {removed} duplicate rows of {before} from {table.name} (same {', '.join(keys)})"
    )
