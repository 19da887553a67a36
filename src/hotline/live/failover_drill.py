"""A failover drill: real node processes, simulated contacts and agents, faults, accounting.

Issue #20's proof by faults, shared by the fault tests and ``bench/failover.py``. Everything
goes through the database as it would in production: contacts are *accepted* by committing
a row to the partition's inbox (:func:`hotline.store.partitions.accept`), and simulated agents
(:class:`AgentDesks`) watch the contact event log for offers made to them and answer, end and
wrap up through the inbox too — so an offer the dying owner made but never wrote reached no
one, and whatever an agent saw, the next owner sees too.

:func:`account` then reads the log: every accepted contact must have exactly one ``finished``
event, none ``interrupted``, and none answered twice (``double_routed``).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, create_engine, exc, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.center import CenterConfig
from hotline.core.events import EventKind
from hotline.store import notify, partitions
from hotline.store.db import make_engine, sqlalchemy_url, writing
from hotline.store.migrate import upgrade
from hotline.store.models.cluster import PartitionInboxRow, PartitionLease
from hotline.store.models.core import ContactEventRow
from hotline.store.pg_cluster import PostgresCluster, wait_for


def eligible_agents(center: CenterConfig, queue: str) -> list[str]:
    """The agents whose skills meet ``queue``'s requirements (``skill >= level`` terms)."""
    spec = next(q for q in center.queues if q.id == queue)
    needs: list[tuple[str, int]] = []
    for term in spec.requirements:
        skill, _, level = term.partition(">=")
        needs.append((skill.strip(), int(level.strip() or 1)))
    return [
        agent.id
        for agent in center.agents
        if all(agent.skills.get(skill, 0) >= level for skill, level in needs)
    ]


def accept(
    session_factory: sessionmaker[Session], *, partition: str, kind: str, payload: dict[str, Any]
) -> int:
    """Commit one inbox row (a contact is accepted once this returns); return its id."""
    with writing(session_factory()) as session:
        row_id = partitions.accept(
            session, partition=partition, kind=kind, payload=payload, at=time.time()
        )
        session.commit()
    return row_id


