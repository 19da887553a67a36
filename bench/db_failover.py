"""Benchmark: kill -9 the PostgreSQL primary, N times; Patroni promotes the standby.

A real etcd and two Patroni-managed PostgreSQL members on 127.0.0.1
(``hotline.store.pg_cluster``), synchronous replication unless ``--asynchronous``. Each round
commits ``--rows`` contacts into a partition inbox through the product's own write path and
the multi-host URL, then, with callers still being accepted back to back from a thread, kills
the primary's postmaster with SIGKILL and accepts one more contact until it commits on the
promoted standby (``hotline.live.failover_drill.kill_primary``):

* ``promote_s``: primary killed → the first write committed on the new primary (worst round);
* ``committed`` / ``lost``: rows committed before the kill or acknowledged to a caller while
  it died / missing on the new primary (must be 0 in synchronous mode; in asynchronous mode
  the commits not yet streamed are lost); ``loss_window_ms``: how long before the kill the
  oldest lost commit was acknowledged (the asynchronous loss window, worst round);
* the peer, measured in the same run: Patroni's own promotion (``patroni_s``: killed → its
  REST API names the standby primary). ``write_over_patroni`` is the ratio: how much a
  client's first write adds to the promotion itself (pool check, libpq trying the hosts).

Between rounds the old primary rejoins as a standby (``rejoin_s``, Patroni's pg_rewind).

``--site-loss``: the whole primary site dies — its Patroni is killed with SIGKILL together
with its PostgreSQL, so nobody gives up the leader key and the standby is promoted only once
the key's time to live (``ttl_s``, Patroni's ``ttl``) has run out; ``promote_over_ttl`` is
``promote_s`` against it. The site is then started again (its Patroni, which rejoins it as a
standby).

    .venv/bin/python bench/db_failover.py [--quick] [--rounds N] [--rows 50] [--asynchronous]
        [--site-loss] [--ttl 10]

Prints progress on stderr and one JSON line last on stdout.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import time
import uuid

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import create_engine, text

from hotline.live.failover_drill import accept, kill_primary
from hotline.store.db import make_engine, make_session_factory, sqlalchemy_url
from hotline.store.migrate import upgrade
from hotline.store.pg_cluster import PostgresCluster

PARTITION = "hefei"
QUEUE = "installation"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round (about a minute)")
    parser.add_argument("--rounds", type=int, default=None, help="kill -9 rounds (default 5)")
    parser.add_argument("--rows", type=int, default=50, help="contacts committed per round")
    parser.add_argument(
        "--asynchronous", action="store_true", help="asynchronous replication (may lose commits)"
    )
    parser.add_argument(
        "--site-loss",
        action="store_true",
        help="kill the primary's Patroni with its PostgreSQL (the whole site), not only PostgreSQL",
    )
    parser.add_argument(
        "--ttl", type=int, default=10, help="Patroni's leader key time to live, s (default 10)"
    )
    args = parser.parse_args()
    # A SIGTERM unwinds like Ctrl-C, so the cluster's processes are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rounds = args.rounds or (1 if args.quick else 5)
    synchronous = not args.asynchronous
    console = Console(stderr=True)
    started = time.monotonic()
    with PostgresCluster(synchronous=synchronous, ttl_s=args.ttl) as cluster:
        admin = create_engine(sqlalchemy_url(cluster.url("postgres")), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE hotline"))
        admin.dispose()
        engine = make_engine(cluster.url("hotline"))
        upgrade(engine)
        factory = make_session_factory(engine)
        results = []
        rejoins = []
        with Progress(console=console, transient=True) as progress:
            what = "the primary's site" if args.site_loss else "the primary"
            task = progress.add_task(f"kill -9 {what}", total=rounds)
            for _ in range(rounds):
                run = uuid.uuid4().hex[:6]
                for n in range(args.rows):
                    accept(
                        factory,
                        partition=PARTITION,
                        kind="contact",
                        payload={"contact_id": f"B-{run}-{n}", "queue": QUEUE},
                    )
                result = kill_primary(
                    cluster,
                    factory,
                    partition=PARTITION,
                    queue=QUEUE,
                    whole_site=args.site_loss,
                    timeout_s=60.0 + args.ttl,
                )
                results.append(result)
                rejoin_from = time.monotonic()
                if args.site_loss:  # the site comes back: its Patroni rejoins it as a standby
                    cluster.start_member(
                        next(m for m in cluster.members if m.name == result.killed)
                    )
                cluster.wait_streaming(timeout_s=120)  # the old primary follows again
                rejoins.append(time.monotonic() - rejoin_from)
                progress.advance(task)
        engine.dispose()
    promotes = [r.promote_s for r in results]
    patronis = [r.patroni_s for r in results]
    summary = {
        "bench": "db_failover",
        "synchronous": synchronous,
        "site_loss": args.site_loss,
        "ttl_s": args.ttl,
        "rounds": len(results),
        "rows_per_round": args.rows,
        "promote_s": round(max(promotes), 3),
        "promote_median_s": round(statistics.median(promotes), 3),
        "promote_each_s": promotes,
        "patroni_s": round(max(patronis), 3),
        "patroni_each_s": patronis,
        "write_over_patroni": round(statistics.median(promotes) / statistics.median(patronis), 2),
        "promote_over_ttl": round(max(promotes) / args.ttl, 2),
        "rejoin_each_s": [round(r, 1) for r in rejoins],
        "committed": results[-1].committed,
        "acknowledged_under_kill_each": [r.acknowledged for r in results],
        "lost": sum(r.lost for r in results),
        "lost_each": [r.lost for r in results],
        "loss_window_ms": max(r.loss_window_ms for r in results),
        "wall_s": round(time.monotonic() - started, 1),
    }
    console.print(
        f"{len(results)} promotions, worst {summary['promote_s']} s to the first write "
        f"(Patroni's own: {summary['patroni_s']} s); {summary['committed']} rows committed, "
        f"{summary['lost']} lost"
    )
    print(json.dumps(summary), flush=True)
    sys.exit(0 if not synchronous or summary["lost"] == 0 else 1)


if __name__ == "__main__":
    main()
