"""Benchmark: work-queue pages over 1 million tickets, SQLite and PostgreSQL.

Builds a migrated database with N tickets (default 1,000,000): a third still being worked
(new, open, waiting on the customer, dispatched; opened in the last 30 days), the rest
resolved, closed or cancelled over a year; 12 queues, 400 assignees, 20 providers, 8
regions, 40 product models. Then loads work-queue pages the way the API builds them — the
count of the filter's tickets and the first 50 in SLA-risk order, each with its resolution
clock evaluated on the business calendar (``work_queue.search`` + ``resolution_status``) —
for the views people use: all open work, an agent's queues and own tickets, breached
tickets, one provider's orders, one region's repairs, one person's tickets; p50 / p95.

Peer, in the same run: the same pages on the same data without the work-queue indexes of
migration ``backoffice_0001`` (dropped, measured, created again): ``index_speedup`` = peer p95
÷ Hotline p95 per view.

The SQLite database is kept in ``var/bench/`` and reused by later runs of the same size;
PostgreSQL runs when ``HOTLINE_TEST_POSTGRES_URL`` is set (its schema is rebuilt). Prints one
JSON line at the end.

    .venv/bin/python bench/work_queue.py [--quick] [--tickets N] [--pages N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from hotline.store.db import make_engine
from hotline.store.migrate import upgrade
from hotline.tickets import service as tickets
from hotline.tickets import work_queue

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 30, 10, tzinfo=UTC)
BATCH = 50_000
STATES = (
    ("new", "open", "waiting_customer", "dispatched")
    + ("resolved",)
    + ("closed",) * 5
    + ("cancelled",)
)
TYPES = ("repair", "repair", "installation", "inquiry", "complaint")
QUEUES = tuple(f"q{i:02d}" for i in range(12))
REGIONS = ("hefei", "lujiang", "chengdu", "mianyang", "wuhan", "nanjing", "suzhou", "xian")
PROVIDERS = 20
INDEXES = {
    "ix_tickets_state_due": "tickets (state, due_at)",
    "ix_tickets_assignee_state": "tickets (assignee, state)",
    "ix_tickets_provider_state": "tickets (provider_id, state)",
    "ix_tickets_region_state": "tickets (region, state)",
}
SLA = json.dumps(
    {
        "name": "normal",
        "first_response_s": 7200.0,
        "next_update_s": 28800.0,
        "resolution_s": 86400.0,
        "warn_at": 0.8,
        "escalate_to": ["team_lead", "supervisor"],
    }
)


def rows(count: int, *, zone_suffix: str) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of generated ticket rows (timestamps as SQLAlchemy stores them)."""

    def stamp(moment: datetime) -> str:
        return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") + zone_suffix

    batch: list[tuple[Any, ...]] = []
    for i in range(1, count + 1):
        state = STATES[(i * 31) % len(STATES)]
        # Work still open is recent (up to 30 days, the oldest long past due); finished work
        # spreads over the year.
        days = 30 if state in ("new", "open", "waiting_customer", "dispatched") else 365
        created = NOW - timedelta(minutes=(i * 7919) % (days * 24 * 60))
        kind = TYPES[i % len(TYPES)]
        field_work = kind in ("repair", "installation")
        provider = 1 + i % PROVIDERS if field_work and state == "dispatched" else None
        batch.append(
            (
                i,
                f"T{i:012d}",
                kind,
                state,
                "热水器不加热",
                QUEUES[i % len(QUEUES)],
                f"a{i % 400:03d}" if i % 5 else None,
                provider,
                stamp(created),
                stamp(created + timedelta(days=3)),
                stamp(created) if state == "waiting_customer" else None,
                REGIONS[i % len(REGIONS)],
                f"JSQ{i % 40}-13",
                SLA,
            )
        )
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


COLUMNS = (
    "id, number, type, state, subject, queue, assignee, provider_id, created_at, due_at, "
    "paused_since, region, product_model, sla, category, priority, description, "
    "custom_fields, warranty, acknowledged, claim_status, pauses"
)
REST = ("", "normal", "", "{}", False, "[]", "none", "[]")


