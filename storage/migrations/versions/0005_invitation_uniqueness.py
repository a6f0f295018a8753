"""Invitations: one open invitation per invitee and provider, and a row per sender to lock while the
daily limit is counted. OAuth states: the hash of the browser-binding cookie (issue 10).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Duplicates from before the unique key: keep each invitee's newest open invitation, expire the rest.
    op.execute(
        """
        UPDATE invitations SET status = 'expired', closed_at = created_at
        WHERE status = 'open' AND EXISTS (
            SELECT 1 FROM invitations newer
            WHERE newer.status = 'open' AND newer.team_id = invitations.team_id
              AND newer.invitee_id = invitations.invitee_id AND newer.provider = invitations.provider
              AND (newer.created_at > invitations.created_at
                   OR (newer.created_at = invitations.created_at AND newer.id > invitations.id))
        )
        """
    )
    op.create_index(
        "uq_invitations_open",
        "invitations",
        ["team_id", "invitee_id", "provider"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "invitation_senders",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("inviter_id", sa.String(32), nullable=False),
        sa.Column("last_reserved_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "inviter_id", name="pk_invitation_senders"),
    )
    with op.batch_alter_table("oauth_states") as batch:
        batch.add_column(sa.Column("browser_hash", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("oauth_states") as batch:
        batch.drop_column("browser_hash")
    op.drop_table("invitation_senders")
    op.drop_index("uq_invitations_open", table_name="invitations")
