"""The simulator drives the real routing engine: determinism, shifts, breaks, callbacks."""

from __future__ import annotations

import doctest
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from hotline.core.errors import ValidationFailed
from hotline.core.events import EventKind
from hotline.metrics.compute import events_to_frame
from hotline.sim import driver, fit, results, scenario
from hotline.sim.driver import Simulation, simulate
from hotline.sim.scenario import load_scenario, scenario_from_dict


def small(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "start": "2026-03-02T08:00:00",
        "interval_s": 1800,
        "queues": [
            {
                "id": "repair",
                "requirements": ["repair"],
                "handle_time": {"exponential": 120},
                "patience": {"exponential": 60},
                "wrap_up_s": 5,
            }
        ],
        "agents": [{"group": "team", "count": 3, "skills": {"repair": 2}}],
        "arrivals": [{"queue": "repair", "rates_per_hour": [60, 90]}],
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("module", [driver, scenario, results, fit])
def test_docstring_examples(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


def test_same_seed_same_event_log_and_other_seed_differs() -> None:
    sc = scenario_from_dict(small())
    first = Simulation(sc, seed=3).run().events
    again = Simulation(sc, seed=3).run().events
    other = Simulation(sc, seed=4).run().events
    assert [e.as_dict() for e in first] == [e.as_dict() for e in again]
    assert [e.as_dict() for e in first] != [e.as_dict() for e in other]
    assert [(e.at, e.seq) for e in first] == sorted((e.at, e.seq) for e in first)


def test_every_contact_finishes_once_with_a_known_outcome() -> None:
    run = Simulation(scenario_from_dict(small()), seed=9).run()
    finished = Counter(e.contact_id for e in run.events if e.kind is EventKind.FINISHED)
    arrived = {e.contact_id for e in run.events if e.kind is EventKind.ARRIVED}
    assert set(finished) == arrived and set(finished.values()) == {1}
    frame = events_to_frame(run.events)
    assert frame.height == run.contacts
    assert set(frame["outcome"].unique()) <= {"answered", "abandoned"}
    assert run.conflicts == 0 and run.cut_at is None


def test_agents_get_nothing_outside_their_shift_or_on_break() -> None:
    sc = scenario_from_dict(
        small(
            agents=[
                {
                    "group": "team",
                    "count": 2,
                    "skills": {"repair": 2},
                    "shifts": [
                        {
                            "start": "08:20",
                            "end": "09:00",
                            "breaks": [{"start": "08:40", "duration_s": 600}],
                        }
                    ],
                }
            ],
            arrivals=[{"queue": "repair", "rates_per_hour": [240, 240]}],
        )
    )
    run = Simulation(sc, seed=1).run()
    answers = [e.at - sc.start for e in run.events if e.kind is EventKind.ANSWERED]
    assert answers and min(answers) >= 20 * 60
    assert not [a for a in answers if 40 * 60 < a < 50 * 60]
    # after 09:00 agents only finish what they hold; nobody new is answered
    assert max(answers) <= 60 * 60
    states = [e for e in run.events if e.kind is EventKind.AGENT_STATE]
    assert any(e.data.get("reason") == "break" for e in states)


def test_per_interval_staffing_follows_the_head_count() -> None:
    sc = scenario_from_dict(
        small(agents=[{"group": "g", "per_interval": [1, 3], "skills": {"repair": 1}}])
    )
    run = Simulation(sc, seed=2).run()
    agents_first = {
        e.agent_id for e in run.events if e.kind is EventKind.ANSWERED and e.at < sc.start + 1800
    }
    agents_second = {
        e.agent_id for e in run.events if e.kind is EventKind.ANSWERED and e.at >= sc.start + 1900
    }
    assert len(agents_first) == 1 and len(agents_second) == 3


def test_callback_option_turns_long_waits_into_callbacks() -> None:
    sc = scenario_from_dict(
        small(
            queues=[
                {
                    "id": "repair",
                    "requirements": ["repair"],
                    "handle_time": 300,
                    "patience": "never",
                    "callback_after_s": 30,
                }
            ],
            agents=[{"group": "team", "count": 1, "skills": {"repair": 2}}],
            arrivals=[{"queue": "repair", "rates_per_hour": [60]}],
        )
    )
    run = Simulation(sc, seed=5).run()
    frame = events_to_frame(run.events)
    outcomes = Counter(frame["outcome"].to_list())
    assert outcomes["callback"] > 0
    callbacks = frame.filter(pl.col("channel") == "callback")
    assert callbacks.height == outcomes["callback"]
    waited = (
        frame.filter(pl.col("channel") == "voice")
        .select((pl.col("answered_at") - pl.col("queued_at")).max())
        .item()
    )
    assert waited is None or waited <= 30.0 + 1e-9


def test_scenario_problems_are_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "timezone: Mars/Olympus\n"
        "queues:\n  - id: q\n    handle_time: {weibull: 2}\n    colour: red\n"
        "agents:\n  - group: g\n    skills: {q: 9}\n"
        "arrivals:\n  - queue: nowhere\n    rates_per_hour: [10]\n"
    )
    with pytest.raises(ValidationFailed) as caught:
        load_scenario(path)
    fields = {p.field for p in caught.value.problems}
    assert {
        "timezone",
        "queues[0].handle_time",
        "queues[0].colour",
        "agents[0].count",
        "arrivals[0].queue",
    } <= fields
    assert all(p.file == str(path) for p in caught.value.problems)


def test_summary_and_outputs(tmp_path: Path) -> None:
    sc = scenario_from_dict(small())
    run = simulate(sc, replications=3, seed=1)
    frames = results.replication_frames(run)
    summary = results.summarise(run, frames)
    row = {(r["queue"], r["figure"]): r for r in summary.rows()}
    offered = [f.filter(pl.col("queued_at").is_not_null()).height for f in frames]
    assert row[("*", "offered")]["mean"] == pytest.approx(sum(offered) / 3)
    assert row[("repair", "service_level")]["ci95_half_width"] >= 0
    table = results.interval_table(run, frames)
    assert table.height == 2 and (table["queue_length"] >= 0).all()
    assert results.write_event_log(run, tmp_path / "e.parquet") == sum(
        len(r.events) for r in run.replications
    )
    assert pl.read_parquet(tmp_path / "e.parquet")["replication"].n_unique() == 3
    paths = results.write_charts(run, tmp_path, intervals=table, frames=frames)
    assert [p.name for p in paths] == [
        "service_level_by_interval.png",
        "queue_length_by_interval.png",
        "wait_distribution.png",
    ]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_agent_states_account_for_every_second_of_handling() -> None:
    from hotline.metrics.compute import agent_figures

    sc = scenario_from_dict(small(agents=[{"group": "team", "count": 4, "skills": {"repair": 2}}]))
    run = Simulation(sc, seed=8).run()
    frame = events_to_frame(run.events)
    handled = frame.select((pl.col("talk_s") + pl.col("wrap_s")).sum()).item()
    states = agent_figures(run.events, interval="day", by=("agent",))
    assert states["handling_s"].sum() == pytest.approx(handled, rel=1e-9)
    assert ((states["occupancy"] > 0) & (states["occupancy"] <= 1)).all()


CENTER = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"


def test_a_scenario_can_name_the_center_configuration(tmp_path: Path) -> None:
    path = tmp_path / "what-if.yaml"
    path.write_text(
        f"center: {CENTER}\n"
        "queues:\n  - id: repair\n    handle_time: {exponential: 200}\n"
        "    callback_after_s: 45\n"
        "agents:\n  - team: t-repair\n"
        "arrivals:\n  - queue: repair\n    rates_per_hour: [200]\n"
    )
    sc = load_scenario(path)
    repair = sc.queue("repair")
    assert repair.config.requirements == ("repair >= 2",)  # routing rules from the center
    assert repair.config.overflow[0].value == 45  # the what-if option comes first
    config = sc.routing_config(seed=1)
    assert {a.id for a in config.agents} == {f"a0{i}" for i in range(11, 21)}
    assert all(a.skills for a in config.agents)
    run = Simulation(sc, seed=1).run()
    answered_by = {e.agent_id for e in run.events if e.kind is EventKind.ANSWERED}
    assert answered_by and answered_by <= {a.id for a in config.agents}

    path.write_text(
        f"center: {CENTER}\nqueues:\n  - id: nowhere\n"
        "arrivals:\n  - queue: repair\n    rates_per_hour: [1]\n"
    )
    with pytest.raises(ValidationFailed) as caught:
        load_scenario(path)
    assert any(p.field == "queues[0].id" for p in caught.value.problems)


def test_occupancy_matches_the_offered_load() -> None:
    # M/M/5 at 4 Erlangs with patient callers: occupancy = carried load / agents = 0.8
    sc = scenario_from_dict(
        small(
            queues=[
                {
                    "id": "repair",
                    "requirements": ["repair"],
                    "handle_time": 60,
                    "patience": "never",
                    "wrap_up_s": 0,
                }
            ],
            agents=[{"group": "team", "count": 5, "skills": {"repair": 2}}],
            arrivals=[{"queue": "repair", "rates_per_hour": [240] * 8}],
            warmup_s=1800,
        )
    )
    run = simulate(sc, replications=2, seed=4)
    summary = {(r["queue"], r["figure"]): r["mean"] for r in results.summarise(run).rows()}
    assert summary[("*", "occupancy")] == pytest.approx(0.8, abs=0.04)


def test_replay_brings_back_each_contact_with_its_own_patience() -> None:
    from hotline.metrics.records import ContactRecord
    from hotline.sim.fit import replay_scenario

    t0 = 1_772_409_600.0
    history = [
        ContactRecord(
            contact_id="h1",
            arrived_at=t0,
            queued_at=t0,
            answered_at=t0 + 30,
            outcome="answered",
            agent="a1",
            queue="q",
            talk_s=120,
        ),
        ContactRecord(
            contact_id="h2",
            arrived_at=t0 + 100,
            queued_at=t0 + 100,
            abandoned_at=t0 + 140,
            outcome="abandoned",
            queue="q",
        ),
        ContactRecord(
            contact_id="h3",
            arrived_at=t0 + 200,
            queued_at=t0 + 200,
            abandoned_at=t0 + 215,
            outcome="abandoned",
            queue="q",
        ),
    ]
    sc = replay_scenario(history)
    assert [t.at for t in sc.trace] == [t0, t0 + 100, t0 + 200]
    # Nobody works in the twin: every replayed caller leaves when their patience runs out.
    no_staff = replace_agents(sc)
    run = Simulation(no_staff, seed=1).run()
    frame = events_to_frame(run.events).sort("queued_at")
    waits = frame.select(pl.col("abandoned_at") - pl.col("queued_at")).to_series().to_list()
    assert waits[1] == pytest.approx(40.0) and waits[2] == pytest.approx(15.0)
    assert waits[0] > 30.0  # answered after 30 s in history: patience is longer than that


def replace_agents(sc: Any) -> Any:
    from dataclasses import replace

    return replace(sc, agents=(replace(sc.agents[0], per_interval=(0,) * sc.intervals),))


def test_the_shipped_sample_scenario_runs() -> None:
    sample = Path(driver.__file__).parent / "samples" / "appliance_monday.yaml"
    sc = load_scenario(sample)
    assert {q.id for q in sc.queues} >= {"repair", "vip", "installation", "complaints"}
    run = Simulation(sc, seed=sc.seed).run()
    outcomes = Counter(events_to_frame(run.events)["outcome"].to_list())
    assert outcomes["answered"] > 500 and run.conflicts == 0


def test_callers_from_a_sites_region_wait_for_that_site_then_anyone() -> None:
    """Two sites serve one queue; every caller comes from hefei's region. Hefei's one agent
    is overloaded: chengdu's agents take a caller only after the 20 s preference, never
    sooner — and without the preference they take callers at once."""

    def two_sites(prefer_s: float) -> dict[str, Any]:
        return small(
            queues=[
                {
                    "id": "repair",
                    "requirements": ["repair"],
                    "handle_time": 120,
                    "patience": "never",
                    "prefer_caller_site_s": prefer_s,
                }
            ],
            agents=[
                {"group": "hf", "count": 1, "skills": {"repair": 2}, "site": "hefei"},
                {"group": "cd", "count": 2, "skills": {"repair": 2}, "site": "chengdu"},
            ],
            arrivals=[{"queue": "repair", "rates_per_hour": [60, 60], "caller_site": "hefei"}],
        )

    def waits_by_site(prefer_s: float) -> dict[str, list[float]]:
        run = Simulation(scenario_from_dict(two_sites(prefer_s)), seed=4).run()
        queued = {e.contact_id: e.at for e in run.events if e.kind is EventKind.QUEUED}
        waits: dict[str, list[float]] = {"hf": [], "cd": []}
        for e in run.events:
            if e.kind is EventKind.ANSWERED and e.agent_id is not None:
                waits[e.agent_id[:2]].append(e.at - queued[str(e.contact_id)])
        return waits

    preferred = waits_by_site(20)
    assert len(preferred["hf"]) > 10 and len(preferred["cd"]) > 10
    assert min(preferred["cd"]) >= 20  # chengdu only after the preference ran out
    assert min(preferred["hf"]) == 0
    plain = waits_by_site(0)
    assert min(plain["cd"]) < 20  # without it, chengdu's free agents answer at once


def test_a_caller_site_no_agent_works_at_is_a_located_problem() -> None:
    with pytest.raises(ValidationFailed) as failed:
        scenario_from_dict(
            small(arrivals=[{"queue": "repair", "rates_per_hour": [60], "caller_site": "wuhan"}])
        )
    assert [(p.field, p.rule) for p in failed.value.problems] == [
        ("arrivals[0].caller_site", "no agent works at site 'wuhan' (agents' sites: none)")
    ]
