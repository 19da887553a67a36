"""Outbound campaigns: campaigns, their records and attempts, do-not-call lists, consents.

Revision ID: campaigns_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "campaigns_0001"
down_revision = "0001_foundation"
branch_labels = ("campaigns",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("calling_hours", sa.JSON(), nullable=False),
        sa.Column("retry", sa.JSON(), nullable=False),
        sa.Column("script", sa.Text(), nullable=False),
        sa.Column("agents", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_table(
        "campaign_records",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("held_by", sa.String(64), nullable=True),
        sa.Column("last_result", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_records_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_records")),
    )
    op.create_index(
        "ix_campaign_records_due", "campaign_records", ["campaign_id", "status", "due_at"]
    )
    op.create_index("ix_campaign_records_phone", "campaign_records", ["phone"])
    op.create_table(
        "campaign_attempts",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("record_id", BigIntId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("result", sa.String(32), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_attempts_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["campaign_records.id"],
            name=op.f("fk_campaign_attempts_record_id_campaign_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_attempts")),
    )
    op.create_index("ix_campaign_attempts_campaign", "campaign_attempts", ["campaign_id", "at"])
    op.create_table(
        "do_not_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_do_not_call_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_do_not_call")),
    )
    op.create_index("ix_do_not_call_number", "do_not_call", ["number", "campaign_id"])
    op.create_table(
        "campaign_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("callback_at", UTCDateTime(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("keep_until", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_consents_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_consents")),
    )
    op.create_index("ix_campaign_consents_number", "campaign_consents", ["number"])


def downgrade() -> None:
    op.drop_index("ix_campaign_consents_number", table_name="campaign_consents")
    op.drop_table("campaign_consents")
    op.drop_index("ix_do_not_call_number", table_name="do_not_call")
    op.drop_table("do_not_call")
    op.drop_index("ix_campaign_attempts_campaign", table_name="campaign_attempts")
    op.drop_table("campaign_attempts")
    op.drop_index("ix_campaign_records_phone", table_name="campaign_records")
    op.drop_index("ix_campaign_records_due", table_name="campaign_records")
    op.drop_table("campaign_records")
    op.drop_table("campaigns")
