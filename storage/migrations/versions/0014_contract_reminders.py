"""Renewal reminders: one row per (contract, dates revision, stage), the claim that makes it go out once.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract_reminders",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("dates_rev", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("answer", sa.String(16)),
        sa.Column("answered_by", sa.String(32)),
        sa.Column("snoozed_until", UTCDateTime()),
        sa.PrimaryKeyConstraint("team_id", "provider", "dates_rev", "stage", name="pk_contract_reminders"),
    )


def downgrade() -> None:
    op.drop_table("contract_reminders")
