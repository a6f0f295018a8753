"""Invitations to connect a provider.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("inviter_id", sa.String(32), nullable=False),
        sa.Column("invitee_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("reminded_at", UTCDateTime()),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("dm_channel", sa.String(32)),
        sa.Column("dm_ts", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
    )
    op.create_index("ix_invitations_invitee", "invitations", ["team_id", "invitee_id", "provider", "status"])
    op.create_index("ix_invitations_inviter", "invitations", ["team_id", "inviter_id", "created_at"])
    op.create_index("ix_invitations_status_expires", "invitations", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_table("invitations")
