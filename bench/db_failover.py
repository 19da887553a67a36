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

``--link-delay-ms D``: the standby reaches the primary for replication (and its clone and
rewind) through :class:`DelayLink`, a TCP proxy on loopback that holds every chunk ``D`` ms
each way — a stand-in for the WAN between two sites (each member's Patroni
``connect_address``, which the other's ``primary_conninfo`` is made from, is its link's port;
clients still reach the members directly). The link belongs to the primary's site: when the
server's end of a connection dies, what the link still carries is dropped, not delivered
(the killed primary's walsender exits at once, and its last ``D`` ms of WAL never reach the
standby). So in asynchronous mode the commits acknowledged in about the last ``D`` ms before
a kill are lost, and counted; in synchronous mode a commit waits for the standby's flush, a
round trip over the link (``commit_ms``, the rows committed before each kill), and none is.

``--site-loss``: the whole primary site dies — its Patroni is killed with SIGKILL together
with its PostgreSQL, so nobody gives up the leader key and the standby is promoted only once
the key's time to live (``ttl_s``, Patroni's ``ttl``) has run out; ``promote_over_ttl`` is
``promote_s`` against it. The site is then started again (its Patroni, which rejoins it as a
standby).

    .venv/bin/python bench/db_failover.py [--quick] [--rounds N] [--rows 50] [--asynchronous]
        [--site-loss] [--ttl 10] [--link-delay-ms 100]

Prints progress on stderr and one JSON line last on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import socket
import statistics
import sys
import threading
import time
import uuid
from typing import Any

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import create_engine, text

from hotline.live.failover_drill import accept, kill_primary
from hotline.store.db import make_engine, make_session_factory, sqlalchemy_url
from hotline.store.migrate import upgrade
from hotline.store.pg_cluster import Member, PostgresCluster

PARTITION = "hefei"
QUEUE = "installation"
CHUNK = 65536


class DelayLink:
    """A TCP proxy on 127.0.0.1 to ``target_port`` that holds every chunk ``delay_s`` each way.

    Run on an event loop in a thread of its own. The link is the server's site's: when the
    server's end of a connection closes or dies, what is still in flight either way is
    dropped and the client's end is reset (a site lost takes its link with it); when the
    client's end closes, the server's is closed too.
    """

    def __init__(self, target_port: int, *, delay_s: float) -> None:
        self.target_port = target_port
        self.delay_s = delay_s
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.dropped_bytes = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"link-{self.port}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, sock=self._listener)
        )
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._loop.close()

    def close(self) -> None:
        """Stop the link (its connections are dropped)."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _connection(self, client_in: Any, client_out: Any) -> None:
        try:
            server_in, server_out = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_out.transport.abort()
            return
        to_server = asyncio.create_task(self._carry(client_in, server_out, deliver_rest=True))
        to_client = asyncio.create_task(self._carry(server_in, client_out, deliver_rest=False))
        done, _ = await asyncio.wait((to_server, to_client), return_when=asyncio.FIRST_COMPLETED)
        if to_client not in done:  # the client hung up: what it sent is delivered first
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(to_server), self.delay_s * 2 + 1)
        for task in (to_server, to_client):
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(to_server, to_client, return_exceptions=True)
        server_out.transport.abort()
        client_out.transport.abort()

    async def _carry(self, source: Any, sink: Any, *, deliver_rest: bool) -> None:
        """Read ``source`` as fast as it sends; write each chunk ``delay_s`` after it came.

        When ``source`` ends: with ``deliver_rest`` the chunks in flight are written first,
        else (the server's end died) they are dropped (counted in ``dropped_bytes``).
        """
        loop = asyncio.get_running_loop()
        flight: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        in_flight = 0

        async def deliver() -> None:
            nonlocal in_flight
            while True:
                due, chunk = await flight.get()
                if not chunk:
                    return
                await asyncio.sleep(max(0.0, due - loop.time()))
                try:
                    sink.write(chunk)
                    in_flight -= len(chunk)
                    await sink.drain()
                except (ConnectionError, OSError):
                    return  # the other end is gone; the connection is closing

        writer = asyncio.create_task(deliver())
        try:
            with contextlib.suppress(ConnectionError, OSError):
                while chunk := await source.read(CHUNK):
                    in_flight += len(chunk)
                    flight.put_nowait((loop.time() + self.delay_s, chunk))
                if deliver_rest:
                    flight.put_nowait((loop.time(), b""))
                    await writer
        finally:
            if not writer.done():
                writer.cancel()
                self.dropped_bytes += in_flight


class LinkedCluster(PostgresCluster):
    """:class:`PostgresCluster` whose members replicate from each other over delay links."""

    def __init__(self, *, delay_s: float, **options: Any) -> None:
        super().__init__(**options)
        self.links = {m.name: DelayLink(m.port, delay_s=delay_s) for m in self.members}

    def _config(self, member: Member) -> dict[str, Any]:
        config = super()._config(member)
        # What the other member's primary_conninfo (and its clone, its rewind) connects to.
        config["postgresql"]["connect_address"] = f"127.0.0.1:{self.links[member.name].port}"
        return config

    def stop(self, *, keep_logs: bool = False) -> None:
        super().stop(keep_logs=keep_logs)
        for link in self.links.values():
            link.close()


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
    parser.add_argument(
        "--link-delay-ms",
        type=float,
        default=0.0,
        help="replicate over a delaying link, ms each way (a WAN stand-in; default 0: direct)",
    )
    args = parser.parse_args()
    # A SIGTERM unwinds like Ctrl-C, so the cluster's processes are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rounds = args.rounds or (1 if args.quick else 5)
    synchronous = not args.asynchronous
    console = Console(stderr=True)
    started = time.monotonic()
    cluster = (
        LinkedCluster(delay_s=args.link_delay_ms / 1000, synchronous=synchronous, ttl_s=args.ttl)
        if args.link_delay_ms > 0
        else PostgresCluster(synchronous=synchronous, ttl_s=args.ttl)
    )
    commit_ms: list[float] = []
    with cluster:
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
                # The rows' commits are timed with the standby following (and, in synchronous
                # mode, acknowledging): at the first round it may still be cloning.
                cluster.wait_streaming(timeout_s=120)
                for n in range(args.rows):
                    began = time.perf_counter()
                    accept(
                        factory,
                        partition=PARTITION,
                        kind="contact",
                        payload={"contact_id": f"B-{run}-{n}", "queue": QUEUE},
                    )
                    commit_ms.append((time.perf_counter() - began) * 1000)
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
        "link_delay_ms": args.link_delay_ms,
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
        "loss_window_each_ms": [r.loss_window_ms for r in results],
        "commit_ms_median": round(statistics.median(commit_ms), 1),
        "commit_ms_p95": round(statistics.quantiles(commit_ms, n=20)[-1], 1),
        "link_dropped_bytes": (
            sum(link.dropped_bytes for link in cluster.links.values())
            if isinstance(cluster, LinkedCluster)
            else 0
        ),
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
