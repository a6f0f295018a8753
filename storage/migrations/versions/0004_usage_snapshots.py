"""Usage snapshots: one report per connection and period, for digests and trends.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("period_start", sa.String(10), nullable=False),
        sa.Column("period_end", sa.String(10), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("collected_at", UTCDateTime(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_snapshots"),
        sa.UniqueConstraint(
            "team_id",
            "provider",
            "account_id",
            "period_start",
            "period_end",
            name="uq_usage_snapshots_period",
        ),
    )
    op.create_index("ix_usage_snapshots_trend", "usage_snapshots", ["team_id", "provider", "period_end"])


def downgrade() -> None:
    op.drop_table("usage_snapshots")
