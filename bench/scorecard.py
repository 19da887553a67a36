"""Benchmark: a team scorecard over four weeks of a year's history, Hotline vs a whole-history load.

Stores N contact records (default 1 million: a year of the sample center's 40 agents) in a
SQLite database, then computes the 28-day team scorecard of every agent
(:func:`hotline.people.service.scorecard`: contact figures, occupancy, CSAT, quality, grades)
and, as the peer in the same run, what a scorecard did before the period was picked in the
database: load every stored record into Polars, keep the period, and compute the same
per-agent contact figures (only those: Hotline's side also computes occupancy, CSAT, quality
and grades, so the ratio understates the gain). Both must agree on every agent's answered
contacts and handle time; the ratio is peer seconds ÷ Hotline seconds (median of
``--repeats``). Prints one JSON line.

    .venv/bin/python bench/scorecard.py [--rows N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from statistics import median
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from rich.console import Console
from rich.progress import Progress

from hotline.config.validate import load_center
from hotline.metrics import service as metrics
from hotline.metrics.compute import queue_figures
from hotline.metrics.records import ContactRecord
from hotline.people import service
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "src/hotline/config/samples/appliance_center.yaml"
YEAR_START = 1_740_758_400.0  # 2025-03-01 00:00 UTC
PERIOD = (date(2026, 1, 5), date(2026, 2, 1))  # 28 days near the end of the year
BATCH = 50_000


def generate(rows: int, agents: list[str], seed: int = 11) -> list[ContactRecord]:
    """``rows`` answered contacts over a year, spread over ``agents`` (seeded)."""
    rng = np.random.default_rng(seed)
    arrived = YEAR_START + np.sort(rng.uniform(0, 365 * 86400, rows))
    talk = rng.lognormal(5.0, 0.6, rows)
    hold = np.where(rng.random(rows) < 0.2, rng.exponential(40.0, rows), 0.0)
    wrap = rng.exponential(30.0, rows)
    who = rng.integers(0, len(agents), rows)
    customers = rng.integers(0, rows // 3 + 1, rows)
    return [
        ContactRecord(
            contact_id=f"b{i}",
            arrived_at=float(arrived[i]),
            queued_at=float(arrived[i]),
            answered_at=float(arrived[i]) + 12.0,
            ended_at=float(arrived[i]) + 12.0 + float(talk[i] + hold[i]),
            outcome="answered",
            queue="repair",
            agent=agents[who[i]],
            customer=f"1390{customers[i]:07d}",
            talk_s=float(talk[i]),
            hold_s=float(hold[i]),
            wrap_s=float(wrap[i]),
        )
        for i in range(rows)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="200,000 contacts")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = 200_000 if args.quick else args.rows
    console = Console(stderr=True)
    center = load_center(SAMPLE)
    agents = [a.id for a in center.agents]
    zone = ZoneInfo(center.center.timezone)
    since = datetime.combine(PERIOD[0], clock(), zone).timestamp()
    until = datetime.combine(PERIOD[1] + timedelta(days=1), clock(), zone).timestamp()

    with tempfile.TemporaryDirectory() as home:
        engine = make_engine(f"sqlite:///{Path(home) / 'bench.db'}")
        upgrade(engine)
        factory = make_session_factory(engine)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("generating and storing contacts", total=rows)
            records = generate(rows, agents)
            with factory() as session:
                for start in range(0, rows, BATCH):
                    chunk = records[start : start + BATCH]
                    metrics.import_records(session=session, records=chunk, source=f"b{start}")
                    progress.advance(task, len(chunk))
                session.commit()
        del records

        hotline_s: list[float] = []
        peer_s: list[float] = []
        card = None
        peer = None
        for _ in range(args.repeats):
            with factory() as session:
                began = time.perf_counter()
                card = service.scorecard(
                    session=session, center=center, start=PERIOD[0], end=PERIOD[1]
                )
                hotline_s.append(time.perf_counter() - began)
            with factory() as session:
                began = time.perf_counter()
                frame = metrics.records_frame(session=session)
                frame = frame.filter((pl.col("queued_at") >= since) & (pl.col("queued_at") < until))
                peer = queue_figures(
                    frame, interval="all", by=("agent",), timezone=center.center.timezone
                ).table
                queue_figures(frame, interval="day", by=("agent",), timezone=center.center.timezone)
                peer_s.append(time.perf_counter() - began)
        engine.dispose()
    assert card is not None and peer is not None
    expected = {row["agent"]: row for row in peer.to_dicts()}
    for agent in card.agents:
        theirs = expected.get(agent.agent)
        answered = int(theirs["answered"]) if theirs else 0
        if agent.answered != answered:
            console.print(f"[red]{agent.agent}: {agent.answered} answered, peer {answered}")
            return 1
        if theirs and abs((agent.figures["aht_s"] or 0) - theirs["aht_s"]) > 1e-6:
            console.print(f"[red]{agent.agent}: AHT differs from the peer's")
            return 1
    in_period = sum(a.answered for a in card.agents)
    ours, theirs_s = median(hotline_s), median(peer_s)
    print(
        json.dumps(
            {
                "contacts": rows,
                "contacts_in_period": in_period,
                "agents": len(card.agents),
                "days": len(card.days),
                "scorecard_ms": round(ours * 1000, 1),
                "peer": "whole-history load, then the period's contact figures",
                "peer_ms": round(theirs_s * 1000, 1),
                "ratio_vs_whole_history": round(theirs_s / ours, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
