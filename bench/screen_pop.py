"""Benchmark: screen pop by calling number over 1 million customers, SQLite and PostgreSQL.

Builds a migrated database with N customers (default 1,000,000), each with a mobile (and
every third a landline), a product and two contacts, plus 100,000 open tickets; then looks up
random calling numbers written the ways caller ID shows them (``+86 138…``, ``0086…``,
``0138…``, a local landline without area code) — 10 % of them unknown numbers — through
:func:`hotline.desk.customers.screen_pop`, and reports p50 / p99 latency per backend.

Peer, in the same run: the same four SQL statements sent straight through the database
driver (``sqlite3`` / ``psycopg``) with a pre-normalised number, the floor any Python code
can reach; ``overhead_ratio`` = Hotline p99 ÷ driver p99. Target: Hotline p99 < 5 ms.

The SQLite database is kept in ``var/bench/`` and reused by later runs of the same size;
PostgreSQL runs when ``HOTLINE_TEST_POSTGRES_URL`` is set (its schema is rebuilt). Prints one
JSON line.

    .venv/bin/python bench/screen_pop.py [--quick] [--customers N] [--lookups N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from hotline.desk import customers as desk
from hotline.store.db import make_engine
from hotline.store.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
AREA = "21"  # every generated landline is in Shanghai (021)
BATCH = 50_000
# sla, category, priority, description, queue, custom_fields, warranty, acknowledged,
# claim_status, pauses: the same for every generated ticket.
TICKET_REST = ("{}", "", "normal", "", "", "{}", False, "[]", "none", "[]")


def mobile(i: int) -> str:
    """The i-th customer's mobile: distinct for every i below 10**9."""
    return f"1{3 + i % 7}{i:09d}"


def landline(i: int) -> str:
    """The i-th customer's Shanghai landline local number (8 digits)."""
    return f"{5 + i % 4}{i:07d}"


