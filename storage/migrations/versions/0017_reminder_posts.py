"""Renewal reminders are posted exactly once: a row per destination (the owner's DM, the alerts
channel, a *Remind me later* DM), claimed with a lease and fenced by its attempts, as digest deliveries
are. The reminder rows already there were sent (at most once, as it was then): they get no post rows,
so nothing is posted for them again. Contract settings gain the IANA timezone whose days the reminders
count (empty: the workspace's digest subscription's, else UTC).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract_reminder_posts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("dates_rev", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("lease_until", UTCDateTime()),
        sa.Column("post_started_at", UTCDateTime()),
        sa.Column("posted_at", UTCDateTime()),
        sa.Column("channel_id", sa.String(32)),
        sa.Column("ts", sa.String(32)),
        sa.Column("error", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contract_reminder_posts"),
        sa.UniqueConstraint(
            "team_id", "provider", "dates_rev", "stage", "destination", name="uq_contract_reminder_posts_key"
        ),
    )
    op.create_index("ix_contract_reminder_posts_pending", "contract_reminder_posts", ["state", "lease_until"])
    with op.batch_alter_table("contract_settings") as batch:
        batch.add_column(sa.Column("timezone", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("contract_settings") as batch:
        batch.drop_column("timezone")
    op.drop_index("ix_contract_reminder_posts_pending", "contract_reminder_posts")
    op.drop_table("contract_reminder_posts")
