"""Desks' requests to voice nodes: a ``placing`` step, and a request retried on another node.

A node now marks a request ``placing`` (``placing_at``) in a conditional ``UPDATE`` before it
dials, so a web node that stopped waiting can fail it atomically first; a request whose node
died before it placed it goes back to ``pending`` (``pending_at``: its claim time starts
again) for another node, ``retries`` counting how often.

Revision ID: voicerequests_0002
Revises: voicerequests_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "voicerequests_0002"
down_revision = "voicerequests_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voice_requests") as batch:
        batch.add_column(sa.Column("pending_at", sa.Float(), nullable=True))
        batch.add_column(sa.Column("placing_at", sa.Float(), nullable=True))
        batch.add_column(sa.Column("retries", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("voice_requests") as batch:
        batch.drop_column("retries")
        batch.drop_column("placing_at")
        batch.drop_column("pending_at")
