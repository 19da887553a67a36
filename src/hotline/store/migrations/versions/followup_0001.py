"""Follow-up (回访) tasks and the settlement clerk's claim decisions.

Revision ID: followup_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "followup_0001"
down_revision = "0001_foundation"
branch_labels = ("followup",)
# Both tables point at tickets.
depends_on = "servicedesk_0001"


def upgrade() -> None:
    op.create_table(
        "followup_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("resolution_key", sa.String(96), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("script", sa.String(64), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ticket_type", sa.String(16), nullable=False),
        sa.Column("warranty", sa.Boolean(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=True),
        sa.Column("product_model", sa.String(64), nullable=False),
        sa.Column("require_before_close", sa.Boolean(), nullable=False),
        sa.Column("not_verified", sa.String(16), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("claim_flags", sa.JSON(), nullable=False),
        sa.Column("escalated", sa.JSON(), nullable=False),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_followup_tasks_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_tasks")),
        sa.UniqueConstraint("resolution_key", name=op.f("uq_followup_tasks_resolution_key")),
    )
    op.create_index("ix_followup_tasks_ticket_id", "followup_tasks", ["ticket_id"])
    op.create_index("ix_followup_tasks_state_due", "followup_tasks", ["state", "due_at"])
    op.create_table(
        "settlement_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("amount_yuan", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_settlement_decisions_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_decisions")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_settlement_decisions_ticket_id")),
    )


def downgrade() -> None:
    op.drop_table("settlement_decisions")
    op.drop_index("ix_followup_tasks_state_due", table_name="followup_tasks")
    op.drop_index("ix_followup_tasks_ticket_id", table_name="followup_tasks")
    op.drop_table("followup_tasks")
