"""The test's one rolled-back connection, used by one transaction at a time.

Every session of a test (``db_session`` and those of ``session_factory``, which the product's
threads open: the web requests' workers, the chat relay's writer, the sweepers) is bound to
the test's single connection and runs its transaction as a savepoint on it. Savepoints are a
stack: one thread's transaction that ends while another thread's, begun after it, is still
open pulls the other's savepoint from under it (SQLAlchemy: "nested transaction already
deassociated from connection"; then every retry ``PendingRollbackError``). The product's
sessions never share a connection like this, so the harness serialises them, as the product's
SQLite writers queue at ``store.db.WriteGate``:

* a session of ``session_factory`` (:class:`GatedSession`) takes the connection's
  :class:`ConnectionGate` when its transaction begins and gives it back when the transaction
  ends (commit, rollback, close);
* a session begun in the same *flow* as another open session joins it instead of waiting for
  itself (the product opens a second session inside a first: a GET's audit entry written
  apart beside the request's reader, a nested read). A flow is a thread — the one that last
  used the session (begin, statement or flush) — or an asyncio task: a web request's session
  hops between worker threads (the SQLite begin in one, the handler in another), which run
  in copies of the task's context, so every task of a test's event loops is given a flow of
  its own in a context variable (:class:`FlowPolicy`, installed by the root conftest);
* ``db_session`` (:class:`BaseSession`), the test's own, lives across the whole test and is
  used only between the test's calls: holding the gate through its long transaction would
  block the app the test is waiting for. It takes the gate only to begin and to end its
  savepoint, so another thread's transaction is never open across either; between the two,
  other transactions nest inside its savepoint, which is safe.

A wait longer than :data:`WAIT_S` raises :class:`SharedConnectionBusy` naming the holder, so a
transaction left open (a session never closed) fails its test at once, not at the suite's
timeout.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
import weakref
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

#: session.info key of the gate of the session's connection.
GATE = "tests_connection_gate"
#: How long a transaction waits for the connection before the test fails.
WAIT_S = 30.0


#: The asyncio task a thread works for (its context is a copy of the task's), else None.
_FLOW: contextvars.ContextVar[object | None] = contextvars.ContextVar("tests_flow", default=None)


def _task_with_a_flow(
    loop: asyncio.AbstractEventLoop, coro: Any, *, context: contextvars.Context | None = None
) -> asyncio.Task[Any]:
    context = context if context is not None else contextvars.copy_context()
    context.run(_FLOW.set, object())
    return asyncio.Task(coro, loop=loop, context=context)


class FlowPolicy(asyncio.DefaultEventLoopPolicy):
    """Event loops whose every task runs in a flow of its own (see the module's docstring)."""

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        loop = super().new_event_loop()
        loop.set_task_factory(_task_with_a_flow)
        return loop


class SharedConnectionBusy(TimeoutError):
    """A session waited :data:`WAIT_S` for the test's connection: a transaction left open."""


@dataclass
class _Hold:
    thread: int
    thread_name: str
    flow: object | None
    since: float


class ConnectionGate:
    """Who may run a transaction on the test's connection now: holders all in one thread.

    >>> gate = ConnectionGate()
    >>> gate.enter(1); gate.enter(2)  # the same thread: the second joins
    >>> gate.leave(2); gate.leave(1); gate.held
    False
    """

    def __init__(self, wait_s: float = WAIT_S) -> None:
        self.wait_s = wait_s
        self._changed = threading.Condition()
        self._holds: dict[Hashable, _Hold] = {}
        #: How many transactions waited for another thread's (for the tests of the gate).
        self.waited = 0

    @property
    def held(self) -> bool:
        """Whether any transaction holds the connection now."""
        return bool(self._holds)

    def _mine(self, thread: int, flow: object | None) -> bool:
        return not self._holds or any(
            hold.thread == thread or (flow is not None and hold.flow is flow)
            for hold in self._holds.values()
        )

    def enter(self, key: Hashable) -> None:
        """Take the connection for ``key``'s transaction; wait while another flow has it."""
        thread, flow = threading.get_ident(), _FLOW.get()
        with self._changed:
            if not self._mine(thread, flow):
                self.waited += 1
                deadline = time.monotonic() + self.wait_s
                while not self._mine(thread, flow):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise SharedConnectionBusy(self._describe())
                    self._changed.wait(left)
            self._holds.setdefault(
                key, _Hold(thread, threading.current_thread().name, flow, time.monotonic())
            )

    def used(self, key: Hashable) -> None:
        """``key``'s transaction is being used by this thread (and flow) now."""
        hold = self._holds.get(key)
        thread = threading.get_ident()
        if hold is not None and hold.thread != thread:
            with self._changed:
                hold.thread = thread
                hold.thread_name = threading.current_thread().name
                hold.flow = _FLOW.get() or hold.flow

    def leave(self, key: Hashable) -> None:
        """``key``'s transaction has ended."""
        with self._changed:
            if self._holds.pop(key, None) is not None:
                self._changed.notify_all()

    def _describe(self) -> str:
        now = time.monotonic()
        holders = "; ".join(
            f"a transaction last used in thread {hold.thread_name!r}, open {now - hold.since:.1f} s"
            for hold in self._holds.values()
        )
        return (
            f"waited {self.wait_s:g} s for the test's shared connection, held by {holders} "
            "(a session whose transaction never ended: commit, roll back or close it)"
        )


def _gate(session: Session) -> ConnectionGate | None:
    gate: ConnectionGate | None = session.info.get(GATE)
    return gate


class GatedSession(Session):
    """A ``session_factory`` session: holds the connection for its whole transaction."""


@event.listens_for(GatedSession, "after_transaction_create")
def _gated_begins(session: Session, transaction: SessionTransaction) -> None:
    gate = _gate(session)
    if gate is None or transaction.parent is not None:
        return
    gate.enter(id(session))
    if "tests_gate_finalizer" not in session.info:
        # A session dropped without closing it still gives the connection back.
        session.info["tests_gate_finalizer"] = weakref.finalize(session, gate.leave, id(session))


@event.listens_for(GatedSession, "after_transaction_end")
def _gated_ends(session: Session, transaction: SessionTransaction) -> None:
    gate = _gate(session)
    if gate is not None and transaction.parent is None:
        gate.leave(id(session))


@event.listens_for(GatedSession, "do_orm_execute")
def _gated_executes(state: Any) -> None:
    gate = _gate(state.session)
    if gate is not None:
        gate.used(id(state.session))


@event.listens_for(GatedSession, "before_flush")
def _gated_flushes(session: Session, _context: Any, _instances: Any) -> None:
    gate = _gate(session)
    if gate is not None:
        gate.used(id(session))


class BaseSession(Session):
    """``db_session``: takes the connection only to begin and to end its savepoint."""

    def _gated(self, work: Any) -> Any:
        gate = _gate(self)
        if gate is None or not self.in_transaction():
            return work()
        key = ("end", id(self))
        gate.enter(key)
        try:
            return work()
        finally:
            gate.leave(key)

    def commit(self) -> None:
        self._gated(super().commit)

    def rollback(self) -> None:
        self._gated(super().rollback)

    def close(self) -> None:
        self._gated(super().close)


@event.listens_for(BaseSession, "after_transaction_create")
def _base_begins(session: Session, transaction: SessionTransaction) -> None:
    # Held from the transaction's start until its savepoint is taken (``after_begin``).
    gate = _gate(session)
    if gate is not None and transaction.parent is None:
        gate.enter(("begin", id(session)))


@event.listens_for(BaseSession, "after_begin")
def _base_began(session: Session, transaction: SessionTransaction, _connection: Any) -> None:
    gate = _gate(session)
    if gate is not None and transaction.parent is None:
        gate.leave(("begin", id(session)))


@event.listens_for(BaseSession, "after_transaction_end")
def _base_ends(session: Session, transaction: SessionTransaction) -> None:
    gate = _gate(session)
    if gate is not None and transaction.parent is None:
        gate.leave(("begin", id(session)))  # a transaction that never took its savepoint
