"""The SMS channel: the SMSC gateway, the messages sent (or refused) and their receipts.

Revision ID: sms_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "sms_0001"
down_revision = "0001_foundation"
branch_labels = ("sms",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sms_messages",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("to_number", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("message_ids", sa.Text(), nullable=False),
        sa.Column("parts_delivered", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
    )
    op.create_table(
        "sms_gateways",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.String(16), nullable=False),
        sa.Column("password", sa.Text(), nullable=False),
        sa.Column("source_addr", sa.String(21), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sms_gateways")),
    )


def downgrade() -> None:
    op.drop_table("sms_gateways")
    op.drop_table("sms_messages")
