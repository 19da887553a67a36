"""People management: competitions, coaching tasks, training courses and exam results.

Revision ID: people_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "people_0001"
down_revision = "0001_foundation"
branch_labels = ("people",)
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "competitions",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("teams", sa.JSON(), nullable=False),
        sa.Column("minimum_answered", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitions")),
    )
    op.create_index("ix_competitions_end", "competitions", ["end"])
    op.create_table(
        "coaching_tasks",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_detail", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaching_tasks")),
    )
    op.create_index("ix_coaching_tasks_agent", "coaching_tasks", ["agent_id", "status"])
    op.create_table(
        "training_courses",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.Column("proficiency", sa.Integer(), nullable=False),
        sa.Column("pass_mark", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_courses")),
    )
    op.create_table(
        "training_results",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("course_id", BigIntId, nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_courses.id"],
            name=op.f("fk_training_results_course_id_training_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_results")),
    )
    op.create_index("ix_training_results_agent", "training_results", ["agent_id", "recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_training_results_agent", table_name="training_results")
    op.drop_table("training_results")
    op.drop_table("training_courses")
    op.drop_index("ix_coaching_tasks_agent", table_name="coaching_tasks")
    op.drop_table("coaching_tasks")
    op.drop_index("ix_competitions_end", table_name="competitions")
    op.drop_table("competitions")
