"""`Query.iter` on PostgreSQL reads through a holdable cursor: the rows keep
coming while the job writes to the same table, even adding a column."""

from __future__ import annotations

import sqlalchemy as sa

from console.core.tables.held_cursor import stream_held


def test_rows_stream_in_batches_while_the_table_is_altered(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    metadata = sa.MetaData()
    table = sa.Table("Numbers", metadata, sa.Column("n", sa.Integer, primary_key=True))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"n": i} for i in range(25)])
    seen = []
    for row in stream_held(engine, sa.select(table).order_by(table.c.n), batch=10):
        seen.append(row["n"])
        if row["n"] == 3:  # a plain open read would make this ALTER wait forever
            with engine.begin() as conn:
                conn.exec_driver_sql('ALTER TABLE "Numbers" ADD COLUMN "extra" TEXT')
    assert seen == list(range(25))
    with engine.begin() as conn:  # nothing holds the table once the rows are read
        conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
        conn.exec_driver_sql('DROP TABLE "Numbers"')
    engine.dispose()
