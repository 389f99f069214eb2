"""`Query.iter` on PostgreSQL: rows streamed from a holdable cursor, so a
job can write to the table it is reading (SQLite streams without one)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles


class _DeclareHeld(sa.sql.expression.Executable, sa.sql.expression.ClauseElement):
    """PostgreSQL's `DECLARE name NO SCROLL CURSOR WITH HOLD FOR <select>`."""

    inherit_cache = False

    def __init__(self, name: str, select: sa.Select[Any]) -> None:
        self.name, self.select = name, select


@compiles(_DeclareHeld, "postgresql")
def _compile_declare_held(element: _DeclareHeld, compiler: Any, **kw: Any) -> str:
    name = compiler.preparer.quote(element.name)
    return f"DECLARE {name} NO SCROLL CURSOR WITH HOLD FOR {compiler.process(element.select, **kw)}"


def stream_held(engine: sa.Engine, stmt: sa.Select[Any], batch: int) -> Iterator[dict[str, Any]]:
    """Rows of `stmt` fetched `batch` at a time from a holdable cursor, which
    PostgreSQL materialises when the DECLARE commits: the read then holds no
    lock on the table, so the job may write to it, even add a column (an open
    plain read would block that ALTER TABLE forever, the job waiting on itself)."""
    name = f"console_iter_{uuid.uuid4().hex}"
    fetch = sa.text(f'FETCH FORWARD {int(batch)} FROM "{name}"').columns(*stmt.selected_columns)
    with engine.connect() as conn:
        conn.execute(_DeclareHeld(name, stmt))
        conn.commit()
        try:
            while True:
                rows = [dict(r._mapping) for r in conn.execute(fetch)]
                conn.commit()
                yield from rows
                if len(rows) < batch:
                    return
        finally:
            try:
                conn.rollback()
                conn.exec_driver_sql(f'CLOSE "{name}"')
                conn.commit()
            except sa.exc.SQLAlchemyError:
                conn.invalidate()  # never back to the pool with the cursor's rows held
