"""DDL that SQLAlchemy Core lacks and user tables need, compiled with
SQLAlchemy's quoting on every dialect."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import ExecutableDDLElement


class AddColumn(ExecutableDDLElement):
    """`ALTER TABLE t ADD COLUMN c`, both names quoted by SQLAlchemy. Ours
    rather than Alembic's so a job's first new property does not load
    Alembic (0.1 s) in its script host."""

    inherit_cache = False

    def __init__(self, table: sa.Table, column: sa.Column[Any]) -> None:
        self.table, self.column = table, column


@compiles(AddColumn)
def _compile_add_column(element: AddColumn, compiler: Any, **_kw: Any) -> str:
    table = compiler.preparer.format_table(element.table)
    return f"ALTER TABLE {table} ADD COLUMN {compiler.get_column_specification(element.column)}"
