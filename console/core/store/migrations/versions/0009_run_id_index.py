"""Undo at scale: every user table's `__runId` is indexed (the rows a run
wrote are found without a scan), and runs remember which of their rows a
later write changed (`run_overwrites`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _index_name(table: str) -> str:
    # as tables/catalogue.py names a column's index
    return "ix_u_" + hashlib.sha1(f"{table}.__runId".encode()).hexdigest()[:16]


def upgrade() -> None:
    op.create_table(
        "run_overwrites",
        sa.Column(
            "run_id",
            sa.BigInteger,
            sa.ForeignKey("runs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("row_id", sa.BigInteger, primary_key=True),
    )
    conn = op.get_bind()
    for name in conn.execute(sa.text("SELECT name FROM user_tables")).scalars().all():
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes(name)}
        if _index_name(name) not in indexes:
            op.create_index(_index_name(name), name, ["__runId"])


def downgrade() -> None:
    conn = op.get_bind()
    for name in conn.execute(sa.text("SELECT name FROM user_tables")).scalars().all():
        op.drop_index(_index_name(name), table_name=name)
    op.drop_table("run_overwrites")
