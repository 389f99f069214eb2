"""App settings scoped to jobs: `setting set KEY --jobs a,b`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The lower-case names of the jobs that see the setting, comma-separated;
    # NULL: every job (as before this revision).
    with op.batch_alter_table("app_settings") as batch:
        batch.add_column(sa.Column("jobs", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("app_settings") as batch:
        batch.drop_column("jobs")
