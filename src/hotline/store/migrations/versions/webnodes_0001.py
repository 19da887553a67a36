"""The live log by position: an index on ``contact_events (source, seq)``.

A screen that reconnects reads the log after the last position it saw, a web node tailing the
log reads each new batch by position, and a starting driver numbers on from the newest one:
without the index each of these scans the whole log.

Revision ID: webnodes_0001
Revises: 0001_foundation
"""

from alembic import op

revision = "webnodes_0001"
down_revision = "0001_foundation"
branch_labels = ("webnodes",)
depends_on = None


def upgrade() -> None:
    op.create_index("ix_contact_events_source_seq", "contact_events", ["source", "seq"])


def downgrade() -> None:
    op.drop_index("ix_contact_events_source_seq", table_name="contact_events")
