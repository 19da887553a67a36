"""The customer's contact history names each contact's queue and outcome.

A contact on any channel (call, chat, WeChat, SMS, e-mail) lands in the customer's history
with the queue that served it and how it ended (answered, abandoned…), so the customer page
and the desk's screen pop can show them without reading the event log. Older rows keep null.

Revision ID: contacthistory_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "contacthistory_0001"
down_revision = "0001_foundation"
branch_labels = ("contacthistory",)
# The customer_contacts table is the service desk's.
depends_on = ("servicedesk_0001",)


def upgrade() -> None:
    with op.batch_alter_table("customer_contacts") as batch:
        batch.add_column(sa.Column("queue", sa.String(64), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_contacts") as batch:
        batch.drop_column("outcome")
        batch.drop_column("queue")
