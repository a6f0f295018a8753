"""Contract settings gain the local hour from which a day's renewal reminders go out (empty: 09:00 in
the workspace's timezone), so they reach a finance owner in working hours, not at local midnight.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contract_settings") as batch:
        batch.add_column(sa.Column("reminder_hour", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("contract_settings") as batch:
        batch.drop_column("reminder_hour")