def rows(customers: int, *, zone_suffix: str) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Yield (table, batch of rows) for the generated data set, in foreign-key order.

    Timestamps are written as SQLAlchemy stores them on SQLite (naive UTC text); PostgreSQL
    gets the same text with ``zone_suffix`` ``+00:00``.
    """
    now = datetime(2026, 11, 1)

    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f") + zone_suffix

    created = stamp(now)
    for table in ("customers", "customer_phones", "products", "customer_contacts", "tickets"):
        batch: list[tuple[Any, ...]] = []
        for i in range(1, customers + 1):
            if table == "customers":
                name = SURNAMES[i % 20] + GIVEN[(i // 20) % 20] + GIVEN[(i // 400) % 20]
                batch.append((i, name, name, "person", i % 3, "zh-CN", "sh", "", created, created))
            elif table == "customer_phones":
                batch.append((2 * i, i, f"+86{mobile(i)}", mobile(i), "mobile", ""))
                if i % 3 == 0:
                    local = landline(i)
                    batch.append((2 * i + 1, i, f"+86{AREA}{local}", local, "landline", ""))
            elif table == "products":
                warranty = date(2025, 1, 1) + timedelta(days=i % 1000)
                batch.append((i, i, f"JSQ{i % 40}", "water heater", f"SN{i:010d}", warranty))
            elif table == "customer_contacts":
                for k in (0, 1):
                    at = stamp(now - timedelta(days=(i + k * 13) % 300))
                    batch.append((2 * i + k, i, at, "voice", "inbound", f"A{i % 500}", "来电咨询"))
            elif table == "tickets" and i % 10 == 0:
                batch.append(
                    (
                        i // 10,
                        f"T{i:012d}",
                        "repair",
                        "open",
                        "热水器不加热",
                        i,
                        created,
                        *TICKET_REST,
                    )
                )
            if len(batch) >= BATCH:
                yield table, batch
                batch = []
        if batch:
            yield table, batch


INSERTS = {
    "customers": "INSERT INTO customers (id, name, name_folded, kind, vip_level, language, site, "
    "note, created_at, updated_at) VALUES ({})",
    "customer_phones": "INSERT INTO customer_phones (id, customer_id, e164, raw, kind, label) "
    "VALUES ({})",
    "products": "INSERT INTO products (id, customer_id, model, category, serial_number, "
    "warranty_until) VALUES ({})",
    "customer_contacts": "INSERT INTO customer_contacts (id, customer_id, at, channel, direction, "
    "agent_id, summary) VALUES ({})",
    "tickets": "INSERT INTO tickets (id, number, type, state, subject, customer_id, created_at, "
    "sla, category, priority, description, queue, custom_fields, warranty, acknowledged, "
    "claim_status, pauses) VALUES ({})",
}


COPIES = {
    "customers": "COPY customers (id, name, name_folded, kind, vip_level, language, site, note, "
    "created_at, updated_at) FROM STDIN",
    "customer_phones": "COPY customer_phones (id, customer_id, e164, raw, kind, label) FROM STDIN",
    "products": "COPY products (id, customer_id, model, category, serial_number, warranty_until) "
    "FROM STDIN",
    "customer_contacts": "COPY customer_contacts (id, customer_id, at, channel, direction, "
    "agent_id, summary) FROM STDIN",
    "tickets": "COPY tickets (id, number, type, state, subject, customer_id, created_at, sla, "
    "category, priority, description, queue, custom_fields, warranty, acknowledged, "
    "claim_status, pauses) FROM STDIN",
}


def load(engine: Engine, customers: int) -> None:
    """Fill a freshly migrated database through the raw driver (fast bulk insert)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        mark = "?" if engine.dialect.name == "sqlite" else "%s"
        suffix = "" if engine.dialect.name == "sqlite" else "+00:00"
        if engine.dialect.name == "sqlite":
            # SQLAlchemy leaves pysqlite in autocommit mode: without an explicit BEGIN every
            # row would be its own transaction.
            cursor.execute("BEGIN")
        for table, batch in rows(customers, zone_suffix=suffix):
            if engine.dialect.name == "postgresql":
                # COPY is PostgreSQL's bulk path: minutes of INSERTs become seconds.
                with cursor.copy(COPIES[table]) as copy:
                    for row in batch:
                        copy.write_row(row)
                continue
            sql = INSERTS[table].format(", ".join([mark] * len(batch[0])))
            cursor.executemany(sql, batch)
        raw.commit()
        # Fresh statistics, or PostgreSQL plans parallel scans for one-row lookups.
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def calling_numbers(customers: int, count: int, seed: int) -> list[tuple[str, str | None]]:
    """(number as caller ID shows it, E.164 the driver peer is given) — 10 % unknown."""
    rng = random.Random(seed)
    out: list[tuple[str, str | None]] = []
    for _ in range(count):
        i = rng.randrange(1, customers + 1)
        kind = rng.random()
        if kind < 0.1:
            out.append((f"1990{rng.randrange(10**7):07d}", "+861990"))  # nobody has these
        elif kind < 0.3 and i % 3 == 0:
            out.append((landline(i), f"+86{AREA}{landline(i)}"))
        else:
            m = mobile(i)
            shown = rng.choice((m, f"+86{m}", f"0086{m}", f"0{m}", f"+86 {m[:3]} {m[3:7]} {m[7:]}"))
            out.append((shown, f"+86{m}"))
    return out


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile (0–1) by nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def measure(call: Callable[[], Any], count: int) -> list[float]:
    """Run ``call`` ``count`` times; return the latencies in milliseconds."""
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


DRIVER_SQL = (
    "SELECT c.id, c.name, c.vip_level, c.merged_into_id FROM customers c "
    "JOIN customer_phones p ON p.customer_id = c.id WHERE p.e164 = {m}",
    "SELECT id, customer_id, model, serial_number, warranty_until FROM products "
    "WHERE customer_id = {m}",
    "SELECT at, channel, direction, agent_id, summary FROM customer_contacts "
    "WHERE customer_id = {m} ORDER BY at DESC LIMIT 5",
    "SELECT id, number, type, state, subject, due_at FROM tickets WHERE customer_id = {m} "
    "AND state IN ('new', 'open', 'waiting_customer', 'dispatched', 'resolved') ORDER BY id DESC",
)


