"""Dialled calls on the agent's desk: the call a campaign record is in, a campaign's queue.

A progressive or predictive call connected to an agent passes its record from the dialler to
that agent, who dispositions it from the desk: the record keeps the contact it is in
(``contact_id``), and the desk finds an agent's records by holder (``held_by``, ``status``).
A campaign may name the queue whose skill and proficiency rules choose which of its held
agents takes a connected call (``queue``).

Revision ID: campaigndesk_0001
Revises: 0001_foundation (a branch of its own, after campaigns_0001)
"""

import sqlalchemy as sa
from alembic import op

revision = "campaigndesk_0001"
down_revision = "0001_foundation"
branch_labels = ("campaigndesk",)
# The columns are the campaigns' tables'.
depends_on = ("campaigns_0001",)


def upgrade() -> None:
    op.add_column("campaign_records", sa.Column("contact_id", sa.String(64), nullable=True))
    op.create_index("ix_campaign_records_held", "campaign_records", ["held_by", "status"])
    op.add_column("campaigns", sa.Column("queue", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("queue")
    op.drop_index("ix_campaign_records_held", table_name="campaign_records")
    with op.batch_alter_table("campaign_records") as batch:
        batch.drop_column("contact_id")
