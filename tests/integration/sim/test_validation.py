"""The simulator against queueing theory, and against a real month of the bank.

M/M/N (Erlang C) and M/M/N+M (Erlang A, Palm 1957; Garnett, Mandelbaum & Reiman 2002) have
closed forms, computed here by ``hotline.wfm.erlang``. Thirty replications of an eight-hour
day (10 agents, 8 Erlangs, exponential handle time of 60 s) run through the real routing
engine, the first half hour left out as warm-up, and the figures computed by the metrics
engine from the event log must agree with theory.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from hotline.metrics.bankdata import bank_mapping, read_bank_month
from hotline.metrics.compute import queue_figures
from hotline.sim.driver import simulate
from hotline.sim.fit import compare, fit_scenario, replay_scenario
from hotline.sim.results import replication_frames
from hotline.sim.scenario import scenario_from_dict
from hotline.wfm.erlang import erlang_a_figures, erlang_c_figures

AGENTS = 10
AHT_S = 60.0
CALLS_PER_HOUR = 480  # 8 Erlangs
THRESHOLD_S = 20.0
BANK_MONTH = (
    Path(__file__).resolve().parents[3].parent / "shared/data/anonymous-bank/1999-01.txt.gz"
)


def scenario(patience: Any) -> Any:
    return scenario_from_dict(
        {
            "start": "2026-03-02T08:00:00",
            "interval_s": 1800,
            "warmup_s": 1800,
            "queues": [
                {
                    "id": "q",
                    "handle_time": {"exponential": AHT_S},
                    "patience": patience,
                    "wrap_up_s": 0,
                    "service_level_threshold_s": THRESHOLD_S,
                }
            ],
            "agents": [{"group": "g", "count": AGENTS}],
            "arrivals": [{"queue": "q", "rates_per_hour": [CALLS_PER_HOUR] * 16}],
        }
    )


def replicated(patience: Any) -> list[dict[str, Any]]:
    run = simulate(scenario(patience), replications=30, seed=2026)
    return [queue_figures(f, interval="all", by=()).rows()[0] for f in replication_frames(run)]


def test_mmn_agrees_with_erlang_c() -> None:
    rows = replicated("never")
    theory = erlang_c_figures(
        agents=AGENTS,
        calls=CALLS_PER_HOUR / 2,
        aht_s=AHT_S,
        interval_s=1800,
        answer_within_s=THRESHOLD_S,
    )
    service_level = statistics.fmean(r["service_level"] for r in rows)
    asa = statistics.fmean(r["asa_s"] for r in rows)
    assert all(r["abandoned"] == 0 for r in rows)
    assert abs(service_level - theory.service_level) <= 0.01
    assert asa == pytest.approx(theory.asa_s, rel=0.05)


def test_mmn_plus_m_abandon_rate_agrees_with_erlang_a() -> None:
    rows = replicated({"exponential": 120})
    theory = erlang_a_figures(
        agents=AGENTS,
        calls=CALLS_PER_HOUR / 2,
        aht_s=AHT_S,
        interval_s=1800,
        patience_s=120,
        answer_within_s=THRESHOLD_S,
    )
    # Erlang A's abandon rate has no short-abandon allowance: abandoned / offered.
    abandon = statistics.fmean(r["abandoned"] / r["offered"] for r in rows)
    assert abs(abandon - theory.abandon_rate) <= 0.01
    assert statistics.fmean(r["asa_s"] for r in rows) == pytest.approx(theory.asa_s, rel=0.1)


@pytest.mark.skipif(not BANK_MONTH.exists(), reason="shared bank data not present")
def test_fit_on_a_bank_month_and_compare_per_day() -> None:
    records = read_bank_month(BANK_MONTH).records
    fitted = fit_scenario(
        records,
        timezone="Asia/Jerusalem",
        name="bank 1999-01",
        pseudo_agents=bank_mapping().pseudo_agents,
    )
    assert "NO_SERVER" not in {g.name for g in fitted.agents}
    run = simulate(fitted, replications=1, seed=1)
    table = compare(run, records)
    days = table.drop_nulls("offered_actual")
    assert days.height >= 25
    # Arrivals are fitted per interval, so simulated volume tracks the actual day by day.
    ratio = (days["offered_simulated"] / days["offered_actual"]).to_numpy()
    assert ((ratio > 0.85) & (ratio < 1.15)).mean() > 0.9
    # Patience and staffing are estimates: the figures are reported, with the same columns.
    assert {
        "abandon_rate_actual",
        "abandon_rate_simulated",
        "asa_s_actual",
        "asa_s_simulated",
    } <= set(table.columns)
    assert days.select(pl.col("abandon_rate_simulated").is_not_null().all()).item()


@pytest.mark.skipif(not BANK_MONTH.exists(), reason="shared bank data not present")
def test_replaying_a_bank_month_offers_every_real_contact_again_on_its_day() -> None:
    """Replay (``hotline simulate --fit-from … --replay``) brings back each queued contact of
    the month at its own time, where fitting only matches the volume within 15 %."""
    records = read_bank_month(BANK_MONTH).records
    replayed = replay_scenario(
        records,
        timezone="Asia/Jerusalem",
        name="bank 1999-01 replayed",
        pseudo_agents=bank_mapping().pseudo_agents,
    )
    queued = [r for r in records if r.queued_at is not None and r.queue is not None]
    assert len(replayed.trace) == len(queued)
    run = simulate(replayed, replications=1, seed=1)
    assert run.contacts == len(queued)
    days = compare(run, records).drop_nulls("offered_actual")
    assert days.height >= 25
    assert (days["offered_simulated"] == days["offered_actual"]).all(), days
