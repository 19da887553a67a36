"""Metrics: imported contact records.

Revision ID: metrics_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "metrics_0001"
down_revision = "0001_foundation"
branch_labels = ("metrics",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contact_records",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("contact_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("customer", sa.String(128), nullable=True),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("arrived_at", sa.Float(), nullable=False),
        sa.Column("queued_at", sa.Float(), nullable=True),
        sa.Column("answered_at", sa.Float(), nullable=True),
        sa.Column("abandoned_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=False),
        sa.Column("hold_s", sa.Float(), nullable=False),
        sa.Column("wrap_s", sa.Float(), nullable=False),
        sa.Column("transferred", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_records")),
        sa.UniqueConstraint("source", "contact_id", name="uq_contact_records_source_contact"),
    )
    op.create_index("ix_contact_records_queued_at", "contact_records", ["queued_at"])
    op.create_index("ix_contact_records_arrived_at", "contact_records", ["arrived_at"])


def downgrade() -> None:
    op.drop_index("ix_contact_records_arrived_at", table_name="contact_records")
    op.drop_index("ix_contact_records_queued_at", table_name="contact_records")
    op.drop_table("contact_records")