class AgentDesks:
    """Simulated agents: they answer what the log shows offered to them, talk, wrap up.

    Each :meth:`step` reads the log's new rows; an ``offered`` to one of ``agents`` gets an
    ``answer``, an ``answered`` schedules the ``end`` after ``handle_s``, a ``disconnected``
    gets a ``wrap_up_end``. Only what is in the log is acted on: an answer the engine refuses
    (the offer died with its owner) is simply refused, and the contact is offered again.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        partition: str,
        agents: Iterable[str],
        handle_s: float = 1.0,
    ) -> None:
        self.session_factory = session_factory
        self.partition = partition
        self.agents = set(agents)
        self.handle_s = handle_s
        self.cursor = 0
        self._ends: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def log_in(self) -> None:
        """Log every agent in, ready."""
        for agent_id in sorted(self.agents):
            self._send("agent_login", {"agent_id": agent_id, "ready": True})

    def _send(self, kind: str, payload: dict[str, Any]) -> None:
        accept(self.session_factory, partition=self.partition, kind=kind, payload=payload)

    def step(self) -> None:
        """Act on the log's new rows, and end the conversations that are due."""
        with self.session_factory() as session:
            rows = session.execute(
                select(
                    ContactEventRow.id,
                    ContactEventRow.kind,
                    ContactEventRow.contact_id,
                    ContactEventRow.agent_id,
                )
                .where(ContactEventRow.id > self.cursor, ContactEventRow.source == "live")
                .order_by(ContactEventRow.id)
            ).all()
        now = time.monotonic()
        for row in rows:
            self.cursor = max(self.cursor, row.id)
            if row.agent_id not in self.agents or row.contact_id is None:
                continue
            contact = {"contact_id": row.contact_id, "agent_id": row.agent_id}
            if row.kind == EventKind.OFFERED.value:
                self._send("answer", contact)
            elif row.kind == EventKind.ANSWERED.value:
                self._ends[row.contact_id] = now + self.handle_s
            elif row.kind == EventKind.DISCONNECTED.value:
                self._send("wrap_up_end", contact)
        for contact_id, due in list(self._ends.items()):
            if due <= now:
                del self._ends[contact_id]
                self._send("end", {"contact_id": contact_id})

    def start(self, every_s: float = 0.05) -> None:
        """Step in a background thread until :meth:`stop`: as soon as the owner commits
        events (PostgreSQL NOTIFY), and every ``every_s`` regardless."""
        bind = self.session_factory.kw.get("bind")
        woken = notify.listener(bind, notify.EVENTS) if isinstance(bind, Engine) else None

        def loop() -> None:
            try:
                while not self._stop.is_set():
                    if woken is None:
                        self._stop.wait(every_s)
                    else:
                        woken.wait(every_s)
                    self.step()
            finally:
                if woken is not None:
                    woken.close()

        self._thread = threading.Thread(target=loop, name="agent-desks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class Arrivals:
    """Contacts accepted into ``queue`` at ``rate`` per second, from a background thread."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        partition: str,
        queue: str,
        rate: float,
        prefix: str = "F",
    ) -> None:
        self.session_factory = session_factory
        self.partition = partition
        self.queue = queue
        self.rate = rate
        self.prefix = prefix
        self.accepted: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def one(self) -> str:
        """Accept one contact now; return its id."""
        contact_id = f"{self.prefix}-{len(self.accepted) + 1:06d}"
        accept(
            self.session_factory,
            partition=self.partition,
            kind="contact",
            payload={"contact_id": contact_id, "queue": self.queue, "customer": "13800000000"},
        )
        self.accepted.append(contact_id)
        return contact_id

    def start(self) -> None:
        """Accept contacts at ``rate`` in a background thread until :meth:`stop`."""

        def loop() -> None:
            while not self._stop.wait(1.0 / self.rate):
                self.one()

        self._stop.clear()
        self._thread = threading.Thread(target=loop, name="arrivals", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


@dataclass
class Accounting:
    """What the log says became of the accepted contacts."""

    accepted: int
    finished: int
    lost: list[str] = field(default_factory=list)
    finished_twice: list[str] = field(default_factory=list)
    double_routed: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        """Every contact ended once, none interrupted, none answered twice."""
        return not (self.lost or self.finished_twice or self.double_routed or self.interrupted)


def account(session_factory: sessionmaker[Session], *, partition: str) -> Accounting:
    """Reconcile the inbox's accepted contacts with the contact event log."""
    with session_factory() as session:
        accepted = [
            str(payload["contact_id"])
            for payload in session.scalars(
                select(PartitionInboxRow.payload).where(
                    PartitionInboxRow.partition == partition, PartitionInboxRow.kind == "contact"
                )
            )
        ]
        rows = session.execute(
            select(
                ContactEventRow.kind,
                ContactEventRow.contact_id,
                ContactEventRow.agent_id,
                ContactEventRow.data,
            ).where(
                ContactEventRow.source == "live",
                ContactEventRow.kind.in_([EventKind.FINISHED.value, EventKind.ANSWERED.value]),
            )
        ).all()
    finished: Counter[str] = Counter()
    answered: defaultdict[str, int] = defaultdict(int)
    interrupted = []
    for row in rows:
        if row.kind == EventKind.FINISHED.value:
            finished[row.contact_id] += 1
            if (row.data or {}).get("outcome") == "interrupted":
                interrupted.append(row.contact_id)
        else:
            answered[row.contact_id] += 1
    return Accounting(
        accepted=len(accepted),
        finished=sum(1 for c in accepted if finished[c]),
        lost=[c for c in accepted if not finished[c]],
        finished_twice=[c for c in accepted if finished[c] > 1],
        double_routed=[c for c in accepted if answered[c] > 1],
        interrupted=interrupted,
    )


def wait_settled(
    session_factory: sessionmaker[Session], *, partition: str, timeout_s: float
) -> Accounting:
    """Account until nothing is lost (every contact finished) or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = account(session_factory, partition=partition)
        if not result.lost or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def lease_of(session_factory: sessionmaker[Session], partition: str) -> PartitionLease | None:
    """The partition's lease row now."""
    with session_factory() as session:
        row = partitions.current(session, partition)
        if row is not None:
            session.expunge(row)
        return row


class NodeProcess:
    """One ``hotline node`` process, its role lines read as they come."""

    def __init__(
        self,
        *,
        name: str,
        partition: str,
        database_url: str,
        home: Path,
        center: Path | None = None,
        lease_s: float = 1.5,
        poll_s: float = 0.05,
    ) -> None:
        self.name = name
        command = [
            sys.executable,
            "-m",
            "hotline.cli.main",
            "node",
            "--partition",
            partition,
            "--name",
            name,
            "--lease-s",
            str(lease_s),
            "--poll-s",
            str(poll_s),
        ]
        if center is not None:
            command += ["--center", str(center)]
        env = {**os.environ, "HOTLINE_DATABASE_URL": database_url, "HOTLINE_HOME": str(home)}
        self.stderr_path = home / f"{name}.stderr"
        self._stderr: IO[bytes] = self.stderr_path.open("wb")
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self._stderr, env=env, text=True
        )
        self.lines: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, name=f"{name}-out", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self.lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue

    def said(self, state: str) -> list[dict[str, Any]]:
        """The role lines with ``state`` printed so far."""
        return [line for line in self.lines if line.get("state") == state]

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def close(self) -> None:
        """Kill the process if still running and wait for it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


@contextmanager
def fresh_database(url: str, *, migrate: bool = True) -> Iterator[str]:
    """A new PostgreSQL database beside ``url``'s (migrated unless told), dropped afterwards."""
    name = f"hotline_failover_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sqlalchemy_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        fresh = (
            make_url(sqlalchemy_url(url)).set(database=name).render_as_string(hide_password=False)
        )
        if migrate:
            engine = make_engine(fresh)
            upgrade(engine)
            engine.dispose()
        yield fresh
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@dataclass
class Round:
    """One kill -9 of the owner and what followed."""

    killed: str
    epoch: int
    takeover_s: float
    agents_restored: int
    in_hand: int
    waiting: int


