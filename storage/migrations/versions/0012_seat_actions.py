"""Acting on idle seats: asks and their batches, reclaims, exemptions, links, policies, the audit log.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def _seat_columns() -> list[sa.Column]:
    return [
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("seat", sa.Text(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "seat_ask_batches",
        _id(),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("asked_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("ts", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_seat_ask_batches"),
    )
    op.create_table(
        "seat_asks",
        _id(),
        *_seat_columns(),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("asked_by", sa.String(32), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("reminded_at", UTCDateTime()),
        sa.Column("dm_channel", sa.String(32)),
        sa.Column("dm_ts", sa.String(32)),
        sa.Column("answer", sa.String(16)),
        sa.Column("answered_at", UTCDateTime()),
        sa.Column("reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_seat_asks"),
        sa.UniqueConstraint("connection_id", "user_id", "round", name="uq_seat_asks_round"),
    )
    op.create_index("ix_seat_asks_open", "seat_asks", ["answer", "asked_at"])
    op.create_table(
        "seat_reclaims",
        _id(),
        *_seat_columns(),
        sa.Column("requested_by", sa.String(32), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("sentence", sa.Text()),
        sa.Column("answer", sa.Text()),
        sa.Column("undo", sa.Text()),
        sa.Column("effective", sa.String(10)),
        sa.Column("monthly_minor", sa.Integer()),
        sa.Column("currency", sa.String(3)),
        sa.Column("saves", sa.Boolean(), nullable=False),
        sa.Column("done_at", UTCDateTime()),
        sa.Column("undone_at", UTCDateTime()),
        sa.Column("undone_by", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_seat_reclaims"),
        sa.UniqueConstraint("connection_id", "user_id", "round", name="uq_seat_reclaims_round"),
    )
    op.create_index("ix_seat_reclaims_team", "seat_reclaims", ["team_id", "state"])
    op.create_table(
        "seat_exemptions",
        _id(),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("until", UTCDateTime()),
        sa.Column("reason", sa.Text()),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_seat_exemptions"),
        sa.UniqueConstraint("team_id", "provider", "subject", name="uq_seat_exemptions_subject"),
    )
    op.create_table(
        "seat_links",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("login", sa.String(255), nullable=False),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("linked_by", sa.String(32), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "provider", "login", name="pk_seat_links"),
    )
    op.create_table(
        "seat_policies",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("cooldown_days", sa.Integer(), nullable=False),
        sa.Column("reminder_days", sa.String(32), nullable=False),
        sa.Column("keep_days", sa.Integer(), nullable=False),
        sa.Column("reclaim_on_release", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name="pk_seat_policies"),
    )
    op.create_table(
        "seat_audit",
        _id(),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32)),
        sa.Column("subject", sa.String(255)),
        sa.Column("detail", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_seat_audit"),
    )
    op.create_index("ix_seat_audit_team_at", "seat_audit", ["team_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_seat_audit_team_at", table_name="seat_audit")
    op.drop_index("ix_seat_reclaims_team", table_name="seat_reclaims")
    op.drop_index("ix_seat_asks_open", table_name="seat_asks")
    for table in (
        "seat_audit",
        "seat_policies",
        "seat_links",
        "seat_exemptions",
        "seat_reclaims",
        "seat_asks",
        "seat_ask_batches",
    ):
        op.drop_table(table)
