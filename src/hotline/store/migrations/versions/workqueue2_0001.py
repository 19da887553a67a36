"""Work queue: one region's tickets of one type, in due-time order.

The work queue's region view ("chengdu's repairs") filters by region, type and the open
states and pages in due-time order. With only (region, state) SQLite read every open ticket
of the region, then every one of its rows to keep the type and sort by due time
(0.8–1.1 s p95 among 2 million tickets); with (region, type, state, due_at) it reads the
page's rows from the index in due-time order per state (≈ 0.1 ms).

Revision ID: workqueue2_0001
Revises: 0001_foundation (a branch of its own, after workqueue_0001)
"""

from alembic import op

revision = "workqueue2_0001"
down_revision = "0001_foundation"
branch_labels = ("workqueue2",)
# The work queue's first indexes (and through them the tickets' region and due time).
depends_on = ("workqueue_0001",)


def upgrade() -> None:
    op.create_index(
        "ix_tickets_region_type_state_due", "tickets", ["region", "type", "state", "due_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_region_type_state_due", table_name="tickets")
