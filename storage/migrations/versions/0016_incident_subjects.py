"""Incidents get a subject: 'access' (the connection stopped working, as before) or 'seats' (free seats
ran out, issue 26 item 3), so one connection can have an open incident of each at once. The unique key
becomes (connection_id, subject, number): each subject numbers its own incidents.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(
            sa.Column("subject", sa.String(16), nullable=False, server_default=sa.text("'access'"))
        )
        batch.drop_constraint("uq_incidents_connection_number", type_="unique")
        batch.create_unique_constraint(
            "uq_incidents_connection_subject_number", ["connection_id", "subject", "number"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM incidents WHERE subject <> 'access'")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint("uq_incidents_connection_subject_number", type_="unique")
        batch.create_unique_constraint("uq_incidents_connection_number", ["connection_id", "number"])
        batch.drop_column("subject")
