"""The block types a workspace's Slack refused (the digest's chart), so its digests leave them out.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refused_blocks",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("block_type", sa.String(32), nullable=False),
        sa.Column("refused_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "block_type", name="pk_refused_blocks"),
    )


def downgrade() -> None:
    op.drop_table("refused_blocks")
