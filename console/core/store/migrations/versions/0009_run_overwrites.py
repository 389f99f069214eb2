"""Undo at scale: runs remember which of their rows a later write changed
(`run_overwrites`), and which script version they ran
(`runs.script_version`). (`__runId` is not indexed: the index cost a job's
inserts 12-15 % and saved an undo nothing measurable; docs/benchmarks.md.)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


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
    op.add_column("runs", sa.Column("script_version", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("script_version")
    op.drop_table("run_overwrites")
