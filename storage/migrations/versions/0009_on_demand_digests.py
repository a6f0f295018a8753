"""On-demand digests: the last one `/quolum digest send` posted in each workspace, for App Home.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "on_demand_digests",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("posted_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name="pk_on_demand_digests"),
    )


def downgrade() -> None:
    op.drop_table("on_demand_digests")
