"""Benchmark: how long a voice node's step stays only in its memory (lost if it dies then).

A voice node queues each step of its calls (a caller's hang-up, an agent's answer, its own
events) in :class:`~hotline.telephony.owner_routing.NodeOutbox` and its writer
(:func:`~hotline.telephony.owner_routing.send`) commits them to the partition inbox as soon as
something is queued. A node killed between the two loses the step: the owner then ends the
contact as ``interrupted`` (``voice_node_lost``) as the legs last written say — a caller who
hung up just before counts as interrupted, not abandoned; an answer not written leaves the
contact ringing in the record. This measures that window: for each row, from :meth:`put` to
the commit of the transaction that carries it, with the real writer on a real database.

    .venv/bin/python bench/outbox_window.py [--quick] [--rate 50] [--seconds 10]

SQLite on a temporary file, and PostgreSQL (``HOTLINE_TEST_POSTGRES_URL``, or a throwaway
server from ``scripts/postgres.sh``) in a fresh database. There is no peer: the figure is the
window itself (``window_p50_ms``, ``window_p95_ms``, ``window_max_ms``) and the flushes it
took. Prints progress on stderr and one JSON line last on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hotline.live.failover_drill import fresh_database
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.telephony.owner_routing import NodeOutbox, send
from hotline.telephony.voice_node import VoiceNodeOptions, VoicePresence

_spec = importlib.util.spec_from_file_location(
    "failover", Path(__file__).resolve().parent / "failover.py"
)
assert _spec is not None and _spec.loader is not None
_failover = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_failover)
postgres = _failover.postgres  # the test server, or a throwaway one (bench/failover.py's)


class TimedOutbox(NodeOutbox):
    """The node's outbox, noting when each row was queued and when its transaction committed
    (a row queued while a flush reads the queue may be counted with the next: a longer
    window, never a shorter one)."""

    def __init__(self, presence: VoicePresence) -> None:
        super().__init__(presence)
        self.queued: list[float] = []
        self.committed: list[float] = []
        self.flushes = 0

    def put(self, kind: str, payload: Any) -> None:
        self.queued.append(time.perf_counter())
        super().put(kind, payload)

    def flush(self) -> int:
        taken = len(self.queued)
        written = super().flush()
        now = time.perf_counter()
        self.committed += [now] * (taken - len(self.committed))
        self.flushes += 1
        return written


async def drive(outbox: TimedOutbox, *, rate: float, seconds: float) -> None:
    stop = asyncio.Event()
    writer = asyncio.create_task(send(outbox, stop, every_s=1.0))
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        outbox.put(
            "voice_event",
            {"at": time.time(), "kind": "ivr_step", "contact_id": f"v-{n // 5}", "data": {}},
        )
        n += 1
        await asyncio.sleep(1.0 / rate)
    while len(outbox.committed) < len(outbox.queued):
        await asyncio.sleep(0.01)
    stop.set()
    outbox.wake.set()
    await writer


def measure(url: str, rate: float, seconds: float) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    try:
        presence = VoicePresence(factory, VoiceNodeOptions("voice-a", "hefei", 10.0), sip="")
        presence.register()
        outbox = TimedOutbox(presence)
        asyncio.run(drive(outbox, rate=rate, seconds=seconds))
        pairs = zip(outbox.queued, outbox.committed, strict=True)
        window = sorted((committed - queued) * 1000 for queued, committed in pairs)
        return {
            "backend": engine.dialect.name,
            "rows": len(window),
            "flushes": outbox.flushes,
            "window_p50_ms": round(statistics.median(window), 1),
            "window_p95_ms": round(window[int(0.95 * (len(window) - 1))], 1),
            "window_max_ms": round(window[-1], 1),
        }
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s, SQLite only")
    parser.add_argument("--rate", type=float, default=50.0, help="rows queued per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    seconds = 3.0 if args.quick else args.seconds
    results = []
    with tempfile.TemporaryDirectory(prefix="outbox-window-") as tmp:
        results.append(measure(f"sqlite:///{tmp}/hotline.db", args.rate, seconds))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    if not args.quick:
        with postgres() as server, fresh_database(server, migrate=False) as url:
            results.append(measure(url, args.rate, seconds))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    summary: dict[str, Any] = {"rate": args.rate, "seconds": seconds}
    for result in results:
        for key in ("window_p50_ms", "window_p95_ms", "window_max_ms"):
            summary[f"{result['backend']}_{key}"] = result[key]
    summary["results"] = results
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
