"""Where agents' phones are registered, one row per voice node run and agent (issue #20).

A new partition owner reads it on takeover instead of every ``phone_registered`` /
``phone_unregistered`` row of the partition inbox, so the owner can prune the inbox.

Revision ID: voicephones_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "voicephones_0001"
down_revision = "0001_foundation"
branch_labels = ("voicephones",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_phones",
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("partition", sa.String(64), nullable=False),
        sa.Column("since", sa.Float(), nullable=False),
        sa.Column("inbox_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", "agent_id", name=op.f("pk_voice_phones")),
    )
    op.create_index("ix_voice_phones_partition", "voice_phones", ["partition"])


def downgrade() -> None:
    op.drop_index("ix_voice_phones_partition", table_name="voice_phones")
    op.drop_table("voice_phones")
