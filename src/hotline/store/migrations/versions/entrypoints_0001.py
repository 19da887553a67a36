"""Entry points: a contact record names where a chat came in (``web``, ``wechat``, ``sms``).

Revision ID: entrypoints_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "entrypoints_0001"
down_revision = "0001_foundation"
branch_labels = ("entrypoints",)
# The two tables of contact records: imported ones and those an import job stages.
depends_on = ("metrics_0001", "contactjobs_0001")

TABLES = ("contact_records", "import_staged_contact_records")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("entry", sa.String(32), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("entry")
