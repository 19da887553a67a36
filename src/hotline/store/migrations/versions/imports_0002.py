"""Imports: which server runs a job, and its heartbeat (several servers on one database).

A job records the server process that runs it (``owner``) and when that server last said it
was alive (``heartbeat_at``, seconds on the database's clock). A server's start and every
server's sweep fail only the jobs whose owner's heartbeat has lapsed, never one another live
server is still running (:mod:`hotline.store.jobs`).

Revision ID: imports_0002
Revises: imports_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "imports_0002"
down_revision = "imports_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(sa.Column("owner", sa.String(128), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.Float(), nullable=True))
        batch.create_index("ix_import_jobs_owner", ["owner"])


def downgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_index("ix_import_jobs_owner")
        batch.drop_column("heartbeat_at")
        batch.drop_column("owner")
