"""Imports: background import jobs and their staging tables.

Revision ID: imports_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "imports_0001"
down_revision = "0001_foundation"
branch_labels = ("imports",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("file", sa.String(256), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.create_table(
        "import_staged_customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_folded", sa.String(128), nullable=False),
        sa.Column("site", sa.String(64), nullable=True),
        sa.Column("vip_level", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_staged_customers")),
    )
    op.create_index(
        "ix_import_staged_customers_job_seq",
        "import_staged_customers",
        ["job_id", "seq"],
        unique=True,
    )
    op.create_table(
        "import_staged_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("point", sa.String(8), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("e164", sa.String(20), nullable=True),
        sa.Column("phone_kind", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_staged_points")),
    )
    op.create_index(
        "ix_import_staged_points_job_point", "import_staged_points", ["job_id", "point"]
    )


def downgrade() -> None:
    op.drop_index("ix_import_staged_points_job_point", table_name="import_staged_points")
    op.drop_table("import_staged_points")
    op.drop_index("ix_import_staged_customers_job_seq", table_name="import_staged_customers")
    op.drop_table("import_staged_customers")
    op.drop_table("import_jobs")
