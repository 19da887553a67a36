"""Inbound SMS: every customer's SMS to the center, and the conversation it went to.

Revision ID: smsinbound_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "smsinbound_0001"
down_revision = "0001_foundation"
branch_labels = ("smsinbound",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sms_inbound",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("from_number", sa.String(32), nullable=False),
        sa.Column("to_number", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_inbound")),
    )
    op.create_index("ix_sms_inbound_from", "sms_inbound", ["from_number", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_sms_inbound_from", table_name="sms_inbound")
    op.drop_table("sms_inbound")
