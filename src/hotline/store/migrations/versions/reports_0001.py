"""Scheduled reports, their runs (one per due time), and the cockpit alerts raised.

``report_runs`` is unique on ``(schedule_id, due_at)``: the sweep commits a run before
rendering it, so a due time is sent at most once across restarts and nodes.
``raised_alerts.open_key`` is unique while an alert is open: one notice per raise.

Revision ID: reports_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "reports_0001"
down_revision = "0001_foundation"
branch_labels = ("reports",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "report_schedules",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("report", sa.String(32), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("frequency", sa.String(8), nullable=False),
        sa.Column("at", sa.String(5), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("day_of_month", sa.Integer(), nullable=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_schedules")),
    )
    op.create_table(
        "report_runs",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("schedule_id", BigIntId, nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("email_id", BigIntId, nullable=True),
        sa.Column("attachment", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["report_schedules.id"],
            name=op.f("fk_report_runs_schedule_id_report_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_runs")),
        sa.UniqueConstraint("schedule_id", "due_at", name="uq_report_runs_due"),
    )
    op.create_index("ix_report_runs_schedule", "report_runs", ["schedule_id", "id"])
    op.create_table(
        "raised_alerts",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("open_key", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("cleared_at", UTCDateTime(), nullable=True),
        sa.Column("emailed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raised_alerts")),
        sa.UniqueConstraint("open_key", name="uq_raised_alerts_open"),
    )


def downgrade() -> None:
    op.drop_table("raised_alerts")
    op.drop_index("ix_report_runs_schedule", table_name="report_runs")
    op.drop_table("report_runs")
    op.drop_table("report_schedules")
