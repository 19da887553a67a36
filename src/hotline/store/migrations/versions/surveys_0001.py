"""Survey links: what each was sent for, when it expires, when it was answered.

Revision ID: surveys_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "surveys_0001"
down_revision = "0001_foundation"
branch_labels = ("surveys",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "survey_invitations",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("survey_id", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("product", sa.String(64), nullable=True),
        sa.Column("ticket_number", sa.String(32), nullable=True),
        sa.Column("sent_by", sa.String(64), nullable=False),
        sa.Column("sent_via", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
    )
    op.create_index("ix_survey_invitations_contact", "survey_invitations", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_survey_invitations_contact", table_name="survey_invitations")
    op.drop_table("survey_invitations")
