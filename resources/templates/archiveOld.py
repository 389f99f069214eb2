# archiveOld: moves old rows of a table into <table>_archive.
#
# The tutorial's "archiving old data records". App settings it reads:
#   ARCHIVE_TABLE        the table to archive from (required)
#   ARCHIVE_AFTER_DAYS   rows created more than this many days ago move (required)
#   ARCHIVE_BATCH        rows moved per transaction, default 10000
# The archive keeps each row's id, system columns and values, and gains any
# column the table has. Each batch is moved in one transaction, so a run that
# is stopped midway leaves every row in exactly one of the two tables; the
# next run carries on.

from datetime import UTC, datetime, timedelta


def archiveOld():
    settings = config.app_settings
    name = settings["ARCHIVE_TABLE"]
    days_text = settings["ARCHIVE_AFTER_DAYS"].strip()
    batch_text = (settings.get("ARCHIVE_BATCH") or "10000").strip()
    if not days_text.replace(".", "", 1).isdigit():
        raise ValueError(f"ARCHIVE_AFTER_DAYS must be a number of days, not {days_text!r}")
    if not batch_text.isdigit() or int(batch_text) < 1:
        raise ValueError(f"ARCHIVE_BATCH must be a whole number ≥ 1, not {batch_text!r}")
    days, batch = float(days_text), int(batch_text)

    source = tables.get_table(name)
    archive = tables.get_table(f"{source.name}_archive", create=True)
    cutoff = datetime.now(UTC) - timedelta(days=days)
    old = source.where(__createdAt__lt=cutoff).order_by("id").take(batch)
    console.log(f"Archiving rows of {source.name} created before {cutoff:%Y-%m-%d %H:%M} UTC")
    moved = 0
    while True:
        count = old.move_to(archive)  # one transaction: copied and deleted together
        if count == 0:
            break
        moved += count
        console.log(f"Moved {moved} rows to {archive.name}")
    console.log(f"Archived {moved} rows; {source.count()} remain in {source.name}")
