"""Undo of a whole run: rows it inserted are deleted, rows it updated or
deleted are put back from their before-images (`tables.lineage`).

A row a later write changed (its `__runId` no longer names the run; for a
row it inserted, `run_overwrites` says so) is a conflict, left alone unless
forced. Each row's undo is one transaction with its batch, its image for the
undo's own undo in the same one, so a kill leaves every row either undone
or as it was. The undo is itself recorded as a run (trigger "undo") whose
writes keep their own before-images: an undo can be undone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import NoResultFound

from console.core.errors import ConsoleError
from console.core.jobs.runs import Run, RunLog
from console.core.store import schema
from console.core.store.changes import Change
from console.core.tables import lineage
from console.core.tables.catalogue import TableStore

#: Rows put back from their images in one transaction.
BATCH = 1000
#: Inserted rows deleted, or deleted rows put back, in one transaction
#: (one statement each way).
DELETE_BATCH = 100_000
UNDO_TRIGGER = "undo"
DRY_RUN_TRIGGER = "dry run"


@dataclass
class UndoResult:
    """What an undo did: the undo's own run, and the counts."""

    run: Run
    undone: int
    deleted: int = 0
    restored: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """As the command line's contract has it (the undo's own run is in `run`)."""
        return {
            "run": self.undone,
            "deleted": self.deleted,
            "restored": self.restored,
            "conflicts": list(self.conflicts),
        }


def undoable(runs: RunLog, run_id: int, *, force: bool = False) -> Run:
    """The run `run_id`, if it can be undone; else ConsoleError saying why
    (`force`: again, after an undo that left some of its rows alone)."""
    try:
        run = runs.get(run_id)
    except NoResultFound:
        raise ConsoleError(
            f"no run {run_id} (or it is older than the log retention, and its "
            "before-images were pruned with its log)"
        ) from None
    if run.status == "running":
        raise ConsoleError(f"run {run_id} is still running; wait for it to end, then undo it")
    if run.trigger == DRY_RUN_TRIGGER:
        raise ConsoleError(f"run {run_id} was a dry run: it wrote nothing to undo")
    undone_by = None if force else _standing_undo(runs, run)
    if undone_by is not None:
        raise ConsoleError(
            f"run {run_id} was undone already, by run {undone_by}: undo run {undone_by} to "
            "put its changes back, or --force to undo again what that undo left alone"
        )
    return run


def _said(run_id: int) -> str:
    """How an undo's log names the run it undid (`_standing_undo` reads it)."""
    return f"Undo of run {run_id}:"


def _standing_undo(runs: RunLog, run: Run) -> int | None:
    """The latest undo of `run` that succeeded and was not undone itself."""
    said = _said(run.id)
    for entry in runs.entries(job_name=run.job_name, text=said, newest_first=True, limit=20):
        if entry.run_id is None or not entry.message.startswith(said):
            continue
        undo = runs.get(entry.run_id)
        if undo.trigger == UNDO_TRIGGER and undo.status == "succeeded":
            return None if _standing_undo(runs, undo) is not None else undo.id
    return None


def undo_run(
    runs: RunLog, tables: TableStore, run_id: int, owner: str, *, force: bool = False
) -> UndoResult:
    """Undo the run `run_id` (see the module); `tables` must write as no run."""
    target = undoable(runs, run_id, force=force)
    undo = runs.start(target.job_id, target.job_name, UNDO_TRIGGER, owner)
    result = UndoResult(undo, target.id)
    writer = TableStore(tables.store, tables.clock, run_id=undo.id)
    try:
        for info in tables.all():
            _undo_table(writer, info.name, target.id, force, result)
    except BaseException as e:
        runs.finish(undo.id, "failed", f"the undo failed: {type(e).__name__}: {e}", 0)
        raise
    done = result.deleted + result.restored
    left = f", {len(result.conflicts)} changed since and left alone" if result.conflicts else ""
    said = f"{_said(target.id)} {result.deleted} deleted, {result.restored} restored{left}"
    runs.log(target.job_name, "information", said, run_id=undo.id)
    runs.finish(undo.id, "succeeded", None, done)
    result.run = runs.get(undo.id)
    return result


def _undo_table(
    tables: TableStore, name: str, target: int, force: bool, result: UndoResult
) -> None:
    store = tables.store
    sa_table, columns = tables.load(name, refresh=True)
    images_table = schema.run_row_images
    imaged = sa.select(images_table.c.row_id).where(
        images_table.c.run_id == target, images_table.c.table_name == name
    )
    # The rows it inserted: its `__runId` and no image of its own.
    inserted = sa.and_(sa_table.c["__runId"] == target, sa_table.c.id.not_in(imaged))
    _delete(tables, sa_table, columns, inserted, result, note=False)
    # The rows it inserted that a later write changed since.
    later = sa.and_(
        sa_table.c.id.in_(lineage.overwritten(target, name)), sa_table.c.id.not_in(imaged)
    )
    if force:
        _delete(tables, sa_table, columns, later, result, note=True)
    else:
        with store.read() as conn:
            found = conn.execute(sa.select(sa_table.c.id).where(later).order_by(sa_table.c.id))
            changed = [int(i) for i in found.scalars()]
            back = lineage.as_left_by(conn, target, sa_table, changed, _undos())
        undone = set(back)
        result.conflicts.extend({"table": name, "id": i} for i in changed if i not in undone)
        for chunk in lineage.in_chunks(back):  # changed, and undone since: no one else's change
            # Still written by an undo (a write since would name its own run).
            still = sa.and_(sa_table.c.id.in_(chunk), sa_table.c["__runId"].in_(_undos()))
            _delete(tables, sa_table, columns, still, result, note=True)
    if lineage.restores_in_sql(store.dialect, columns):
        _restore_in_sql(tables, sa_table, columns, target, force, result)
        return
    # SQLite cannot put bytes back in SQL: row by row, `BATCH` images a
    # transaction, read by row id (bounded memory).
    last: int | None = None
    while True:
        with store.read() as conn:
            befores = [
                (row_id, before)
                for _, row_id, before in lineage.images(conn, target, name, after=last, limit=BATCH)
            ]
        if not befores:
            break
        with store.write() as conn:
            for row_id, before in befores:
                _restore(conn, tables, sa_table, columns, row_id, before, target, force, result)
            store.announce(conn, Change("rows", name))
        last = befores[-1][0]


