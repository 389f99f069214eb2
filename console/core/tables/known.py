"""What a run is given so that its first write reads nothing first: the
tables' columns as the supervisor read them when the run started
(`read_known`, taken by `TableStore.trust` in the run), and, in a fork
server, the statements of a write compiled once (`warm_up`) so that each
forked run shares SQLAlchemy's one-time work instead of redoing it
(docs/benchmarks.md, "A run's first write")."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from console.core.store import schema
from console.core.store.changes import Change, notify_statement
from console.core.store.database import Store
from console.core.tables.catalogue import Known, TableStore
from console.core.tables.values import KINDS, ColumnInfo

#: A run is given the tables' columns only up to this many in all; past it
#: each run reads the tables it opens itself.
MAX_KNOWN_COLUMNS = 2_000


def read_known(store: Store) -> Known | None:
    """Every user table's columns as committed now (one statement); None
    past MAX_KNOWN_COLUMNS."""
    tables, columns = schema.user_tables, schema.user_columns
    with store.read() as conn:
        rows = conn.execute(
            sa.select(tables.c.name, columns.c.name, columns.c.kind, columns.c.indexed)
            .select_from(tables.outerjoin(columns))
            .order_by(tables.c.name, columns.c.position)
            .limit(MAX_KNOWN_COLUMNS + 1)
        ).all()
    if len(rows) > MAX_KNOWN_COLUMNS:
        return None
    known: Known = {}
    for table, column, kind, indexed in rows:
        given = known.setdefault(table, [])
        if column is not None:
            given.append([column, kind, bool(indexed)])
    return known


def warm_up(conn: sa.Connection) -> None:
    """Compile what a run's first insert runs (an insert of every kind of
    column, returning the row, and its notice) and run one read, writing
    nothing (`prepare_engine`'s `warm`)."""
    columns = {kind: ColumnInfo(f"c_{kind}", kind) for kind in KINDS}
    table = TableStore._build("warm_up", {c.name: c for c in columns.values()})
    now = datetime.now(UTC)
    values = {"__createdAt": now, "__updatedAt": now, "__version": 1, "__runId": 1}
    table.insert().values(values).returning(*table.c).compile(dialect=conn.dialect)
    notice, _ = notify_statement([Change("rows", "warm_up", rows=1)], "warm_up")
    assert isinstance(notice, sa.ClauseElement)
    notice.compile(dialect=conn.dialect)
    conn.execute(sa.select(schema.user_tables.c.name).limit(1)).all()
