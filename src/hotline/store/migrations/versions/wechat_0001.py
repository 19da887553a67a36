"""The WeChat channel: official accounts, followers, pushes received.

Revision ID: wechat_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "wechat_0001"
down_revision = "0001_foundation"
branch_labels = ("wechat",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "wechat_accounts",
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("encoding_aes_key", sa.Text(), nullable=False),
        sa.Column("app_secret", sa.Text(), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("api_base", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", name=op.f("pk_wechat_accounts")),
    )
    op.create_table(
        "wechat_followers",
        sa.Column("open_id", sa.String(64), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("last_message_at", sa.Float(), nullable=True),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("open_id", name=op.f("pk_wechat_followers")),
    )
    op.create_table(
        "wechat_pushes",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("dedupe_key", sa.String(160), nullable=False),
        sa.Column("open_id", sa.String(64), nullable=False),
        sa.Column("msg_type", sa.String(16), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_pushes")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_wechat_pushes_dedupe_key")),
    )


def downgrade() -> None:
    op.drop_table("wechat_pushes")
    op.drop_table("wechat_followers")
    op.drop_table("wechat_accounts")
