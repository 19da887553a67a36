"""Desks' requests to voice nodes: click-to-dial and transfers to outside numbers (issue #20).

Revision ID: voicerequests_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "voicerequests_0001"
down_revision = "0001_foundation"
branch_labels = ("voicerequests",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "voice_requests",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("partition", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_requests")),
    )
    op.create_index("ix_voice_requests_pending", "voice_requests", ["partition", "state", "id"])


def downgrade() -> None:
    op.drop_index("ix_voice_requests_pending", table_name="voice_requests")
    op.drop_table("voice_requests")