def _restore_in_sql(
    tables: TableStore,
    sa_table: sa.Table,
    columns: Any,
    target: int,
    force: bool,
    result: UndoResult,
) -> None:
    """Put back the rows the run updated (still there) and deleted (gone),
    from their images in SQL, `DELETE_BATCH` images a transaction in row id
    order."""
    store, last = tables.store, None
    images_table = schema.run_row_images
    ids = (
        sa.select(images_table.c.row_id)
        .where(images_table.c.run_id == target, images_table.c.table_name == sa_table.name)
        .order_by(images_table.c.row_id)
    )
    assert tables.run_id is not None
    while True:
        with store.write() as conn:
            after = ids if last is None else ids.where(images_table.c.row_id > last)
            high = conn.execute(after.offset(DELETE_BATCH - 1).limit(1)).scalar()
            now = tables.clock()
            updated, left = lineage.restore_present(
                conn, target, tables.run_id, sa_table, columns, now, (last, high), force
            )
            put_back = lineage.restore_absent(
                conn, target, tables.run_id, sa_table, columns, now, last, high
            )
            if updated or put_back:
                store.announce(conn, Change("rows", sa_table.name))
            result.restored += updated + put_back
            back = lineage.as_left_by(conn, target, sa_table, left, _undos())
            for chunk in lineage.in_chunks(back):  # changed, and undone since
                result.restored += lineage.restore_present(
                    conn, target, tables.run_id, sa_table, columns, now, (last, high), True, chunk
                )[0]
            undone = set(back)
            conflicts = [i for i in left if i not in undone]
            result.conflicts.extend({"table": sa_table.name, "id": i} for i in conflicts)
        if high is None:
            return
        last = high


def _undos() -> sa.Select[tuple[int]]:
    """The ids of undo runs: a row one of them wrote last, back as the run
    being undone left it, is no conflict (`lineage.as_left_by`)."""
    return sa.select(schema.runs.c.id).where(schema.runs.c.trigger == UNDO_TRIGGER)


def _delete(
    tables: TableStore,
    sa_table: sa.Table,
    columns: Any,
    chosen: sa.ColumnElement[bool],
    result: UndoResult,
    *,
    note: bool,
) -> None:
    """Delete the rows `chosen` picks, `DELETE_BATCH` a transaction in id
    order, each batch's images (the undo's own, so it can be undone) kept in
    the same transaction; `note`: tell the runs that wrote them last."""
    store, last = tables.store, None
    while True:
        with store.write() as conn:
            window = chosen if last is None else sa.and_(chosen, sa_table.c.id > last)
            bound = sa.select(sa_table.c.id).where(window).order_by(sa_table.c.id)
            high = conn.execute(bound.offset(DELETE_BATCH - 1).limit(1)).scalar()
            if high is not None:
                window = sa.and_(window, sa_table.c.id <= high)
            if note:
                lineage.note_overwrites(conn, tables.run_id, sa_table, window)
            assert tables.run_id is not None
            lineage.keep_deleted(conn, tables.run_id, sa_table, window)
            deleted = int(conn.execute(sa_table.delete().where(window)).rowcount)
            if deleted:
                store.announce(conn, Change("rows", sa_table.name))
            result.deleted += deleted
        if high is None:
            return
        last = high


def _restore(
    conn: sa.Connection,
    tables: TableStore,
    sa_table: sa.Table,
    columns: Any,
    row_id: int,
    before: dict[str, Any],
    target: int,
    force: bool,
    result: UndoResult,
) -> None:
    """Put row `row_id` back as `before` (its image kept by run `target`),
    unless a later change still stands (a conflict) and not `force`."""
    current = conn.execute(
        sa.select(sa_table.c["__runId"], sa_table.c["__version"]).where(sa_table.c.id == row_id)
    ).first()
    values = lineage.decoded(before, columns)
    values.pop("id", None)
    values["__runId"] = tables.run_id
    values["__updatedAt"] = tables.clock()
    if current is None:  # the run deleted it: put it back, with its id
        values["__version"] = int(before.get("__version") or 0) + 1
        conn.execute(sa_table.insert().values(id=row_id, **values))
        result.restored += 1
        return
    changed = current[0] != target and not force
    if changed and not lineage.as_left_by(conn, target, sa_table, [row_id], _undos()):
        result.conflicts.append({"table": sa_table.name, "id": row_id})
        return
    lineage.keep_before(conn, tables.run_id, sa_table, sa_table.c.id == row_id)
    values["__version"] = int(current[1]) + 1
    conn.execute(sa_table.update().where(sa_table.c.id == row_id).values(**values))
    result.restored += 1
