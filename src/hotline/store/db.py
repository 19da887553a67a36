"""Database engine, sessions and the declarative base shared by every model.

SQLite is the embedded default; PostgreSQL is selected with ``HOTLINE_DATABASE_URL``.
The schema is owned by Alembic migrations (``store/migrations``); ``create_schema`` runs
them to the newest revision.

SQLite has one write lock per database file. Left to itself, every writer that finds it taken
polls for it (``busy_timeout``: sleeps of 1 to 100 ms, no order, "database is locked" after
5 s), and a web worker thread that polls is a thread the lock's holder may need to finish its
own request: under 50 clients the holder starved, and three tickets in four failed. So in one
process every SQLite writer queues on the database's :class:`WriteGate`, in arrival order,
before it asks SQLite for the lock: ``writing(session)`` from a thread,
``await writing_async(session)`` from the event loop (the web requests, which then wait without
holding a worker thread). The gate opens when the transaction ends. Readers never touch it:
under WAL they read beside the writer. PostgreSQL locks rows, not the file: no gate there.
"""

from __future__ import annotations

import asyncio
import re
import select
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    create_engine,
    event,
    exc,
    make_url,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every Hotline table."""

    metadata = MetaData(naming_convention=NAMING)


#: A 64-bit surrogate key that auto-increments everywhere: SQLite only auto-increments a
#: column declared exactly INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


# SQLAlchemy's pool sizes (5 + 10 overflow) stay: measured with bench/http_load.py, 10 + 50
# connections let more worker threads run database work at once and raised SQLite's p99
# from ~60 ms to 200–1000 ms. A request that finds every connection busy waits its turn, up
# to 60 s (not the default 30 s, which turned a burst of sign-ins — each holding a
# connection through Argon2 — into 500s).
POOL: dict[str, Any] = {"pool_timeout": 60}


# ``scheme://[user@]host:port,host:port/…``: libpq's spelling of several hosts, which
# SQLAlchemy's URL grammar (one host, an integer port) cannot parse.
_LIBPQ_HOSTS = re.compile(
    r"^(?P<scheme>[^:/]+)://(?P<user>[^@/]*@)?(?P<hosts>[^/@?]*,[^/?]*)(?P<rest>/.*)?$"
)


def sqlalchemy_url(url: str) -> str:
    """``url`` with libpq's several hosts (``u@h1:p1,h2:p2/db``) spelled SQLAlchemy's way.

    A PostgreSQL primary and its standby (issue #20's disaster-recovery site) are one
    database at two addresses: libpq tries them in order, and ``target_session_attrs=
    read-write`` keeps the one that accepts writes, so after the standby is promoted new
    connections find it. SQLAlchemy passes repeated ``host=`` query parameters on to libpq;
    any other URL is returned as it is.

    >>> sqlalchemy_url("postgresql+psycopg://u@10.0.0.1:5432,10.0.0.2:5433/hotline")
    'postgresql+psycopg://u@/hotline?host=10.0.0.1:5432&host=10.0.0.2:5433'
    >>> sqlalchemy_url("postgresql+psycopg://u@a:1,b:2/db?target_session_attrs=read-write")
    'postgresql+psycopg://u@/db?host=a:1&host=b:2&target_session_attrs=read-write'
    """
    found = _LIBPQ_HOSTS.match(url)
    if found is None:
        return url
    hosts = [host.strip() for host in found["hosts"].split(",")]
    if not all(hosts):
        raise ValueError(f"database URL {url!r}: an empty host in the list of hosts")
    path, _, query = (found["rest"] or "/").partition("?")
    params = "&".join(f"host={quote(host, safe=':[]')}" for host in hosts)
    tail = f"&{query}" if query else ""
    return f"{found['scheme']}://{found['user'] or ''}{path}?{params}{tail}"


def libpq_url(url: str) -> str:
    """A PostgreSQL URL as libpq's own programs (``pg_dump``, ``psql``) take it: no driver
    in the scheme, and several hosts in the authority (``u@h1:p1,h2:p2/db``), not as
    SQLAlchemy's repeated ``host=`` parameters, which libpq would read as one host.

    >>> libpq_url("postgresql+psycopg://u@/db?host=a:1&host=b:2&target_session_attrs=read-write")
    'postgresql://u@a:1,b:2/db?target_session_attrs=read-write'
    """
    parsed = make_url(sqlalchemy_url(url)).set(drivername="postgresql")
    hosts = parsed.query.get("host")
    if not isinstance(hosts, tuple):
        return parsed.render_as_string(hide_password=False)
    rest = parsed.difference_update_query(["host"])
    plain = rest.render_as_string(hide_password=False)  # postgresql://u@/db?…
    scheme, _, after = plain.partition("://")
    user, at, path = after.rpartition("@")
    return f"{scheme}://{user}{at}{','.join(hosts)}{path}"


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite, create the folder, use WAL and enforce foreign keys.

    A PostgreSQL URL may name several hosts (a primary and its standby, see
    :func:`sqlalchemy_url`).
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        database = make_url(url).database
        # A memory database lives in one connection per thread (SingletonThreadPool).
        pool = POOL if database and database != ":memory:" else {}
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite starts transactions lazily and breaks SAVEPOINT; let SQLAlchemy emit
            # BEGIN itself (the recipe from SQLAlchemy's SQLite dialect documentation).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            # WAL with synchronous=NORMAL is durable across application crashes (SQLite's
            # documented setting for WAL); a memory map and a 64 MiB page cache keep the
            # screen pop's index lookups off the read() system call.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA mmap_size=268435456")
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # A plain (deferred) BEGIN lets WAL readers run beside the live event-log writer.
            # A transaction that reads and then writes asks for IMMEDIATE instead (see
            # ``writing``): it takes the single write lock up front, so it waits behind
            # busy_timeout rather than failing with SQLITE_BUSY_SNAPSHOT when another
            # connection committed between its read and its write.
            mode = connection.get_execution_options().get(SQLITE_BEGIN, "")
            connection.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    engine = create_engine(sqlalchemy_url(url), **POOL)
    event.listen(engine, "checkout", _refuse_connection_closed_by_server)
    return engine


def _refuse_connection_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no pooled connection the server has closed (PostgreSQL restarted, an
    administrator or ``idle_session_timeout`` ended its backend), without a round trip.

    SQLAlchemy's ``pool_pre_ping`` proves a connection alive by sending ``SELECT 1`` before
    every checkout: one more round trip per request, and on a busy machine each round trip
    waits for the database process to be scheduled (bench/http_load.py on PostgreSQL). But a
    connection that sits in the pool has nothing to read: the server speaks unasked only when
    it ends the backend (an error message, then end-of-file) or, rarely, with a notice. So
    the checkout looks at the socket instead (``poll`` with no wait): readable means the
    server said something, and the connection is given up — the pool then opens a fresh one
    and the request is served (``DisconnectionError`` is the pool's documented "retry with a
    new connection"). A server that vanished without a word (a host lost, a cable cut) fools
    both checks alike: ``SELECT 1`` then waits for TCP to give up, as the query would.
    """
    try:
        descriptor = dbapi_connection.fileno()
    except Exception as error:  # closed on our side: psycopg raises OperationalError
        raise exc.DisconnectionError(f"the connection is closed: {error}") from error
    poller = select.poll()
    poller.register(descriptor, select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        raise exc.DisconnectionError("the database server ended this pooled connection")


SQLITE_BEGIN = "hotline_sqlite_begin"
# session.info key of the gate a session holds until its transaction ends.
_HELD_GATE = "hotline_write_gate"
# session.info key of a session declared a reader (``reading``): what it was opened for.
_READER = "hotline_reader"
# How long a writer waits for its turn before giving up (a bug holding the gate, another
# process holding the file): far above any healthy queue, so a busy center queues, never fails.
GATE_WAIT_S = 60.0


class WriterQueueTimeout(TimeoutError):
    """A writer waited ``GATE_WAIT_S`` for its turn at the database and gave up."""


class WriteGate:
    """The queue of one process's writers to one SQLite database: first come, first served.

    A writer holds the gate from before its ``BEGIN IMMEDIATE`` until its transaction ends;
    the next in line is handed the gate directly (no thundering herd, no overtaking). Threads
    wait on :meth:`acquire`; coroutines on :meth:`acquire_async`, which holds no thread.

    >>> gate = WriteGate()
    >>> gate.acquire(timeout=1.0)
    >>> gate.release()
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[Callable[[], None]] = deque()
        self.waiting_peak = 0

    @property
    def waiting(self) -> int:
        """How many writers wait now."""
        return len(self._waiters)

    @property
    def held(self) -> bool:
        """Whether a writer holds the gate now."""
        return self._held

    def _take_or_queue(self, wake: Callable[[], None]) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            self._waiters.append(wake)
            self.waiting_peak = max(self.waiting_peak, len(self._waiters))
            return False

    def _leave_queue(self, wake: Callable[[], None]) -> bool:
        """Take ``wake`` out of the queue; False when it was already handed the gate."""
        with self._mutex:
            try:
                self._waiters.remove(wake)
            except ValueError:
                return False
            return True

    def acquire(self, *, timeout: float | None = None) -> None:
        """Wait (blocking this thread) for the gate, at most ``timeout`` (``GATE_WAIT_S``)."""
        timeout = GATE_WAIT_S if timeout is None else timeout
        turn = threading.Event()
        if self._take_or_queue(turn.set):
            return
        if turn.wait(timeout):
            return
        if self._leave_queue(turn.set):
            raise WriterQueueTimeout(f"waited {timeout:g} s for the database's writer queue")
        # Handed the gate just as the wait ran out: it is ours after all.

    async def acquire_async(self, *, timeout: float | None = None) -> None:
        """Wait (without holding a thread) for the gate, at most ``timeout`` (``GATE_WAIT_S``)."""
        timeout = GATE_WAIT_S if timeout is None else timeout
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()

        def hand_over() -> None:
            if not turn.done():
                turn.set_result(None)

        def wake() -> None:
            loop.call_soon_threadsafe(hand_over)

        if self._take_or_queue(wake):
            return
        try:
            async with asyncio.timeout(timeout):
                await turn
        except BaseException as error:
            # Cancelled (the client went away) or timed out: leave the queue, or pass the
            # gate on if it was handed to us meanwhile.
            if not self._leave_queue(wake):
                self.release()
            if isinstance(error, TimeoutError):
                raise WriterQueueTimeout(
                    f"waited {timeout:g} s for the database's writer queue"
                ) from None
            raise

    def release(self) -> None:
        """Open the gate: hand it to the next writer in line, if any."""
        with self._mutex:
            if not self._waiters:
                self._held = False
                return
            wake = self._waiters.popleft()
        wake()


_gates: dict[str, WriteGate] = {}
_gates_mutex = threading.Lock()


def write_gate(bind: Engine | Connection) -> WriteGate | None:
    """The writer queue of ``bind``'s SQLite database (one per file); None elsewhere."""
    engine = bind.engine
    if engine.dialect.name != "sqlite":
        return None
    key = engine.url.render_as_string(hide_password=False)
    with _gates_mutex:
        return _gates.setdefault(key, WriteGate())


def _gate_of(session: Session) -> WriteGate | None:
    # Only sessions bound to an engine start their own transactions; one bound to a
    # Connection (a test's rolled-back transaction) joins its owner's and queues nowhere.
    bind = session.get_bind()
    if not isinstance(bind, Engine) or session.in_transaction():
        return None
    if _HELD_GATE in session.info:
        return None
    return write_gate(bind)


def _begin_immediate(session: Session) -> None:
    try:
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
    except BaseException:
        _open_gate(session)
        raise


def _open_gate(session: Session) -> None:
    gate: WriteGate | None = session.info.pop(_HELD_GATE, None)
    if gate is not None:
        gate.release()


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: Any) -> None:
    # The outermost transaction has committed or rolled back: the next writer's turn.
    if transaction.parent is None:
        _open_gate(session)


class ReaderWrote(RuntimeError):
    """A session declared a reader (:func:`reading`) tried to write without :func:`writing`."""


def reading(session: Session, *, purpose: str) -> Session:
    """Declare ``session`` a reader: it may not write until it goes through :func:`writing`.

    A web request that only reads (GET) takes no place in the writer queue; if its handler
    then wrote anyway (an audit entry for a playback), that write would take SQLite's lock
    outside the queue and, after reading, fail with "database is locked" whenever another
    writer committed in between. So a reader's flush or bulk write raises
    :class:`ReaderWrote` naming ``purpose`` (e.g. ``GET /api/recordings/{id}/audio``); the
    route declares a writer session instead. Returns the session, for chaining.

    On PostgreSQL a reader also runs in autocommit: under READ COMMITTED, the default, every
    statement sees its own snapshot whether or not a transaction wraps them, so the
    transaction bought a request nothing but two more round trips to the server (``BEGIN``
    before its first query, ``COMMIT`` at its end), on a worker thread waiting on the network.
    """
    session.info[_READER] = purpose
    bind = session.bind
    postgres = isinstance(bind, Engine) and bind.dialect.name == "postgresql"
    if postgres and isinstance(bind, Engine) and not session.in_transaction():
        session.info[_WRITER_BIND] = bind
        session.bind = _autocommit(bind)
    return session


def is_reader(session: Session) -> bool:
    """Whether ``session`` is a declared reader (:func:`reading`) still: it wrote nothing.

    Ending such a session waits on nothing: on PostgreSQL it ran in autocommit, so no
    ``COMMIT`` is sent; on SQLite its ``COMMIT`` only lets go of a read snapshot (WAL).
    """
    return _READER in session.info


_WRITER_BIND = "hotline_writer_bind"
_autocommit_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _autocommit(engine: Engine) -> Engine:
    # One autocommit view per engine; it shares the engine's pool (and a connection's
    # isolation level goes back to the default when it returns to the pool).
    view = _autocommit_engines.get(engine)
    if view is None:
        view = _autocommit_engines[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return view


def _stop_reading(session: Session) -> None:
    """A reader becomes a writer: its next transaction is a real one again (PostgreSQL)."""
    session.info.pop(_READER, None)
    writer_bind = session.info.pop(_WRITER_BIND, None)
    if writer_bind is not None:
        if session.in_transaction():
            session.commit()  # a reader has nothing to commit: this only ends autocommit
        session.bind = writer_bind


@event.listens_for(Session, "before_flush")
def _reader_flushes(session: Session, _context: Any, _instances: Any) -> None:
    purpose = session.info.get(_READER)
    changed = session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)
    if purpose is not None and changed:
        raise ReaderWrote(
            f"{purpose} opened a reading session and then wrote "
            f"{_describe_changes(session)}; declare it a writer (store.db.writing)"
        )


@event.listens_for(Session, "do_orm_execute")
def _reader_executes(state: Any) -> None:
    purpose = state.session.info.get(_READER)
    if purpose is not None and (state.is_insert or state.is_update or state.is_delete):
        raise ReaderWrote(
            f"{purpose} opened a reading session and then ran an "
            f"{'INSERT' if state.is_insert else 'UPDATE' if state.is_update else 'DELETE'}; "
            "declare it a writer (store.db.writing)"
        )


def _describe_changes(session: Session) -> str:
    names = {type(row).__name__ for row in (*session.new, *session.dirty, *session.deleted)}
    return ", ".join(sorted(names))


def writing(session: Session) -> Session:
    """Mark ``session``'s transaction as one that will write; call before its first query.

    On SQLite this waits for the process's turn at the database (:class:`WriteGate`), then
    begins the transaction IMMEDIATE (taking the write lock now); elsewhere it changes
    nothing. Keep the transaction short: every other writer waits for it. Returns the session,
    for chaining. A session declared a reader (:func:`reading`) becomes a writer.
    """
    _stop_reading(session)
    if session.get_bind().dialect.name == "sqlite" and not session.in_transaction():
        gate = _gate_of(session)
        if gate is not None:
            gate.acquire()
            session.info[_HELD_GATE] = gate
        _begin_immediate(session)
    return session


async def writing_async(session: Session) -> Session:
    """:func:`writing` for the event loop: queue without a thread, then begin in one.

    Use it where the transaction goes on in worker threads (a web request's dependency and
    handler): a writer that waited in a worker thread would hold a thread the gate's holder
    may need to finish.
    """
    _stop_reading(session)
    if session.get_bind().dialect.name == "sqlite" and not session.in_transaction():
        gate = _gate_of(session)
        if gate is not None:
            await gate.acquire_async()
            session.info[_HELD_GATE] = gate
        try:
            await asyncio.to_thread(_begin_immediate, session)
        except BaseException:
            _open_gate(session)  # cancelled while beginning
            raise
    return session


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine``."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
