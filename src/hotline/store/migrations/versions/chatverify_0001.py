"""Chat visitors verified: the chat login secret (encrypted) and one-time codes (hashes only).

Revision ID: chatverify_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "chatverify_0001"
down_revision = "0001_foundation"
branch_labels = ("chatverify",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chat_login_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(400), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_login_secrets")),
    )
    op.create_table(
        "chat_codes",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_codes")),
    )
    op.create_index("ix_chat_codes_address", "chat_codes", ["address", "sent_at"])
    op.create_index(op.f("ix_chat_codes_conversation_id"), "chat_codes", ["conversation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_codes_conversation_id"), table_name="chat_codes")
    op.drop_index("ix_chat_codes_address", table_name="chat_codes")
    op.drop_table("chat_codes")
    op.drop_table("chat_login_secrets")
