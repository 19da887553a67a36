"""Knowledge: the images articles show (``kb_images``) and the searches that found no
article (``kb_search_misses``, the gap report).

Revision ID: knowledge_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "knowledge_0001"
down_revision = "0001_foundation"
branch_labels = ("knowledge",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_images",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_images")),
    )
    op.create_table(
        "kb_search_misses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("query", sa.String(200), nullable=False),
        sa.Column("asked", sa.String(200), nullable=False),
        sa.Column("searched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_search_misses")),
    )
    op.create_index("ix_kb_search_misses_searched_at", "kb_search_misses", ["searched_at", "query"])


def downgrade() -> None:
    op.drop_index("ix_kb_search_misses_searched_at", table_name="kb_search_misses")
    op.drop_table("kb_search_misses")
    op.drop_table("kb_images")