@dataclass
class Drill:
    """The nodes, the load and the database of one failover drill."""

    session_factory: sessionmaker[Session]
    database_url: str
    home: Path
    center: CenterConfig
    partition: str
    queue: str
    lease_s: float = 1.5
    nodes: list[NodeProcess] = field(default_factory=list)
    desks: AgentDesks | None = None
    arrivals: Arrivals | None = None
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def start_node(self) -> NodeProcess:
        """Start one more node (it stands by, or owns the partition if nobody does)."""
        node = NodeProcess(
            name=f"node-{next(self._names)}",
            partition=self.partition,
            database_url=self.database_url,
            home=self.home,
            lease_s=self.lease_s,
        )
        self.nodes.append(node)
        return node

    def owner(self, *, timeout_s: float = 30.0) -> NodeProcess:
        """The node that owns the partition now (waits until one routes)."""

        def routing() -> NodeProcess | None:
            lease = lease_of(self.session_factory, self.partition)
            if lease is None or lease.routing_at is None:
                return None
            return next((n for n in self.nodes if n.name == lease.owner), None)

        found: NodeProcess = wait_for(routing, timeout_s=timeout_s, what="an owner routing")
        return found

    def standing_by(self, count: int, *, timeout_s: float = 30.0) -> None:
        """Wait until ``count`` live nodes have reported in (owner or standby)."""
        wait_for(
            lambda: sum(1 for n in self.nodes if n.process.poll() is None and n.lines) >= count,
            timeout_s=timeout_s,
            what=f"{count} nodes up",
        )

    def describe(self) -> str:
        """The lease and every node's exit status and role lines (for a failure's message)."""
        lease = lease_of(self.session_factory, self.partition)
        held = (
            f"lease {lease.owner} epoch {lease.epoch} routing_at {lease.routing_at}"
            if lease is not None
            else "no lease"
        )
        nodes = "; ".join(f"{n.name} exit={n.process.poll()} {n.lines}" for n in self.nodes)
        return f"{held}; {nodes}"

    def start_load(self, *, rate: float, handle_s: float) -> None:
        """Log the queue's agents in and start accepting contacts at ``rate`` per second."""
        agents = eligible_agents(self.center, self.queue)
        self.desks = AgentDesks(
            self.session_factory, partition=self.partition, agents=agents, handle_s=handle_s
        )
        self.desks.log_in()
        self.desks.start()
        self.arrivals = Arrivals(
            self.session_factory, partition=self.partition, queue=self.queue, rate=rate
        )
        self.arrivals.start()

    def kill_owner(self, *, timeout_s: float = 30.0) -> Round:
        """kill -9 the owner; return how long until another node routed the partition."""
        self.owner(timeout_s=timeout_s)
        # The owner as the lease names it now (a lease may change hands on its own).
        before = lease_of(self.session_factory, self.partition)
        assert before is not None
        owner = next(n for n in self.nodes if n.name == before.owner)
        killed_at = time.time()
        os.kill(owner.pid, signal.SIGKILL)
        owner.process.wait()

        def taken() -> PartitionLease | None:
            lease = lease_of(self.session_factory, self.partition)
            if lease is None or lease.epoch <= before.epoch or lease.routing_at is None:
                return None
            return lease

        after: PartitionLease = wait_for(taken, timeout_s=timeout_s, what="a takeover")
        successor = next(n for n in self.nodes if n.name == after.owner)
        said = wait_for(
            lambda: [x for x in successor.said("owner") if x.get("epoch") == after.epoch],
            timeout_s=timeout_s,
            what="the new owner's report",
        )[0]
        assert after.routing_at is not None
        return Round(
            killed=owner.name,
            epoch=after.epoch,
            takeover_s=after.routing_at - killed_at,
            agents_restored=int(said.get("agents", 0)),
            in_hand=int(said.get("in_hand", 0)),
            waiting=int(said.get("waiting", 0)),
        )

    def stop_load(self) -> None:
        """Stop accepting contacts (the agents keep working)."""
        if self.arrivals is not None:
            self.arrivals.stop()

    def close(self) -> None:
        """Stop the agents and every node."""
        self.stop_load()
        if self.desks is not None:
            self.desks.stop()
        for node in self.nodes:
            if node.process.poll() is None:
                node.process.send_signal(signal.SIGTERM)
        for node in self.nodes:
            with suppress(subprocess.TimeoutExpired):
                node.process.wait(timeout=10)
            node.close()


