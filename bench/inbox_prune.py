"""Benchmark: a new owner's read of where phones are registered, with a long inbox, and pruning.

Before ``voice_phones`` a new partition owner read every ``phone_registered`` /
``phone_unregistered`` row of the partition inbox (never pruned) to learn through which voice
nodes each agent's phones are registered; now it reads ``voice_phones`` and only the inbox rows
after its position, and the owner deletes the rows it has applied.

The run fills a fresh database's inbox through two real :class:`NodeOutbox` writers (a day of
a voice node's rows: its own events, and its 50 agents' phones registering and going away,
one row in ten), marks everything applied (the lease's ``inbox_position``), and times:

* ``before_ms``: the read as it was (the query the old ``phone_registrations`` ran, every
  phone row of the partition's live nodes, folded);
* ``after_ms``: :func:`hotline.store.voice_nodes.phone_registrations` (table + rows after the
  position), which must give the same registrations;
* ``prune_s``: :func:`hotline.store.partitions.prune_inbox` until nothing is left to delete,
  and ``after_pruned_ms``, the new read once the inbox is pruned.

    .venv/bin/python bench/inbox_prune.py [--quick] [--rows 50000] [--sqlite-only]

SQLite on a temporary file, and PostgreSQL (``HOTLINE_TEST_POSTGRES_URL``, or a throwaway
server from ``scripts/postgres.sh``) in a fresh database. The peer is the old read itself:
``before_over_after``. Prints progress on stderr and one JSON line last on stdout.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.live.failover_drill import fresh_database
from hotline.live.voice_nodes import VoicePhones
from hotline.store import voice_nodes
from hotline.store.db import make_engine, make_session_factory, writing
from hotline.store.migrate import upgrade
from hotline.store.models.cluster import PartitionInboxRow
from hotline.store.models.voice_nodes import VoiceNodeRow
from hotline.store.partitions import fence, prune_inbox, try_acquire
from hotline.telephony.owner_routing import NodeOutbox, OwnerRouter
from hotline.telephony.voice_node import VoiceNodeOptions, VoicePresence

REPO = Path(__file__).resolve().parent.parent
AGENTS = [f"a{n:03d}" for n in range(1, 51)]


_spec = importlib.util.spec_from_file_location(
    "failover", Path(__file__).resolve().parent / "failover.py"
)
assert _spec is not None and _spec.loader is not None
_failover = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_failover)
#: The test server's URL, or a throwaway server for this run (``bench/failover.py``'s).
postgres = _failover.postgres


def legacy_registrations(session: Session, partition: str) -> set[tuple[str, str]]:
    """Where phones are registered as a new owner read it before ``voice_phones``: every
    phone row of the partition's live voice nodes in the inbox, folded in order."""
    live = set(
        session.scalars(
            select(VoiceNodeRow.id).where(
                VoiceNodeRow.partition == partition, VoiceNodeRow.lost_at.is_(None)
            )
        )
    )
    rows = session.execute(
        select(PartitionInboxRow.kind, PartitionInboxRow.payload)
        .where(
            PartitionInboxRow.partition == partition,
            PartitionInboxRow.kind.in_(("phone_registered", "phone_unregistered")),
        )
        .order_by(PartitionInboxRow.id)
    ).all()
    phones = VoicePhones()
    phones.seed(
        (str(p["agent_id"]), str(p["node_id"]), kind == "phone_registered")
        for kind, p in rows
        if (p or {}).get("node_id") in live
    )
    return {(agent, node) for agent, nodes in phones.nodes.items() for node in nodes}


def current_registrations(session: Session, partition: str, position: int) -> set[tuple[str, str]]:
    got = voice_nodes.phone_registrations(session, partition=partition, position=position)
    return {(agent, node) for agent, node, _ in got}


