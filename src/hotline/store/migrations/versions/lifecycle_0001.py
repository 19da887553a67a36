"""Lifecycle: the readiness probe's table (``/ready`` proves the database takes writes).

Revision ID: lifecycle_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "lifecycle_0001"
down_revision = "0001_foundation"
branch_labels = ("lifecycle",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "readiness_probes",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("checked_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_readiness_probes")),
    )


def downgrade() -> None:
    op.drop_table("readiness_probes")
