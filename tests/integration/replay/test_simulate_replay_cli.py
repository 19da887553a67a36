"""``hotline simulate --fit-from FILE --replay``: the real contacts replayed through the engine."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from hotline.cli.main import app

runner = CliRunner()
HEADER = "contact_id,queue,arrived_at,queued_at,answered_at,abandoned_at,agent,talk_s,outcome\n"
ROWS = [
    # answered after 20 s by a1, 5 minutes of talk
    "h1,repair,2026-03-02T08:00:00,2026-03-02T08:00:00,2026-03-02T08:00:20,,a1,300,answered",
    # gave up after 45 s while a1 was busy
    "h2,repair,2026-03-02T08:01:00,2026-03-02T08:01:00,,2026-03-02T08:01:45,,,abandoned",
    # answered at once
    "h3,repair,2026-03-02T08:10:00,2026-03-02T08:10:00,2026-03-02T08:10:00,,a1,120,answered",
]


def test_the_recorded_contacts_come_back_at_their_times_with_their_patience(
    tmp_path: Path,
) -> None:
    records = tmp_path / "history.csv"
    records.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    arguments = ["simulate", "--fit-from", str(records), "--replay", "--replications", "1"]
    done = runner.invoke(app, [*arguments, "--no-charts", "--out", str(out), "--seed", "3"])
    assert done.exit_code == 0, done.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "replay:history.csv" and summary["contacts"] == 3
    events = pl.read_parquet(out / "events.parquet").sort("seq")
    queued = events.filter(pl.col("kind") == "queued")
    start = 1_772_438_400.0  # 2026-03-02T08:00:00Z
    assert queued["at"].to_list() == [start, start + 60, start + 600]
    # The second caller gave up after 45 s in history and does so again: the agent is busy
    # with the first (answered at once in the twin, 300 s of talk) when they call.
    abandoned = events.filter(pl.col("kind") == "abandoned")
    assert abandoned["at"].to_list() == [start + 60 + 45]
