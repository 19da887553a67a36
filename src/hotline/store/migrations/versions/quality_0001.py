"""Quality evaluations (scores, the form version used, disputes and reviews) and calibration
sessions with their blind scores.

Revision ID: quality_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "quality_0001"
down_revision = "0001_foundation"
branch_labels = ("quality",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "quality_evaluations",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.String(128), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("evaluated_at", UTCDateTime(), nullable=False),
        sa.Column("form_id", sa.String(64), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("form", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("fatal_error", sa.Boolean(), nullable=False),
        sa.Column("nonfatal_errors", sa.Integer(), nullable=False),
        sa.Column("nonfatal_opportunities", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("dispute_reason", sa.Text(), nullable=False),
        sa.Column("disputed_at", UTCDateTime(), nullable=True),
        sa.Column("reviewer", sa.String(64), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("original_score", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_evaluations")),
    )
    op.create_index(
        "ix_quality_evaluations_agent", "quality_evaluations", ["agent_id", "evaluated_at"]
    )
    op.create_index("ix_quality_evaluations_contact", "quality_evaluations", ["contact_id"])
    op.create_table(
        "quality_calibrations",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("form_id", sa.String(64), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("form", sa.JSON(), nullable=False),
        sa.Column("contact_ids", sa.JSON(), nullable=False),
        sa.Column("evaluators", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_calibrations")),
    )
    op.create_table(
        "quality_calibration_scores",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("calibration_id", BigIntId, nullable=False),
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.String(128), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("scored_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["calibration_id"],
            ["quality_calibrations.id"],
            name=op.f("fk_quality_calibration_scores_calibration_id_quality_calibrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_calibration_scores")),
        sa.UniqueConstraint(
            "calibration_id",
            "evaluator",
            "contact_id",
            name=op.f("uq_quality_calibration_scores_calibration_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("quality_calibration_scores")
    op.drop_table("quality_calibrations")
    op.drop_index("ix_quality_evaluations_contact", table_name="quality_evaluations")
    op.drop_index("ix_quality_evaluations_agent", table_name="quality_evaluations")
    op.drop_table("quality_evaluations")
