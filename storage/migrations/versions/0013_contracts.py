"""Contracts (seats bought, price, dates, notice, owner) replace seat prices; contract settings.

Every seat price becomes a contract with that monthly price and nothing else known yet.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contracts",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("seats", sa.Integer()),
        sa.Column("price_minor", sa.Integer()),
        sa.Column("period", sa.String(8)),
        sa.Column("currency", sa.String(3)),
        sa.Column("starts_on", sa.Date()),
        sa.Column("renews_on", sa.Date()),
        sa.Column("notice_days", sa.Integer()),
        sa.Column("auto_renews", sa.Boolean()),
        sa.Column("owner", sa.String(32)),
        sa.Column("dates_rev", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "provider", name="pk_contracts"),
    )
    op.create_table(
        "contract_settings",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("reminder_days", sa.String(64), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name="pk_contract_settings"),
    )
    op.execute(
        "INSERT INTO contracts (team_id, provider, price_minor, period, currency, dates_rev, updated_by, "
        "updated_at) SELECT team_id, provider, amount_minor, 'month', currency, 0, set_by, set_at "
        "FROM seat_prices"
    )
    op.drop_table("seat_prices")


def downgrade() -> None:
    prices = [  # as 0006 made it
        ("team_id", sa.String(32)),
        ("provider", sa.String(32)),
        ("amount_minor", sa.Integer()),
        ("currency", sa.String(3)),
        ("set_by", sa.String(32)),
        ("set_at", UTCDateTime()),
    ]
    op.create_table(
        "seat_prices",
        *(sa.Column(name, kind, nullable=False) for name, kind in prices),
        sa.PrimaryKeyConstraint("team_id", "provider", name="pk_seat_prices"),
    )
    # a yearly price back as a monthly one, rounded half up; contracts without a price had none
    op.execute(
        "INSERT INTO seat_prices (team_id, provider, amount_minor, currency, set_by, set_at) "
        "SELECT team_id, provider, CASE WHEN period = 'year' THEN (price_minor * 2 + 12) / 24 "
        "ELSE price_minor END, currency, updated_by, updated_at FROM contracts "
        "WHERE price_minor IS NOT NULL"
    )
    op.drop_table("contract_settings")
    op.drop_table("contracts")
