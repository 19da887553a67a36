"""Partition leases with fencing epochs, the partition inbox, the fenced writes' record, and
the stream tickets every web node can redeem.

Revision ID: cluster_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "cluster_0001"
down_revision = "0001_foundation"
branch_labels = ("cluster",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "partition_leases",
        sa.Column("partition", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("inbox_position", sa.BigInteger(), nullable=False),
        sa.Column("routing_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("partition", name=op.f("pk_partition_leases")),
    )
    op.create_table(
        "partition_inbox",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("partition", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("accepted_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partition_inbox")),
    )
    op.create_index("ix_partition_inbox_partition", "partition_inbox", ["partition", "id"])
    op.create_table(
        "partition_writes",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("partition", sa.String(64), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("inbox_position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partition_writes")),
    )
    op.create_index("ix_partition_writes_partition", "partition_writes", ["partition", "id"])
    op.create_table(
        "stream_tickets",
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_stream_tickets")),
    )
    op.create_index("ix_stream_tickets_expires_at", "stream_tickets", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_stream_tickets_expires_at", table_name="stream_tickets")
    op.drop_table("stream_tickets")
    op.drop_index("ix_partition_writes_partition", table_name="partition_writes")
    op.drop_table("partition_writes")
    op.drop_index("ix_partition_inbox_partition", table_name="partition_inbox")
    op.drop_table("partition_inbox")
    op.drop_table("partition_leases")
