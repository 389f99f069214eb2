# archiveOld: moves old rows of a table into <table>_archive.
#
# The tutorial's "archiving old data records". App settings it reads:
#   ARCHIVE_TABLE        the table to archive from (required)
#   ARCHIVE_AFTER_DAYS   rows created more than this many days ago move (required)
#   ARCHIVE_BATCH        rows moved per transaction, default 10000
#   ARCHIVE_DATE_COLUMN  the date column that says how old a row is, default
#                        __createdAt; a table that lacks it, or whose column
#                        holds no dates, fails the run with one line, unmoved
# The archive keeps each row's id, system columns and values, and gains any
# column the table has. Each batch is moved in one transaction, so a run that
# is stopped midway leaves every row in exactly one of the two tables; the
# next run carries on.

from datetime import UTC, datetime, timedelta


def archiveOld():
    settings = config.app_settings
    name = settings["ARCHIVE_TABLE"]
    settings["ARCHIVE_AFTER_DAYS"]  # a missing setting is its own error
    try:
        days = number_setting(settings, "ARCHIVE_AFTER_DAYS", "", 0, 100_000)  # ~270 years
        batch = number_setting(settings, "ARCHIVE_BATCH", "10000", 1, 10_000_000, whole=True)
    except ValueError as e:  # one line naming the setting, no script frames
        raise ValueError(str(e)) from None

    column = (settings.get("ARCHIVE_DATE_COLUMN") or "__createdAt").strip()

    source = tables.get_table(name)
    kinds = {c.name: c.kind for c in source.columns}
    if column not in kinds:
        raise ValueError(f"{source.name} has no column {column!r} (ARCHIVE_DATE_COLUMN)")
    if kinds[column] != "datetime":
        raise ValueError(
            f"{source.name}.{column} holds {kinds[column]} values, not dates (ARCHIVE_DATE_COLUMN)"
        )
    archive = tables.get_table(f"{source.name}_archive", create=True)
    cutoff = datetime.now(UTC) - timedelta(days=days)
    old = source.where(**{f"{column}__lt": cutoff}).order_by("id").take(batch)
    console.log(f"Archiving rows of {source.name} with {column} before {cutoff:%Y-%m-%d %H:%M} UTC")
    moved = 0
    while True:
        count = old.move_to(archive)  # one transaction: copied and deleted together
        if count == 0:
            break
        moved += count
        console.log(f"Moved {moved} rows to {archive.name}")
    console.log(f"Archived {moved} rows; {source.count()} remain in {source.name}")


def number_setting(settings, name, default, low, high, whole=False):
    """The app setting `name` as a number from `low` to `high`, or one error naming it."""
    text = str(settings.get(name) or default).strip()
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:  # also refuses nan
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"{name} must be {kind} from {low:,} to {high:,}, not {text!r}")
    return value
