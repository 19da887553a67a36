"""E-mail as contacts of the universal queue: one row per case a customer opens by mail.

Revision ID: emailcontacts_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "emailcontacts_0001"
down_revision = "0001_foundation"
branch_labels = ("emailcontacts",)
# The contacts point at the e-mail branch's mailboxes and the service desk's tickets.
depends_on = ("email_0001",)

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "email_contacts",
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=True),
        sa.Column("customer", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("first_email_id", BigIntId, nullable=False),
        sa.Column("last_email_id", BigIntId, nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_by", sa.String(16), nullable=False),
        sa.Column("ended_actor", sa.String(64), nullable=False),
        sa.Column("engine_told", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_email_contacts_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["email_mailboxes.id"],
            name=op.f("fk_email_contacts_mailbox_id_email_mailboxes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_email_contacts")),
    )
    op.create_index("ix_email_contacts_state", "email_contacts", ["state", "engine_told"])
    op.create_index("ix_email_contacts_ticket", "email_contacts", ["ticket_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_email_contacts_ticket", table_name="email_contacts")
    op.drop_index("ix_email_contacts_state", table_name="email_contacts")
    op.drop_table("email_contacts")
