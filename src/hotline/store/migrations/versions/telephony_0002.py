"""Telephony: a recording's kind — a conversation, or a caller's voicemail message.

Revision ID: telephony_0002
Revises: telephony_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "telephony_0002"
down_revision = "telephony_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="conversation")
        )
        batch.create_index("ix_recordings_kind", ["kind", "recorded_at"])


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_index("ix_recordings_kind")
        batch.drop_column("kind")
