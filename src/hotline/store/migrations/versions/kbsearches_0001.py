"""Knowledge: the searches that found articles and whether one of them was opened
(``kb_searches``: the gap report's "searches whose results nobody opened").

Revision ID: kbsearches_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "kbsearches_0001"
down_revision = "0001_foundation"
branch_labels = ("kbsearches",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_searches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("query", sa.String(200), nullable=False),
        sa.Column("asked", sa.String(200), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("article_ids", sa.JSON(), nullable=False),
        sa.Column("searched_at", UTCDateTime(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_searches")),
    )
    op.create_index("ix_kb_searches_searched_at", "kb_searches", ["searched_at", "query"])
    op.create_index("ix_kb_searches_username", "kb_searches", ["username", "searched_at"])


def downgrade() -> None:
    op.drop_index("ix_kb_searches_username", table_name="kb_searches")
    op.drop_index("ix_kb_searches_searched_at", table_name="kb_searches")
    op.drop_table("kb_searches")