def run_backend(
    engine: Engine, numbers: list[tuple[str, str | None]], *, warmup: int
) -> dict[str, Any]:
    """Time Hotline's screen pop and the driver peer on one engine."""
    found = 0
    iterator = iter(numbers)

    with Session(engine) as session:

        def hotline_pop() -> None:
            nonlocal found
            shown, _ = next(iterator)
            pop = desk.screen_pop(session, calling_number=shown, default_area_code="021")
            found += bool(pop.customers)

        measure(hotline_pop, warmup)
        iterator = iter(numbers)
        found = 0
        ours = measure(hotline_pop, len(numbers))

    raw = engine.raw_connection()
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    statements = [sql.format(m=mark) for sql in DRIVER_SQL]
    targets = iter(numbers)

    def driver_pop() -> None:
        _, e164 = next(targets)
        cursor = raw.cursor()
        cursor.execute(statements[0], (e164,))
        ids = [row[0] for row in cursor.fetchall()]
        for customer_id in ids:
            for sql in statements[1:]:
                cursor.execute(sql, (customer_id,))
                cursor.fetchall()

    measure(driver_pop, warmup)
    targets = iter(numbers)
    peer = measure(driver_pop, len(numbers))
    raw.close()
    return {
        "p50_ms": round(statistics.median(ours), 3),
        "p99_ms": round(percentile(ours, 0.99), 3),
        "max_ms": round(max(ours), 3),
        "found_share": round(found / len(numbers), 3),
        "driver_p50_ms": round(statistics.median(peer), 3),
        "driver_p99_ms": round(percentile(peer, 0.99), 3),
        "overhead_ratio": round(percentile(ours, 0.99) / percentile(peer, 0.99), 2),
        "target_met": percentile(ours, 0.99) < 5.0,
    }


def build_key() -> str:
    """Short hash of what shapes the stored database: this file and the migration."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update((ROOT / "src/hotline/store/migrations/versions/servicedesk_0001.py").read_bytes())
    return digest.hexdigest()[:8]


def sqlite_engine(customers: int, fresh: bool, mmap_mb: int) -> tuple[Engine, float]:
    """The reusable SQLite database of this size (built when missing); build seconds.

    ``mmap_mb`` > 0 memory-maps that much of the file and gives SQLite the same page cache
    (not the engine's default, so it is opt-in and reported).
    """
    path = ROOT / "var" / "bench" / f"screen_pop_{customers}_{build_key()}.db"
    if fresh and path.exists():
        path.unlink()
    started = time.perf_counter()
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{partial}")
        upgrade(engine)
        load(engine, customers)
        engine.dispose()
        partial.rename(path)
    engine = make_engine(f"sqlite:///{path}")
    if mmap_mb > 0:

        @event.listens_for(engine, "connect")
        def _map(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA mmap_size = {mmap_mb * 1024 * 1024}")
            cursor.execute(f"PRAGMA cache_size = -{mmap_mb * 1024}")
            cursor.close()

    return engine, time.perf_counter() - started


def postgres_engine(url: str, customers: int) -> tuple[Engine, float]:
    """A rebuilt PostgreSQL schema filled with the data set; build seconds."""
    started = time.perf_counter()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    load(engine, customers)
    return engine, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 customers, 1,000 lookups")
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--lookups", type=int, default=None)
    parser.add_argument("--fresh", action="store_true", help="rebuild the SQLite database")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument(
        "--sqlite-mmap-mb",
        type=int,
        default=0,
        help="memory-map this many MiB of the SQLite file (default 0: the engine as shipped)",
    )
    args = parser.parse_args()
    customers = args.customers or (100_000 if args.quick else 1_000_000)
    lookups = args.lookups or (1_000 if args.quick else 5_000)
    numbers = calling_numbers(customers, lookups, args.seed)
    result: dict[str, Any] = {
        "benchmark": "screen_pop",
        "customers": customers,
        "lookups": lookups,
        "seed": args.seed,
        # Other work on the machine shows up in the tail latencies: say how busy it was.
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "sqlite_version": sqlite3.sqlite_version,
    }
    engine, built = sqlite_engine(customers, args.fresh, args.sqlite_mmap_mb)
    result["sqlite"] = {"build_s": round(built, 1), "mmap_mb": args.sqlite_mmap_mb} | run_backend(
        engine, numbers, warmup=200
    )
    engine.dispose()
    url = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
    if url:
        engine, built = postgres_engine(url, customers)
        result["postgresql"] = {"build_s": round(built, 1)} | run_backend(
            engine, numbers, warmup=200
        )
        engine.dispose()
    else:
        result["postgresql"] = "skipped: HOTLINE_TEST_POSTGRES_URL is not set"
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
