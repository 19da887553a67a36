"""Foundation: users, audit log, append-only contact event log.

Revision ID: 0001_foundation
Revises:
"""

import sqlalchemy as sa
from alembic import op

from hotline.store.db import UTCDateTime

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

APPEND_ONLY_SQLITE = """
CREATE TRIGGER contact_events_no_{op} BEFORE {OP} ON contact_events
BEGIN SELECT RAISE(ABORT, 'contact_events is append-only'); END
"""

APPEND_ONLY_POSTGRES = """
CREATE FUNCTION contact_events_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'contact_events is append-only'; END
$$ LANGUAGE plpgsql;
CREATE TRIGGER contact_events_no_change BEFORE UPDATE OR DELETE OR TRUNCATE
ON contact_events FOR EACH STATEMENT EXECUTE FUNCTION contact_events_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_table(
        "contact_events",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_events")),
    )
    op.create_index("ix_contact_events_contact", "contact_events", ["contact_id", "id"])
    op.create_index("ix_contact_events_at", "contact_events", ["at"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("update", "delete"):
            op.execute(APPEND_ONLY_SQLITE.format(op=name, OP=name.upper()))
    elif bind.dialect.name == "postgresql":
        op.execute(APPEND_ONLY_POSTGRES)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER contact_events_no_change ON contact_events")
        op.execute("DROP FUNCTION contact_events_append_only()")
    op.drop_table("contact_events")
    op.drop_table("audit_log")
    op.drop_table("users")
