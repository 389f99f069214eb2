"""`ALTER TABLE … ADD COLUMN` with both names quoted by SQLAlchemy, on both
databases: a name no user should give still cannot escape its quotes."""

from __future__ import annotations

import sqlalchemy as sa

from console.core.tables.ddl import AddColumn


def test_a_column_is_added_with_its_name_quoted(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    metadata = sa.MetaData()
    table = sa.Table('we"ird table', metadata, sa.Column("id", sa.Integer, primary_key=True))
    metadata.create_all(engine)
    added = sa.Column('x"); DROP TABLE jobs; --', sa.Text)
    with engine.begin() as conn:
        conn.execute(AddColumn(table, added))
    columns = [c["name"] for c in sa.inspect(engine).get_columns('we"ird table')]
    assert columns == ["id", 'x"); DROP TABLE jobs; --']
    engine.dispose()


def test_the_statement_reads_as_the_dialect_quotes_it() -> None:
    table = sa.Table("Updates", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    ddl = AddColumn(table, sa.Column("twitterId", sa.BigInteger))
    text = str(ddl.compile(dialect=sa.create_engine("sqlite://").dialect))
    assert text == 'ALTER TABLE "Updates" ADD COLUMN "twitterId" BIGINT'
