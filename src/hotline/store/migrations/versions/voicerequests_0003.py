"""Desks' requests to voice nodes: an index for pruning answered rows.

Each voice node deletes the partition's requests answered (``done``/``failed``) longer ago
than its retention (``store.voice_requests.prune``). ``ix_voice_requests_pending``
(``partition``, ``state``, ``id``) narrows that only to the answered rows — nearly the whole
table, a day of them — which each pass would read to find the few old enough; this index
(``partition``, ``state``, ``finished_at``) reads exactly the rows it deletes.

Revision ID: voicerequests_0003
Revises: voicerequests_0002
"""

from alembic import op

revision = "voicerequests_0003"
down_revision = "voicerequests_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_voice_requests_answered", "voice_requests", ["partition", "state", "finished_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_voice_requests_answered", table_name="voice_requests")
