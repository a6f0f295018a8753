"""Issued tokens: provider tokens between the OAuth code exchange and their storing (revoked if lost).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("team_id", sa.String(32)),
        sa.Column("credentials_enc", sa.Text(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_issued_tokens"),
    )
    op.create_index("ix_issued_tokens_issued_at", "issued_tokens", ["issued_at"])


def downgrade() -> None:
    op.drop_index("ix_issued_tokens_issued_at", table_name="issued_tokens")
    op.drop_table("issued_tokens")
