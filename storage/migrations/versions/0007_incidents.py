"""Connection health: incidents (one alert each), the latest check per connection, alert routes.

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0007"
down_revision = "0004"  # colleagues add 0005 and 0006: rechained at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("feature", sa.String(64)),
        sa.Column("failing_since", UTCDateTime(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("last_checked_at", UTCDateTime(), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("ts", sa.String(32)),
        sa.Column("reminded_at", UTCDateTime()),
        sa.Column("resolved_at", UTCDateTime()),
        sa.Column("resolved_by", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("connection_id", "number", name="uq_incidents_connection_number"),
    )
    op.create_index("ix_incidents_open", "incidents", ["team_id", "resolved_at"])
    op.create_table(
        "connection_checks",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("last_checked_at", UTCDateTime(), nullable=False),
        sa.Column("last_ok_at", UTCDateTime()),
        sa.Column("failing_since", UTCDateTime()),
        sa.PrimaryKeyConstraint("connection_id", name="pk_connection_checks"),
    )
    op.create_table(
        "alert_routes",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("set_by", sa.String(32), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name="pk_alert_routes"),
    )


def downgrade() -> None:
    op.drop_table("alert_routes")
    op.drop_table("connection_checks")
    op.drop_index("ix_incidents_open", table_name="incidents")
    op.drop_table("incidents")
