"""The harness's shared connection (``tests/shared_connection.py``): two threads' transactions
take turns on it, a thread's second session joins its first, the test's own session never
ends its savepoint under another thread's, and a transaction left open fails at once.

The first test shows the failure the gate prevents, on the same connection without it: the
chat relay's writer thread committing while a request's session had begun after it hung
``test_wechat_media`` on PostgreSQL until the suite's timeout.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, exc, text
from sqlalchemy.orm import Session, sessionmaker

from tests.shared_connection import GATE, ConnectionGate, SharedConnectionBusy

SELECT = text("SELECT 1")


def _until(condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s} s for {what}")
        time.sleep(0.005)


def _in_thread(work: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run, name="other-thread")
    thread.start()
    return thread, errors


def test_without_the_gate_an_earlier_savepoint_ending_first_breaks_the_connection(
    db_engine: Engine,
) -> None:
    connection = db_engine.connect()
    connection.begin()
    try:
        plain = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        first, second = plain(), plain()
        first.execute(SELECT)  # savepoint 1
        second.execute(SELECT)  # savepoint 2, inside 1 (as another thread's would be)
        with pytest.warns(exc.SAWarning, match="nested transaction already deassociated"):
            first.commit()  # releases 1, and 2 with it
        with pytest.raises(exc.OperationalError, match="sa_savepoint"):
            second.commit()
        second.close()
        # And every later transaction on the connection (the relay's writer retrying):
        for _ in range(2):
            with pytest.raises(exc.PendingRollbackError), plain() as again:
                again.execute(SELECT)
    finally:
        connection.invalidate()
        connection.close()


def test_another_threads_transaction_waits_for_the_open_one_to_end(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    gate: ConnectionGate = db_session.info[GATE]
    order: list[str] = []
    mine = session_factory()
    mine.execute(SELECT)

    def other() -> None:
        with session_factory() as theirs:
            theirs.execute(SELECT)
            order.append("other began")
            theirs.commit()

    thread, errors = _in_thread(other)
    _until(lambda: gate.waited == 1, "the other thread to wait for the connection")
    order.append("mine commits")
    mine.commit()
    mine.close()
    thread.join(10)
    assert errors == [] and order == ["mine commits", "other began"]
    assert not gate.held


def test_a_second_session_in_the_same_thread_joins_the_first(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    gate: ConnectionGate = db_session.info[GATE]
    with session_factory() as outer:
        outer.execute(SELECT)
        with session_factory() as inner:  # an audit entry written beside the request's
            inner.execute(SELECT)
            inner.commit()
        outer.commit()
    assert gate.waited == 0 and not gate.held


def test_a_request_session_used_in_a_second_thread_is_joined_there(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    """A web request's session begins in one worker thread and runs its handler in another,
    which opens a session of its own: it joins, it does not wait for itself."""
    gate: ConnectionGate = db_session.info[GATE]
    request = session_factory()
    request.execute(SELECT)  # begun here

    def handler() -> None:
        request.execute(SELECT)  # the handler's thread uses it now
        with session_factory() as audit:
            audit.execute(SELECT)
            audit.commit()

    thread, errors = _in_thread(handler)
    thread.join(10)
    request.commit()
    request.close()
    assert errors == [] and gate.waited == 0 and not gate.held


def test_a_tasks_second_session_joins_its_first_from_another_worker_thread(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    """A GET's reader began in one worker thread; its audit entry, written apart, begins in
    another (the SQLite begin goes through ``asyncio.to_thread``): the same task's flow."""
    gate: ConnectionGate = db_session.info[GATE]

    async def request() -> None:
        reader = session_factory()
        await asyncio.to_thread(reader.execute, SELECT)

        def apart() -> None:
            with session_factory() as audit:
                audit.execute(SELECT)
                audit.commit()

        with ThreadPoolExecutor(1, thread_name_prefix="another-worker") as other:
            await asyncio.get_running_loop().run_in_executor(
                other, contextvars.copy_context().run, apart
            )
        reader.close()

    asyncio.run(request())
    assert gate.waited == 0 and not gate.held


def test_the_tests_own_session_ends_its_savepoint_only_between_other_transactions(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    gate: ConnectionGate = db_session.info[GATE]
    order: list[str] = []
    began = threading.Event()

    def worker() -> None:
        with session_factory() as theirs:
            theirs.execute(SELECT)
            began.set()
            _until(lambda: gate.waited == 1, "the test's commit to wait")
            order.append("worker commits")
            theirs.commit()

    thread, errors = _in_thread(worker)
    assert began.wait(10)
    db_session.commit()  # waits: the worker's savepoint is inside the test's
    order.append("test committed")
    thread.join(10)
    assert errors == [] and order == ["worker commits", "test committed"]
    db_session.execute(SELECT)  # and begins again as usual


def test_a_transaction_left_open_fails_the_waiter_naming_its_thread() -> None:
    gate = ConnectionGate(wait_s=0.2)
    thread, errors = _in_thread(lambda: gate.enter("left open"))
    thread.join(10)
    assert errors == []
    with pytest.raises(SharedConnectionBusy, match="last used in thread 'other-thread'"):
        gate.enter("mine")
    gate.leave("left open")
    gate.enter("mine")
    assert gate.held
