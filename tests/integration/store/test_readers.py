"""Reading sessions (a GET's): refused writes everywhere; on PostgreSQL, no transaction.

Under PostgreSQL's READ COMMITTED every statement takes its own snapshot, so wrapping a
request's reads in a transaction only cost two round trips (``BEGIN``, ``COMMIT``) per GET.
A reader now runs in autocommit; the moment it is declared a writer it gets a real
transaction again, so a writer's statements still commit or roll back together.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from hotline.store.db import make_session_factory, reading, writing


def _transaction_id(session: object) -> int:
    value = session.execute(text("SELECT txid_current()")).scalar_one()  # type: ignore[attr-defined]
    return int(value)


def test_a_reader_runs_in_autocommit_and_a_writer_in_one_transaction(
    postgres_engine: Engine,
) -> None:
    factory = make_session_factory(postgres_engine)
    with reading(factory(), purpose="GET /api/tickets") as session:
        connection = session.connection()
        assert connection.connection.dbapi_connection.autocommit is True  # type: ignore[union-attr]
        # Each statement is its own transaction: no BEGIN/COMMIT round trips around them.
        assert _transaction_id(session) != _transaction_id(session)
        session.commit()
        writing(session)  # declared a writer: one transaction again
        assert session.connection().connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]
        assert _transaction_id(session) == _transaction_id(session)
        session.rollback()
    # The pool's connections go back to the engine's default.
    with factory() as plain:
        assert _transaction_id(plain) == _transaction_id(plain)


def test_a_reader_turned_writer_mid_way_gets_a_transaction(postgres_engine: Engine) -> None:
    factory = make_session_factory(postgres_engine)
    with reading(factory(), purpose="GET /x") as session:
        session.execute(text("SELECT 1"))
        writing(session)
        assert _transaction_id(session) == _transaction_id(session)
        session.rollback()