def load(engine: Engine, count: int) -> None:
    """Fill a freshly migrated database through the raw driver (fast bulk insert)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        postgres = engine.dialect.name == "postgresql"
        suffix = "+00:00" if postgres else ""
        if not postgres:
            cursor.execute("BEGIN")
        cursor.executemany(
            "INSERT INTO service_providers (id, code, name, region, phone, active) "
            + ("VALUES (%s, %s, %s, %s, '', true)" if postgres else "VALUES (?, ?, ?, ?, '', 1)"),
            [(p, f"p{p:02d}", f"Provider {p}", REGIONS[p % 8]) for p in range(1, PROVIDERS + 1)],
        )
        with Progress(transient=True) as progress:
            task = progress.add_task(f"{engine.dialect.name}: {count:,} tickets", total=count)
            for batch in rows(count, zone_suffix=suffix):
                full = [row + REST for row in batch]
                if postgres:
                    with cursor.copy(f"COPY tickets ({COLUMNS}) FROM STDIN") as copy:
                        for row in full:
                            copy.write_row(row)
                else:
                    marks = ", ".join("?" * len(full[0]))
                    cursor.executemany(f"INSERT INTO tickets ({COLUMNS}) VALUES ({marks})", full)
                progress.advance(task, len(batch))
        raw.commit()
        if postgres:
            # What autovacuum does on a live server: statistics, and the visibility map that
            # lets a count over an index skip the table (a bulk COPY leaves it empty).
            raw.driver_connection.autocommit = True  # type: ignore[union-attr]
            cursor.execute("VACUUM ANALYZE tickets")
        else:
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()


VIEWS: dict[str, work_queue.QueueFilter] = {
    "all_open": work_queue.QueueFilter(),
    "agent": work_queue.QueueFilter(
        visible_queues=("q01", "q02"), visible_assignees=("a007", "li.na")
    ),
    "breached": work_queue.QueueFilter(sla=("breached",)),
    "provider": work_queue.QueueFilter(providers=("p07",)),
    "region_repairs": work_queue.QueueFilter(regions=("chengdu",), types=("repair",)),
    "person": work_queue.QueueFilter(assignees=("a123",)),
}


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile (0–1) by nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def page_load(session: Session, wanted: work_queue.QueueFilter) -> Callable[[], int]:
    """One work-queue page as the API builds it: count, 50 rows, their resolution clocks."""

    def load_page() -> int:
        page = work_queue.search(session, wanted=wanted, now=NOW, sort="sla", limit=50)
        calendars: dict[str | None, Any] = {}
        for ticket in page.tickets:
            tickets.resolution_status(session, ticket=ticket, now=NOW, calendars=calendars)
        session.expunge_all()
        return page.total

    return load_page


def measure(engine: Engine, pages: int) -> dict[str, dict[str, float]]:
    """p50/p95 milliseconds of each view's page load, and how many tickets it matched."""
    found: dict[str, dict[str, float]] = {}
    with Session(engine) as session:
        for name, wanted in VIEWS.items():
            load_page = page_load(session, wanted)
            total = load_page()  # warm-up
            samples = []
            for _ in range(pages):
                started = time.perf_counter()
                load_page()
                samples.append((time.perf_counter() - started) * 1000)
            found[name] = {
                "p50_ms": round(statistics.median(samples), 2),
                "p95_ms": round(percentile(samples, 0.95), 2),
                "matched": total,
            }
    return found


def run_backend(engine: Engine, pages: int) -> dict[str, Any]:
    """Hotline with its indexes, then the peer without them (indexes restored after)."""
    ours = measure(engine, pages)
    with engine.begin() as connection:
        for name in INDEXES:
            connection.execute(text(f"DROP INDEX {name}"))
        connection.execute(text("ANALYZE"))
    try:
        peer = measure(engine, max(3, pages // 4))
    finally:
        with engine.begin() as connection:
            for name, on in INDEXES.items():
                connection.execute(text(f"CREATE INDEX {name} ON {on}"))
            connection.execute(text("ANALYZE"))
    return {
        "views": ours,
        "p95_ms": {name: view["p95_ms"] for name, view in ours.items()},
        "peer_without_indexes_p95_ms": {name: view["p95_ms"] for name, view in peer.items()},
        "index_speedup": {
            name: round(peer[name]["p95_ms"] / max(ours[name]["p95_ms"], 1e-3), 2) for name in ours
        },
    }


def build_key() -> str:
    """Short hash of what shapes the stored database: this file and the migrations."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    versions = ROOT / "src/hotline/store/migrations/versions"
    for name in ("servicedesk_0001.py", "backoffice_0001.py"):
        digest.update((versions / name).read_bytes())
    return digest.hexdigest()[:8]


def sqlite_engine(count: int) -> tuple[Engine, float]:
    """The reusable SQLite database of this size (built when missing); build seconds."""
    path = ROOT / "var" / "bench" / f"work_queue_{count}_{build_key()}.db"
    started = time.perf_counter()
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{partial}")
        upgrade(engine)
        load(engine, count)
        engine.dispose()
        partial.rename(path)
    return make_engine(f"sqlite:///{path}"), time.perf_counter() - started


def postgres_engine(url: str, count: int) -> tuple[Engine, float]:
    """A rebuilt PostgreSQL schema filled with the data set; build seconds."""
    started = time.perf_counter()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    load(engine, count)
    return engine, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200,000 tickets, 20 pages a view")
    parser.add_argument("--tickets", type=int, default=None)
    parser.add_argument("--pages", type=int, default=None, help="page loads per view")
    args = parser.parse_args()
    count = args.tickets or (200_000 if args.quick else 1_000_000)
    pages = args.pages or (20 if args.quick else 100)
    result: dict[str, Any] = {"bench": "work_queue", "tickets": count, "pages_per_view": pages}
    engine, built = sqlite_engine(count)
    result["sqlite"] = run_backend(engine, pages) | {"build_s": round(built, 1)}
    engine.dispose()
    url = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
    if url:
        engine, built = postgres_engine(url, count)
        result["postgres"] = run_backend(engine, pages) | {"build_s": round(built, 1)}
        engine.dispose()
    result["database"] = [name for name in ("sqlite", "postgres") if name in result]
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