@dataclass
class PrimaryKill:
    """One ``kill -9`` of the PostgreSQL primary and what followed (issue #20's DR fault)."""

    killed: str
    promoted: str
    #: Primary killed → Patroni's REST API names the standby primary.
    patroni_s: float
    #: Primary killed → the first write through the multi-host URL committed.
    promote_s: float
    #: Rows of the partition inbox and the contact event log committed before the kill,
    #: and the contacts whose acceptance was acknowledged while it died.
    committed: int
    #: Of those, how many the promoted standby does not have.
    lost: int
    #: How far before the kill the oldest lost commit was acknowledged (ms; 0 if none lost).
    loss_window_ms: float
    #: Contacts the callers' thread had acknowledged when the new primary took the probe.
    acknowledged: int
    #: The contact accepted on the promoted standby (the first write that committed).
    probe: str


def _committed_ids(session_factory: sessionmaker[Session]) -> set[tuple[str, int]]:
    """Every committed row of the inbox and the contact event log, by table and id."""
    with session_factory() as session:
        inbox = session.scalars(select(PartitionInboxRow.id)).all()
        events = session.scalars(select(ContactEventRow.id)).all()
    return {("inbox", i) for i in inbox} | {("events", i) for i in events}


class _Callers:
    """Contacts accepted from a thread, back to back or ``rate`` per second, each
    acknowledgement noted with its time; a failed acceptance (no primary) is tried again
    20 ms later, and not counted: its caller was told it failed."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        partition: str,
        queue: str,
        rate: float | None,
    ) -> None:
        self.acknowledged: list[tuple[int, float]] = []
        self._stop = threading.Event()
        pause = 0.0 if rate is None else 1.0 / rate

        def loop() -> None:
            for n in itertools.count(1):
                if self._stop.wait(pause):
                    return
                payload = {"contact_id": f"K-{n:06d}", "queue": queue}
                try:
                    row = accept(
                        session_factory, partition=partition, kind="contact", payload=payload
                    )
                except exc.DBAPIError:
                    self._stop.wait(0.02)
                    continue
                self.acknowledged.append((row, time.monotonic()))

        self._thread = threading.Thread(target=loop, name="callers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting and wait for the thread."""
        self._stop.set()
        self._thread.join()


