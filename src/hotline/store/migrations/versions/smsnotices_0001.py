"""SMS notices by rule: one row per occasion (a visit's reminder, a follow-up call's notice).

``occasion`` is unique, so a notice goes out once at most, even when two sweeps race or one
crashes between recording the notice and sending it.

Revision ID: smsnotices_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "smsnotices_0001"
down_revision = "0001_foundation"
branch_labels = ("smsnotices",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sms_notices",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("occasion", sa.String(96), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("to_number", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=False),
        sa.Column("next_try_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_notices")),
        sa.UniqueConstraint("occasion", name="uq_sms_notices_occasion"),
    )
    op.create_index("ix_sms_notices_state_next", "sms_notices", ["state", "next_try_at"])


def downgrade() -> None:
    op.drop_index("ix_sms_notices_state_next", table_name="sms_notices")
    op.drop_table("sms_notices")
