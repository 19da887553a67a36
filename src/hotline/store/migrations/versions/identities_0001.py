"""Customers' identities on the digital channels (a WeChat openid, a chat visitor's address).

Revision ID: identities_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "identities_0001"
down_revision = "0001_foundation"
branch_labels = ("identities",)
# The customers table is the service desk's.
depends_on = ("servicedesk_0001",)


def upgrade() -> None:
    op.create_table(
        "customer_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(254), nullable=False),
        sa.Column("linked_by", sa.String(64), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_identities_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_identities")),
        sa.UniqueConstraint("kind", "value", name=op.f("uq_customer_identities_kind")),
    )
    op.create_index(
        op.f("ix_customer_identities_customer_id"), "customer_identities", ["customer_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_customer_identities_customer_id"), table_name="customer_identities")
    op.drop_table("customer_identities")
