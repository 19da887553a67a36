"""Benchmark: kill -9 the node that owns a routing partition, N times, under simulated load.

Real processes on 127.0.0.1 against a real PostgreSQL (``HOTLINE_TEST_POSTGRES_URL``, or one
started by ``scripts/postgres.sh`` for the run): two ``hotline node`` processes for the sample
center's first site; simulated callers accepted into the ``installation`` queue at ``--rate``
per second and the queue's agents answering through the partition inbox
(``hotline.live.failover_drill``). Each round waits ``--load-s`` seconds, kills the owner with
SIGKILL, measures the time until another node has rebuilt the engine and routes
(``takeover_s``: kill → the new owner's ``routing_at``, both on this machine's clock) and
starts a fresh standby. After the last round arrivals stop and the agents finish; then the log
is reconciled with the inbox: ``contacts_lost`` and ``double_routed`` must be 0.

There is no external peer for a partition takeover; the ratio printed is against the lease
itself (``takeover_over_lease``): a standby cannot take over before the lease lapses, so a
ratio near 1 means detection dominates and rebuilding costs little. ``accept_to_offer_*_ms``
is the pipeline between nodes in normal running: an inbox row's commit to the contact's
first offer in the log (the owner is woken by PostgreSQL NOTIFY; waits for a free agent
count too).

    .venv/bin/python bench/failover.py [--quick] [--rounds N] [--lease-s 1.5]

Prints progress on stderr and one JSON line last on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, select

from hotline.config.validate import load_center
from hotline.live.failover_drill import Drill, fresh_database, wait_settled
from hotline.store.db import make_engine, make_session_factory
from hotline.store.models.cluster import PartitionInboxRow
from hotline.store.models.core import ContactEventRow

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "src/hotline/config/samples/appliance_center.yaml"


@contextmanager
def postgres() -> Iterator[str]:
    """The test server's URL, or a throwaway server started for this run."""
    url = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    out = subprocess.run(
        [str(REPO / "scripts/postgres.sh"), "start"], check=True, capture_output=True, text=True
    ).stdout
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line
    )
    try:
        yield exports["HOTLINE_TEST_POSTGRES_URL"]
    finally:
        subprocess.run(
            [str(REPO / "scripts/postgres.sh"), "stop", exports["HOTLINE_PG_DIR"]], check=False
        )


def accept_to_offer_ms(drill: Drill) -> list[float]:
    """Per contact: from its inbox row's commit to its first offer (the pipeline's latency:
    the owner woken by NOTIFY, routing, the fenced write; plus any wait for a free agent)."""
    with drill.session_factory() as session:
        accepted = {
            str(row.payload["contact_id"]): row.accepted_at
            for row in session.execute(
                select(PartitionInboxRow.payload, PartitionInboxRow.accepted_at).where(
                    PartitionInboxRow.kind == "contact"
                )
            )
        }
        offered = dict(
            session.execute(
                select(ContactEventRow.contact_id, func.min(ContactEventRow.at))
                .where(ContactEventRow.kind == "offered")
                .group_by(ContactEventRow.contact_id)
            ).all()
        )
    return [(offered[c] - at) * 1000 for c, at in accepted.items() if c in offered]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds (about a minute)")
    parser.add_argument("--rounds", type=int, default=None, help="kill -9 rounds (default 10)")
    parser.add_argument("--lease-s", type=float, default=1.5)
    parser.add_argument("--rate", type=float, default=8.0, help="contacts accepted per second")
    parser.add_argument("--handle-s", type=float, default=1.0)
    parser.add_argument("--load-s", type=float, default=3.0, help="load before each kill")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 10)
    console = Console(stderr=True)
    center = load_center(SAMPLE)
    partition = center.sites[0].id
    started = time.monotonic()
    with postgres() as server, fresh_database(server) as url, tempfile.TemporaryDirectory() as home:
        engine = make_engine(url)
        drill = Drill(
            session_factory=make_session_factory(engine),
            database_url=url,
            home=Path(home),
            center=center,
            partition=partition,
            queue="installation",
            lease_s=args.lease_s,
        )
        try:
            drill.start_node()
            drill.start_node()
            drill.standing_by(2)
            drill.owner()
            drill.start_load(rate=args.rate, handle_s=args.handle_s)
            results = []
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("kill -9 the owner", total=rounds)
                for _ in range(rounds):
                    time.sleep(args.load_s)
                    results.append(drill.kill_owner())
                    drill.start_node()
                    drill.standing_by(2)
                    progress.advance(task)
            drill.stop_load()
            accounting = wait_settled(drill.session_factory, partition=partition, timeout_s=60)
            latencies = accept_to_offer_ms(drill)
        finally:
            drill.close()
            engine.dispose()
    takeovers = [r.takeover_s for r in results]
    summary = {
        "bench": "failover",
        "rounds": len(results),
        "lease_s": args.lease_s,
        "takeover_s": round(max(takeovers), 3),
        "takeover_median_s": round(statistics.median(takeovers), 3),
        "takeover_each_s": [round(t, 3) for t in takeovers],
        "takeover_over_lease": round(max(takeovers) / args.lease_s, 2),
        "agents_restored_each": [r.agents_restored for r in results],
        "in_hand_restored_each": [r.in_hand for r in results],
        "waiting_restored_each": [r.waiting for r in results],
        "contacts_accepted": accounting.accepted,
        "contacts_finished": accounting.finished,
        "contacts_lost": len(accounting.lost),
        "double_routed": len(accounting.double_routed),
        "finished_twice": len(accounting.finished_twice),
        "interrupted": len(accounting.interrupted),
        "accept_to_offer_median_ms": round(statistics.median(latencies), 1),
        "accept_to_offer_p95_ms": round(statistics.quantiles(latencies, n=20)[-1], 1),
        "wall_s": round(time.monotonic() - started, 1),
    }
    console.print(
        f"{len(results)} takeovers, worst {summary['takeover_s']} s; "
        f"{accounting.accepted} contacts accepted, {summary['contacts_lost']} lost, "
        f"{summary['double_routed']} routed twice"
    )
    print(json.dumps(summary), flush=True)
    sys.exit(0 if accounting.sound else 1)


if __name__ == "__main__":
    main()
