"""Digest deliveries remember when a post to Slack was started (an answer may never come back).

A delivery whose earlier attempt started a post is looked up in the channel's history before it is
posted again; `state` gains the value `uncertain` (no way to look: never posted twice, the subscriber
is told). The claim's version, which fences every write of a claimed delivery, is `attempts`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digest_deliveries") as batch:
        batch.add_column(sa.Column("post_started_at", UTCDateTime()))


def downgrade() -> None:
    with op.batch_alter_table("digest_deliveries") as batch:
        batch.drop_column("post_started_at")
