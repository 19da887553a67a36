"""Web chat: conversations, numbered messages, attachments.

Revision ID: chat_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "chat_0001"
down_revision = "0001_foundation"
branch_labels = ("chat",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chat_conversations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("customer_name", sa.String(100), nullable=False),
        sa.Column("customer_phone", sa.String(32), nullable=True),
        sa.Column("customer_email", sa.String(254), nullable=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(200), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("ended_by", sa.String(16), nullable=True),
        sa.Column("survey_score", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_conversations")),
    )
    op.create_index("ix_chat_conversations_agent", "chat_conversations", ["agent_id", "started_at"])
    op.create_table(
        "chat_attachments",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name=op.f("fk_chat_attachments_conversation_id_chat_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_attachments")),
    )
    op.create_index(
        op.f("ix_chat_attachments_conversation_id"), "chat_attachments", ["conversation_id"]
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("attachment_id", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name=op.f("fk_chat_messages_conversation_id_chat_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["chat_attachments.id"],
            name=op.f("fk_chat_messages_attachment_id_chat_attachments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
        sa.UniqueConstraint(
            "conversation_id", "seq", name=op.f("uq_chat_messages_conversation_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("chat_messages")
    op.drop_index(op.f("ix_chat_attachments_conversation_id"), table_name="chat_attachments")
    op.drop_table("chat_attachments")
    op.drop_index("ix_chat_conversations_agent", table_name="chat_conversations")
    op.drop_table("chat_conversations")
