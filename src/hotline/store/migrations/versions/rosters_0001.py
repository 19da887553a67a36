"""Rosters: draft and published shifts with their breaks; swap and leave requests.

Revision ID: rosters_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "rosters_0001"
down_revision = "0001_foundation"
branch_labels = ("rosters",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rosters",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("shrinkage", sa.Float(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rosters")),
    )
    op.create_index("ix_rosters_status_period", "rosters", ["status", "period_start"])
    op.create_table(
        "roster_shifts",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("roster_id", BigIntId, nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=False),
        sa.Column("end_at", UTCDateTime(), nullable=False),
        sa.Column("breaks", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["roster_id"],
            ["rosters.id"],
            name=op.f("fk_roster_shifts_roster_id_rosters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_shifts")),
    )
    op.create_index("ix_roster_shifts_roster", "roster_shifts", ["roster_id", "start_at"])
    op.create_index("ix_roster_shifts_agent", "roster_shifts", ["agent_id", "start_at"])
    op.create_table(
        "roster_requests",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("shift_id", BigIntId, nullable=False),
        sa.Column("other_shift_id", BigIntId, nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("shifts", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_requests")),
    )
    op.create_index("ix_roster_requests_status", "roster_requests", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_roster_requests_status", table_name="roster_requests")
    op.drop_table("roster_requests")
    op.drop_index("ix_roster_shifts_agent", table_name="roster_shifts")
    op.drop_index("ix_roster_shifts_roster", table_name="roster_shifts")
    op.drop_table("roster_shifts")
    op.drop_index("ix_rosters_status_period", table_name="rosters")
    op.drop_table("rosters")
