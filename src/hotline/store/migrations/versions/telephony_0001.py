"""Telephony: call recordings kept with the contact.

Revision ID: telephony_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "telephony_0001"
down_revision = "0001_foundation"
branch_labels = ("telephony",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.String(128), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
    )
    op.create_index("ix_recordings_contact_id", "recordings", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_recordings_contact_id", table_name="recordings")
    op.drop_table("recordings")
