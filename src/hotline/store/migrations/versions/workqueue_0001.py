"""Work queue: open tickets, and unfinished complaints, indexed in due-time order.

The work queue's views of open work and the complaint board ask for the tickets nearest to
breach. With only (state, due_at), PostgreSQL sorted every open ticket for each page
(≈ 0.9 s for the work queue, 0.6 s for the complaint board among 2 million tickets); a
partial index over those tickets in due-time order lets it read the page and stop. (Over
all unfinished tickets it would first walk past every resolved ticket, whose due times are
the oldest.)

Revision ID: workqueue_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "workqueue_0001"
down_revision = "0001_foundation"
branch_labels = ("workqueue",)
# The tickets table is the service desk's; due_at is indexed with the back office's.
depends_on = ("servicedesk_0001", "backoffice_0001")

INDEXES = {
    "ix_tickets_open_due": "state IN ('new', 'open', 'waiting_customer', 'dispatched')",
    "ix_tickets_complaints_due": "type = 'complaint' AND "
    "state IN ('new', 'open', 'waiting_customer', 'dispatched', 'resolved')",
}


def upgrade() -> None:
    for name, where in INDEXES.items():
        op.create_index(
            name,
            "tickets",
            ["due_at", "id"],
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
