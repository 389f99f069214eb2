"""Jobs get a language (python or javascript); URL-prefix redirects for jobs'
HTTP requests.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from console.core.store.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("language", sa.String(16), nullable=False, server_default="python")
        )
    op.create_table(
        "redirects",
        sa.Column("from_prefix", sa.String(2000), primary_key=True),
        sa.Column("to_prefix", sa.String(2000), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("redirects")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("language")
