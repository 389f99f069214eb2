"""Many rows in one executemany: every value stored as SQLAlchemy would have
stored it, constants in every row, awkward column names quoted."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from console.core.tables.bulk_insert import bulk_insert


def _table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "Things",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("n", sa.BigInteger),
        sa.Column("word", sa.Text),
        sa.Column("a b%(x)s", sa.Text),  # spaces, a percent sign, a paramstyle lookalike
        sa.Column("at", sa.DateTime(timezone=True)),
        sa.Column("flag", sa.Boolean),
    )


def test_columns_and_constants_land_in_every_row(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    metadata = sa.MetaData()
    table = _table(metadata)
    metadata.create_all(engine)
    when = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    count = 2_500
    with engine.begin() as conn:
        bulk_insert(
            conn,
            table,
            count,
            {"n": list(range(count)), "word": [f"w{i}" for i in range(count)]},
            {"a b%(x)s": "odd name", "at": when, "flag": True},
        )
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table).order_by(table.c.n)).all()
    assert len(rows) == count
    assert [r.n for r in rows] == list(range(count))
    assert rows[7].word == "w7" and rows[7]._mapping["a b%(x)s"] == "odd name"
    assert all(r.flag is True for r in rows)
    assert rows[-1].at.replace(tzinfo=UTC) == when  # stored as the column's type stores it
    engine.dispose()


def test_nothing_to_insert_sends_nothing(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    metadata = sa.MetaData()
    table = _table(metadata)
    metadata.create_all(engine)
    with engine.begin() as conn:
        bulk_insert(conn, table, 0, {"n": []}, {"flag": False})
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0
    engine.dispose()