def _try(read: Callable[[], set[tuple[str, int]]]) -> set[tuple[str, int]] | None:
    """``read()``, or None when the database is not reachable (yet)."""
    try:
        return read()
    except exc.DBAPIError:
        return None


def kill_primary(
    cluster: PostgresCluster,
    session_factory: sessionmaker[Session],
    *,
    partition: str,
    queue: str,
    callers_per_s: float | None = None,
    timeout_s: float = 60.0,
    whole_site: bool = False,
) -> PrimaryKill:
    """``kill -9`` the primary's PostgreSQL while callers are being accepted (back to back,
    or ``callers_per_s``, a rate a partition owner and its agents keep up with), then accept
    one contact (the product's own write path, through the multi-host URL) until it commits
    on the promoted standby; count the rows committed before, or acknowledged during, the
    kill that the new primary lacks.

    A write that fails meanwhile (the dead primary's pooled connection, no primary yet) is
    tried again every 50 ms: what a caller of the product sees during the switch.

    ``whole_site``: kill the primary's Patroni with its PostgreSQL (the site is lost): the
    standby is promoted only after the leader key's time to live, and the killed member
    stays down until the caller starts it again (:meth:`PostgresCluster.start_member`).
    """
    old = cluster.wait_streaming(timeout_s=timeout_s)
    before = _committed_ids(session_factory)
    callers = _Callers(session_factory, partition=partition, queue=queue, rate=callers_per_s)
    wait_for(lambda: len(callers.acknowledged) >= 5, timeout_s=timeout_s, what="callers accepted")
    killed_at = time.monotonic()
    if whole_site:
        cluster.kill_site(old)
    else:
        cluster.kill_postmaster(old)
    patroni_s: float | None = None
    # Writes the dying primary still took (its backends outlive the postmaster for a moment,
    # and in synchronous mode its standby acknowledged them): committed, so checked too.
    late: list[tuple[int, float]] = []
    probe = ""

    def write() -> bool:
        nonlocal patroni_s, probe
        if patroni_s is None and cluster.primary() not in (None, old):
            patroni_s = time.monotonic() - killed_at
        probe = f"P-{uuid.uuid4().hex[:8]}"
        try:
            with writing(session_factory()) as session:
                row = partitions.accept(
                    session,
                    partition=partition,
                    kind="contact",
                    payload={"contact_id": probe, "queue": queue, "customer": "13800000000"},
                    at=time.time(),
                )
                port = session.execute(text("SELECT inet_server_port()")).scalar_one()
                session.commit()
        except exc.DBAPIError:
            return False
        if port == old.port:
            late.append((row, time.monotonic()))
            return False
        return True

    try:
        wait_for(
            write,
            timeout_s=timeout_s,
            every_s=0.05,
            what=f"a write on another server than {old.name}'s killed PostgreSQL",
            describe=cluster.describe,
        )
    finally:
        callers.stop()
    promote_s = time.monotonic() - killed_at
    promoted = cluster.primary()
    after: set[tuple[str, int]] = wait_for(
        lambda: _try(lambda: _committed_ids(session_factory)),
        timeout_s=timeout_s,
        what="reading the promoted standby",
    )
    acknowledged = dict(callers.acknowledged + late)
    committed = before | {("inbox", row) for row in acknowledged}
    missing = committed - after
    lost_at = [
        acknowledged[row] for table, row in missing if table == "inbox" and row in acknowledged
    ]
    return PrimaryKill(
        killed=old.name,
        promoted=promoted.name if promoted is not None else "?",
        patroni_s=round(patroni_s if patroni_s is not None else promote_s, 3),
        promote_s=round(promote_s, 3),
        committed=len(committed),
        lost=len(missing),
        loss_window_ms=round(max(0.0, (killed_at - min(lost_at)) * 1000), 1) if lost_at else 0.0,
        acknowledged=len(acknowledged),
        probe=probe,
    )