def fill(factory: sessionmaker[Session], rows: int, seed: int = 7) -> int:
    """Two voice nodes write ``rows`` inbox rows (one in ten a phone change); the last id."""
    rng = random.Random(seed)
    outboxes = []
    for name in ("voice-a", "voice-b"):
        presence = VoicePresence(factory, VoiceNodeOptions(name, "hefei", 3600.0), sip="")
        presence.register()
        outbox = NodeOutbox(presence)
        outboxes.append((outbox, OwnerRouter(outbox, site_of_number=lambda number: None)))
    registered: set[tuple[int, str]] = set()
    for n in range(rows):
        which = rng.randrange(2)
        outbox, router = outboxes[which]
        if rng.random() < 0.1:
            agent = rng.choice(AGENTS)
            if (which, agent) in registered:
                registered.discard((which, agent))
                router.phone_unregistered(at=time.time(), agent_id=agent)
            else:
                registered.add((which, agent))
                router.phone_registered(at=time.time(), agent_id=agent)
        else:
            outbox.put(
                "voice_event",
                {"at": time.time(), "kind": "ivr_step", "contact_id": f"v-{n}", "data": {}},
            )
        if n % 500 == 499:
            for box, _ in outboxes:
                box.flush()
    for box, _ in outboxes:
        box.flush()
    with factory() as session:
        return int(session.scalar(select(func.max(PartitionInboxRow.id))) or 0)


def timed(read: Callable[[], Any], times: int = 5) -> tuple[float, Any]:
    """The median of ``times`` runs of ``read`` in ms, and its answer."""
    spent = []
    answer = None
    for _ in range(times):
        start = time.perf_counter()
        answer = read()
        spent.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(spent), 2), answer


def measure(url: str, rows: int, log: Callable[[str], None]) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    try:
        start = time.perf_counter()
        last = fill(factory, rows)
        log(f"{engine.dialect.name}: {rows} inbox rows in {time.perf_counter() - start:.1f} s")
        lease = try_acquire(factory, partition="hefei", owner="bench", ttl_s=3600.0)
        assert lease is not None
        with writing(factory()) as session:  # the owner has applied every row
            fence(session, lease, inbox_position=last)
            session.commit()

        def read(fn: Callable[[Session], set[tuple[str, str]]]) -> Callable[[], Any]:
            def go() -> set[tuple[str, str]]:
                with factory() as session:
                    return fn(session)

            return go

        before_ms, legacy = timed(read(lambda s: legacy_registrations(s, "hefei")))
        after_ms, now = timed(read(lambda s: current_registrations(s, "hefei", last)))
        assert now == legacy, "the compact table disagrees with the inbox's rows"
        start = time.perf_counter()
        pruned = 0
        while gone := prune_inbox(factory, partition="hefei", before=time.time() + 1):
            pruned += gone
        prune_s = time.perf_counter() - start
        after_pruned_ms, kept = timed(read(lambda s: current_registrations(s, "hefei", last)))
        assert kept == legacy, "pruning lost a registration"
        with factory() as session:
            left = int(session.scalar(select(func.count(PartitionInboxRow.id))) or 0)
        out = {
            "backend": engine.dialect.name,
            "rows": rows,
            "registrations": len(legacy),
            "before_ms": before_ms,
            "after_ms": after_ms,
            "before_over_after": round(before_ms / max(after_ms, 0.01), 1),
            "pruned": pruned,
            "prune_s": round(prune_s, 2),
            "inbox_rows_left": left,
            "after_pruned_ms": after_pruned_ms,
        }
        log(json.dumps(out))
        return out
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 rows, SQLite only")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    rows = 5000 if args.quick else args.rows

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    results = []
    with tempfile.TemporaryDirectory(prefix="inbox-prune-") as tmp:
        results.append(measure(f"sqlite:///{tmp}/hotline.db", rows, log))
    if not (args.quick or args.sqlite_only):
        with postgres() as server, fresh_database(server, migrate=False) as url:
            results.append(measure(url, rows, log))
    summary: dict[str, Any] = {"rows": rows}
    for result in results:
        for key in ("before_ms", "after_ms", "before_over_after", "prune_s", "after_pruned_ms"):
            summary[f"{result['backend']}_{key}"] = result[key]
    summary["results"] = results
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
