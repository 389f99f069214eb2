"""Lineage: every user table gets `__runId` (the run that last wrote a row),
runs keep before-images of the rows they updated or deleted, and jobs keep
every saved script.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from console.core.store.schema import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_row_images",
        sa.Column(
            "run_id",
            sa.BigInteger,
            sa.ForeignKey("runs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("row_id", sa.BigInteger, primary_key=True),
        sa.Column("before", sa.Text, nullable=False),
    )
    op.create_table(
        "script_versions",
        sa.Column(
            "job_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("script", sa.Text, nullable=False),
        sa.Column("saved_at", UTCDateTime(), nullable=False),
    )
    conn = op.get_bind()
    names = conn.execute(sa.text("SELECT name FROM user_tables")).scalars().all()
    for name in names:  # rows written before lineage: no run wrote them, as far as we know
        if "__runId" not in {c["name"] for c in sa.inspect(conn).get_columns(name)}:
            op.add_column(name, sa.Column("__runId", sa.BigInteger, nullable=True))


def downgrade() -> None:
    conn = op.get_bind()
    for name in conn.execute(sa.text("SELECT name FROM user_tables")).scalars().all():
        with op.batch_alter_table(name) as batch:
            batch.drop_column("__runId")
    op.drop_table("run_row_images")
    op.drop_table("script_versions")
