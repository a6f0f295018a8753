"""Provider connections, their history, and Quolum admins.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_reason", sa.Text()),
        sa.Column("account_id", sa.String(64)),
        sa.Column("account_name", sa.String(255)),
        sa.Column("details", sa.Text()),
        sa.Column("scopes", sa.Text()),
        sa.Column("unavailable", sa.Text()),
        sa.Column("credentials_enc", sa.Text()),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("token_lifetime", sa.Integer()),
        sa.Column("connected_by", sa.String(32)),
        sa.Column("connected_at", UTCDateTime()),
        sa.Column("last_used_at", UTCDateTime()),
        sa.Column("last_refreshed_at", UTCDateTime()),
        sa.Column("disconnected_by", sa.String(32)),
        sa.Column("disconnected_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_connections"),
        sa.UniqueConstraint("team_id", "provider", name="uq_connections_team_provider"),
    )
    op.create_table(
        "connection_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(32)),
        sa.Column("detail", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_connection_events"),
    )
    op.create_index("ix_connection_events_connection_id", "connection_events", ["connection_id"])
    op.create_table(
        "workspace_admins",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("granted_by", sa.String(32), nullable=False),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", name="pk_workspace_admins"),
    )


def downgrade() -> None:
    op.drop_table("workspace_admins")
    op.drop_index("ix_connection_events_connection_id", table_name="connection_events")
    op.drop_table("connection_events")
    op.drop_table("connections")
