"""The console's own tables: the migrations build exactly what `schema`
declares, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from console.core.errors import ConsoleError
from console.core.store import schema
from console.core.store.database import HEAD_REVISION, MIGRATIONS_DIR, Store
from console.core.tables.catalogue import TableStore


def test_head_revision_constant_matches_the_migrations() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


def test_migrations_build_exactly_the_declared_schema(db_url: str) -> None:
    store = Store(db_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    assert diff == []


def test_no_user_table_may_take_the_name_of_a_console_table(db_url: str) -> None:
    store = Store(db_url)
    assert set(schema.metadata.tables) <= set(sa.inspect(store.engine).get_table_names())
    tables = TableStore(store)
    for name in ("jobs", "runs", "log_entries", "settings", "user_tables"):
        assert name in schema.metadata.tables
        with pytest.raises(ConsoleError, match="one of the console's own tables"):
            tables.create(name)
