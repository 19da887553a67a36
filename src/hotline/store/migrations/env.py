"""Alembic environment: migrates the database named by the caller's connection or URL."""

from __future__ import annotations

from alembic import context

from hotline.store.db import Base, make_engine
from hotline.store.models import registered_tables

config = context.config
target_metadata = Base.metadata
assert registered_tables(), "no tables registered"


def run_migrations() -> None:
    """Run migrations online, on a given connection or one made from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
