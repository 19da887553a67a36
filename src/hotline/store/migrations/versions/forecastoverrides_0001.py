"""Forecast overrides: a planner's corrections of the forecast for part of a day, with reasons.

Revision ID: forecastoverrides_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "forecastoverrides_0001"
down_revision = "0001_foundation"
branch_labels = ("forecastoverrides",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "forecast_overrides",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start", sa.String(5), nullable=False),
        sa.Column("end", sa.String(5), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_overrides")),
    )
    op.create_index("ix_forecast_overrides_day", "forecast_overrides", ["day"])


def downgrade() -> None:
    op.drop_index("ix_forecast_overrides_day", table_name="forecast_overrides")
    op.drop_table("forecast_overrides")
