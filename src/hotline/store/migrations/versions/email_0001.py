"""The e-mail channel: mailboxes, messages in and out (the outbox), attachments, quarantine.

Revision ID: email_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "email_0001"
down_revision = "0001_foundation"
branch_labels = ("email",)
# Messages belong to tickets, which are the service desk's.
depends_on = "servicedesk_0001"

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "email_mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("smtp_host", sa.String(255), nullable=False),
        sa.Column("smtp_port", sa.Integer(), nullable=False),
        sa.Column("smtp_security", sa.String(16), nullable=False),
        sa.Column("smtp_username", sa.String(255), nullable=False),
        sa.Column("smtp_password", sa.Text(), nullable=False),
        sa.Column("imap_host", sa.String(255), nullable=False),
        sa.Column("imap_port", sa.Integer(), nullable=False),
        sa.Column("imap_security", sa.String(16), nullable=False),
        sa.Column("imap_username", sa.String(255), nullable=False),
        sa.Column("imap_password", sa.Text(), nullable=False),
        sa.Column("imap_folder", sa.String(255), nullable=False),
        sa.Column("max_message_bytes", sa.Integer(), nullable=False),
        sa.Column("auto_acknowledge", sa.Boolean(), nullable=False),
        sa.Column("first_response_s", sa.Float(), nullable=False),
        sa.Column("next_update_s", sa.Float(), nullable=False),
        sa.Column("resolution_s", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_mailboxes")),
        sa.UniqueConstraint("address", name=op.f("uq_email_mailboxes_address")),
    )
    op.create_table(
        "email_messages",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("in_reply_to", sa.String(255), nullable=True),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("sender", sa.String(254), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("bounce_reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["email_mailboxes.id"],
            name=op.f("fk_email_messages_mailbox_id_email_mailboxes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_email_messages_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_messages")),
    )
    op.create_index("ix_email_messages_message_id", "email_messages", ["message_id"])
    op.create_index("ix_email_messages_outbox", "email_messages", ["status", "next_attempt_at"])
    op.create_index("ix_email_messages_ticket", "email_messages", ["ticket_id", "id"])
    op.create_table(
        "email_attachments",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("email_id", BigIntId, nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["email_id"],
            ["email_messages.id"],
            name=op.f("fk_email_attachments_email_id_email_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_attachments")),
    )
    op.create_index("ix_email_attachments_email_id", "email_attachments", ["email_id"])
    op.create_table(
        "email_quarantine",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("mailbox", sa.String(254), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("envelope_sender", sa.String(254), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_quarantine")),
    )


def downgrade() -> None:
    op.drop_table("email_quarantine")
    op.drop_index("ix_email_attachments_email_id", table_name="email_attachments")
    op.drop_table("email_attachments")
    op.drop_index("ix_email_messages_ticket", table_name="email_messages")
    op.drop_index("ix_email_messages_outbox", table_name="email_messages")
    op.drop_index("ix_email_messages_message_id", table_name="email_messages")
    op.drop_table("email_messages")
    op.drop_table("email_mailboxes")
