"""Voice nodes with a heartbeat, and the contacts each one carries (issue #20).

Revision ID: voicenodes_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "voicenodes_0001"
down_revision = "0001_foundation"
branch_labels = ("voicenodes",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_nodes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("partition", sa.String(64), nullable=False),
        sa.Column("sip", sa.String(128), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("heartbeat_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("lost_at", sa.Float(), nullable=True),
        sa.Column("lost_epoch", sa.BigInteger(), nullable=True),
        sa.Column("logged_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_nodes")),
    )
    op.create_index("ix_voice_nodes_partition", "voice_nodes", ["partition", "lost_at"])
    op.create_table(
        "voice_legs",
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("stage", sa.String(16), nullable=True),
        sa.Column("opened_at", sa.Float(), nullable=False),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_voice_legs")),
    )
    op.create_index("ix_voice_legs_node", "voice_legs", ["node_id", "closed_at"])


def downgrade() -> None:
    op.drop_index("ix_voice_legs_node", table_name="voice_legs")
    op.drop_table("voice_legs")
    op.drop_index("ix_voice_nodes_partition", table_name="voice_nodes")
    op.drop_table("voice_nodes")
