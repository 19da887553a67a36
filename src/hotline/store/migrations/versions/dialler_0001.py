"""The dialler's live pacing state per campaign, for the campaigns page.

Revision ID: dialler_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "dialler_0001"
down_revision = "0001_foundation"
branch_labels = ("dialler",)
# The row points at its campaign.
depends_on = "campaigns_0001"


def upgrade() -> None:
    op.create_table(
        "campaign_pacing",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("ringing", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("free_agents", sa.Integer(), nullable=False),
        sa.Column("talking_agents", sa.Integer(), nullable=False),
        sa.Column("releasing_agents", sa.Integer(), nullable=False),
        sa.Column("answered_today", sa.Integer(), nullable=False),
        sa.Column("abandoned_today", sa.Integer(), nullable=False),
        sa.Column("allowance", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.PrimaryKeyConstraint("campaign_id"),
    )


def downgrade() -> None:
    op.drop_table("campaign_pacing")
