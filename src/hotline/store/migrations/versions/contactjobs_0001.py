"""Contact-record imports as background jobs: their staging table.

Revision ID: contactjobs_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "contactjobs_0001"
down_revision = "0001_foundation"
branch_labels = ("contactjobs",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_staged_contact_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("customer", sa.String(128), nullable=True),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("arrived_at", sa.Float(), nullable=False),
        sa.Column("queued_at", sa.Float(), nullable=True),
        sa.Column("answered_at", sa.Float(), nullable=True),
        sa.Column("abandoned_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=False),
        sa.Column("hold_s", sa.Float(), nullable=False),
        sa.Column("wrap_s", sa.Float(), nullable=False),
        sa.Column("transferred", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_staged_contact_records")),
    )
    op.create_index(
        "ix_import_staged_contact_records_job_seq",
        "import_staged_contact_records",
        ["job_id", "seq"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_import_staged_contact_records_job_seq", table_name="import_staged_contact_records"
    )
    op.drop_table("import_staged_contact_records")
