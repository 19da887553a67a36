"""Back office: field-service columns on tickets, work-queue indexes, saved views.

Tickets gain the region of the work, the product's model, the appointment window and when
the provider accepted; the work queue gets indexes for its state + due-time order and its
per-assignee and per-provider views; people save their queue filters by name.

Revision ID: backoffice_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "backoffice_0001"
down_revision = "0001_foundation"
branch_labels = ("backoffice",)
# The tickets table is the service desk's.
depends_on = "servicedesk_0001"


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("region", sa.String(64), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("product_model", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("appointment_from", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("appointment_to", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("accepted_at", UTCDateTime(), nullable=True))
    op.create_index("ix_tickets_state_due", "tickets", ["state", "due_at"])
    op.create_index("ix_tickets_assignee_state", "tickets", ["assignee", "state"])
    op.create_index("ix_tickets_provider_state", "tickets", ["provider_id", "state"])
    op.create_index("ix_tickets_region_state", "tickets", ["region", "state"])
    op.create_table(
        "ticket_saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_saved_views")),
        sa.UniqueConstraint("username", "name", name=op.f("uq_ticket_saved_views_username")),
    )


def downgrade() -> None:
    op.drop_table("ticket_saved_views")
    op.drop_index("ix_tickets_region_state", table_name="tickets")
    op.drop_index("ix_tickets_provider_state", table_name="tickets")
    op.drop_index("ix_tickets_assignee_state", table_name="tickets")
    op.drop_index("ix_tickets_state_due", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        for column in (
            "accepted_at",
            "appointment_to",
            "appointment_from",
            "product_model",
            "region",
        ):
            batch.drop_column(column)
