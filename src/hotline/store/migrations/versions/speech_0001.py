"""Speech analytics: recordings' transcripts and the transcription queue.

Revision ID: speech_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "speech_0001"
down_revision = "0001_foundation"
branch_labels = ("speech",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "quality_transcripts",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.String(128), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("processing_s", sa.Float(), nullable=False),
        sa.Column("utterances", sa.JSON(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_transcripts")),
        sa.UniqueConstraint("recording_id", name="uq_quality_transcripts_recording_id"),
    )
    op.create_index("ix_quality_transcripts_state", "quality_transcripts", ["state", "id"])
    op.create_index("ix_quality_transcripts_contact", "quality_transcripts", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_quality_transcripts_contact", table_name="quality_transcripts")
    op.drop_index("ix_quality_transcripts_state", table_name="quality_transcripts")
    op.drop_table("quality_transcripts")
