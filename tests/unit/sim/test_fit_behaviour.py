"""The twin's behaviour fitted from history: handle times per hour, patience per priority.

Synthetic histories where the truth is known: handle times drawn with an hour-of-day effect,
patience drawn per priority and cut short (censored) by answers. The fit recovers them, and
the simulator draws each contact's handle time by the interval it arrives in and its patience
by its stream's priority.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.core.events import Channel
from hotline.metrics.records import ContactRecord, fold_events
from hotline.replay.driver import TraceContact
from hotline.routing.model import PriorityMode, QueueConfig
from hotline.sim.distributions import Constant, Exponential, Never
from hotline.sim.driver import Simulation
from hotline.sim.fit import fit_behaviour, fit_scenario, waiting_at_arrival, with_behaviour
from hotline.sim.scenario import AgentGroup, ArrivalStream, QueueSpec, Scenario

TZ = "Asia/Jerusalem"
DAY = datetime(1999, 6, 1, tzinfo=ZoneInfo(TZ)).timestamp()  # local midnight
HOUR = 3600.0


def answered(n: int, at: float, wait: float, handle: float, queue: str = "q", priority: int = 0):
    return ContactRecord(
        contact_id=f"c{n}", arrived_at=at, queued_at=at, answered_at=at + wait, agent="a",
        queue=queue, outcome="answered", talk_s=handle, priority=priority,
    )  # fmt: skip


def abandoned(n: int, at: float, wait: float, queue: str = "q", priority: int = 0):
    return ContactRecord(
        contact_id=f"c{n}", arrived_at=at, queued_at=at, abandoned_at=at + wait,
        queue=queue, outcome="abandoned", priority=priority,
    )  # fmt: skip


def hour_effect_history(rng: random.Random) -> list[ContactRecord]:
    """Log-normal handle times: mean 300 s at 09:00 local, 120 s at 15:00, 200 s at 20:00."""
    truth = {9: 300.0, 15: 120.0, 20: 200.0}
    records = []
    for n in range(3000):
        hour = (9, 15, 20)[n % 3]
        at = DAY + (n // 3 % 30) * 86400 + hour * HOUR + rng.uniform(0, HOUR - 1)
        handle = rng.lognormvariate(0, 0.6) * truth[hour] / 1.197  # E[lognormal(0, 0.6)]
        records.append(answered(n, at, 0.0, handle))
    return records


def test_handle_times_with_an_hour_effect_are_recovered_per_local_hour() -> None:
    fitted = fit_behaviour(hour_effect_history(random.Random(7)), timezone=TZ)["q"]
    means = {hour: round(d.mean, -1) for hour, d in fitted.handle_time_by_hour.items()}
    assert set(means) == {9, 15, 20}
    assert means[9] == pytest.approx(300, rel=0.08)
    assert means[15] == pytest.approx(120, rel=0.08)
    assert means[20] == pytest.approx(200, rel=0.08)
    # The queue's pooled handle time is the mixture, as before.
    assert fitted.handle_time.mean == pytest.approx(207, rel=0.08)


def test_an_hour_with_too_few_contacts_keeps_the_queues_handle_time() -> None:
    records = hour_effect_history(random.Random(7))[:300]  # 100 per hour
    fitted = fit_behaviour(records, timezone=TZ, min_handle_samples=101)["q"]
    assert fitted.handle_time_by_hour == {}
    assert fit_behaviour(records, timezone=TZ, by_hour=False)["q"].handle_time_by_hour == {}


def priority_history(rng: random.Random) -> list[ContactRecord]:
    """Exponential patience, mean 60 s for priority 1 and 300 s for priority 2 (a third of
    callers); each caller is answered after an exponential delay of mean 120 s unless their
    patience runs out first. Priority 0 callers never wait (their class is not recorded)."""
    truth = {1: 60.0, 2: 300.0}
    records = []
    for n in range(6000):
        at = DAY + 8 * HOUR + n * 5.0
        if n % 4 == 0:
            records.append(answered(n, at, 0.0, 100.0, priority=0))
            continue
        priority = 2 if n % 3 == 0 else 1
        patience = rng.expovariate(1 / truth[priority])
        delay = rng.expovariate(1 / 120.0)
        if patience < delay:
            records.append(abandoned(n, at, patience, priority=priority))
        else:
            records.append(answered(n, at, delay, 100.0, priority=priority))
    return records


def test_patience_per_priority_is_recovered_from_censored_waits() -> None:
    history = priority_history(random.Random(11))
    fitted = fit_behaviour(history, timezone=TZ, unlabelled_priorities=(0,))["q"]
    assert set(fitted.patience_by_priority) == {1, 2}
    assert fitted.patience_by_priority[1].mean == pytest.approx(60, rel=0.1)
    assert fitted.patience_by_priority[2].mean == pytest.approx(300, rel=0.15)
    # Shares among the labelled callers: priority 2 is every third.
    assert fitted.priority_shares[2] == pytest.approx(1 / 3, abs=0.01)
    assert 0 not in fitted.priority_shares
    # One pooled curve says neither.
    assert 80 < fitted.patience.mean < 250


def test_a_priority_with_few_abandons_uses_the_pooled_patience() -> None:
    history = priority_history(random.Random(11))
    fitted = fit_behaviour(history, timezone=TZ, unlabelled_priorities=(0,), min_abandons=10**6)
    q = fitted["q"]
    assert q.patience_by_priority == {1: q.patience, 2: q.patience}
    assert fit_behaviour(history, timezone=TZ, by_priority=False)["q"].patience_by_priority == {}


def test_with_behaviour_splits_streams_by_priority_and_handle_times_by_local_hour() -> None:
    history = hour_effect_history(random.Random(7)) + priority_history(random.Random(11))
    behaviour = fit_behaviour(history, timezone=TZ, unlabelled_priorities=(0,))
    day = [answered(1, DAY + 9 * HOUR, 0, 60), answered(2, DAY + 21.5 * HOUR, 0, 60)]
    scenario = fit_scenario(day, interval_s=HOUR, timezone=TZ)
    refined = with_behaviour(scenario, behaviour, head_start_by_priority={2: 90.0})
    (queue,) = refined.queues
    assert queue.config.priority_mode is PriorityMode.HEAD_START
    assert queue.config.head_start(2) == 90.0 and queue.config.head_start(1) == 0.0
    # Intervals 09:00 … 21:00 local, each with its local hour's fit.
    by_hour = behaviour["q"].handle_time_by_hour
    assert len(queue.handle_time_per_interval) == 13
    assert queue.handle_time_at(0) is by_hour[9]
    assert queue.handle_time_at(6) is by_hour[15]
    assert queue.handle_time_at(11) is by_hour[20]
    assert queue.handle_time_at(9) is behaviour["q"].handle_time  # 18:00: no fit, pooled
    # One stream per priority; together they carry the queue's arrivals.
    assert sorted(s.priority or 0 for s in refined.arrivals) == [1, 2]
    streams = (s.rates_per_s for s in refined.arrivals)
    total = [sum(rates) for rates in zip(*streams, strict=True)]
    assert total == pytest.approx(list(scenario.arrivals[0].rates_per_s))
    assert queue.patience_of(2) is behaviour["q"].patience_by_priority[2]


def simulated(
    spec: QueueSpec,
    group: AgentGroup,
    *streams: ArrivalStream,
    trace: tuple[TraceContact, ...] = (),
) -> list[ContactRecord]:
    """The contact records of one run of a one-queue scenario of 10-minute intervals."""
    scenario = Scenario(
        name="behaviour",
        start=0.0,
        timezone="UTC",
        interval_s=600.0,
        queues=(spec,),
        agents=(group,),
        arrivals=streams,
        trace=trace,
    )
    return fold_events(Simulation(scenario, seed=3).run().events)


def test_the_simulator_draws_handle_time_by_interval_and_patience_by_priority() -> None:
    # Interval 0: 30 s conversations, interval 1: 90 s. No agent in interval 1 after the first
    # calls: priority 1 callers give up after 10 s, priority 2 after 50 s.
    spec = QueueSpec(
        config=QueueConfig(id="q", requirements=("q >= 1",)),
        handle_time=Constant(1000.0),
        patience=Never(),
        handle_time_per_interval=(Constant(30.0), Constant(90.0), Constant(90.0)),
        patience_by_priority={1: Constant(10.0), 2: Constant(50.0)},
    )
    records = simulated(
        spec,
        AgentGroup(name="g", count=1, skills={"q": 1}, per_interval=(1, 1, 0)),
        ArrivalStream("q", (0.005, 0.005, 0.0), Channel.VOICE, priority=1),
        ArrivalStream("q", (0.0, 0.0, 0.005), Channel.VOICE, priority=2),
    )
    # Handle times are drawn as the caller arrives: by the interval they queued in.
    handles = {(int((r.queued_at or 0) // 600), r.talk_s) for r in records if r.answered_at}
    assert {talk for k, talk in handles if k == 0} == {30.0}
    assert {talk for k, talk in handles if k == 1} == {90.0}
    late = {r.wait_s for r in records if r.answered_at is None and (r.queued_at or 0) >= 1200}
    early = {r.wait_s for r in records if r.answered_at is None and (r.queued_at or 0) < 1200}
    assert late == {50.0}
    assert early <= {10.0}


def test_a_replayed_contact_waits_with_its_priority_s_patience() -> None:
    # Nobody answers: each replayed caller gives up when their own priority's patience ends.
    spec = QueueSpec(
        config=QueueConfig(id="q", requirements=("q >= 1",)),
        handle_time=Constant(60.0),
        patience=Constant(10.0),
        patience_by_priority={2: Constant(50.0)},
    )
    trace = tuple(
        TraceContact(at, "q", Channel.VOICE, None, 0.0, abandoned=False, priority=priority)
        for at, priority in ((0.0, 1), (100.0, 2), (200.0, None))
    )
    records = simulated(
        spec,
        AgentGroup(name="g", count=0, skills={"q": 1}),
        ArrivalStream("q", (0.0,)),
        trace=trace,
    )
    assert sorted((r.queued_at, r.wait_s) for r in records) == [
        (0.0, 10.0),
        (100.0, 50.0),
        (200.0, 10.0),
    ]


def test_the_simulator_draws_patience_by_the_queue_the_caller_finds() -> None:
    # Nobody answers. Callers who find fewer than 2 waiting give up after 100 s, the others
    # after 10 s (priority 2: 50 s whatever the queue), Poisson and replayed callers alike.
    spec = QueueSpec(
        config=QueueConfig(id="q", requirements=("q >= 1",)),
        handle_time=Constant(60.0),
        patience=Never(),
        waiting_bands=(0, 2),
        patience_by_waiting={None: (Constant(100.0), Constant(10.0))},
        patience_by_priority={2: Constant(50.0)},
    )
    records = simulated(
        spec, AgentGroup(name="g", count=0, skills={"q": 1}), ArrivalStream("q", (0.05,) * 3)
    )
    found = waiting_at_arrival(records)
    assert len(records) > 50 and {found[r.contact_id] for r in records} >= {0, 1, 2, 3}
    waits = [r.wait_s for r in records]
    assert waits == pytest.approx([100.0 if found[r.contact_id] < 2 else 10.0 for r in records])
    trace = tuple(
        TraceContact(at, "q", Channel.VOICE, None, 0.0, abandoned=False, priority=priority)
        for at, priority in ((0.0, 1), (1.0, 1), (2.0, 1), (3.0, None), (4.0, 2), (500.0, 1))
    )
    replayed = simulated(
        replace(
            spec,
            patience_by_waiting={2: (Constant(50.0),) * 2, None: (Constant(100.0), Constant(10.0))},
        ),
        AgentGroup(name="g", count=0, skills={"q": 1}),
        ArrivalStream("q", (0.0,)),
        trace=trace,
    )
    assert [r.wait_s for r in sorted(replayed, key=lambda r: r.queued_at or 0.0)] == pytest.approx(
        [100.0, 100.0, 10.0, 10.0, 50.0, 100.0]
    )


def test_queue_spec_rejects_waiting_bands_that_do_not_match() -> None:
    config = QueueConfig(id="q")
    with pytest.raises(ValueError, match="must start at 0"):
        QueueSpec(config, Constant(1.0), Never(), waiting_bands=(1, 3))
    with pytest.raises(ValueError, match=r"patience_by_waiting\[None\] has 1 distributions"):
        QueueSpec(
            config, Constant(1.0), Never(), waiting_bands=(0, 3),
            patience_by_waiting={None: (Constant(5.0),)},
        )  # fmt: skip
    with pytest.raises(ValueError, match="must start at 0"):
        fit_behaviour([], timezone=TZ, waiting_bands=(0, 0))


#: Exponential patience by the callers found waiting: none or one, 2–4, 5 or more.
WAITING_TRUTH = {0: 300.0, 2: 100.0, 5: 30.0}


def state_dependent_history() -> list[ContactRecord]:
    """Twenty hours of a queue through the routing engine whose callers' patience depends on
    the queue they find (the truth above): 4 agents, 100 s calls, 3 calls a minute for three
    hours, then 1 a minute for two, four times."""
    spec = QueueSpec(
        config=QueueConfig(id="q", requirements=("q >= 1",)),
        handle_time=Exponential(100.0),
        patience=Never(),
        waiting_bands=tuple(WAITING_TRUTH),
        patience_by_waiting={None: tuple(Exponential(m) for m in WAITING_TRUTH.values())},
    )
    scenario = Scenario(
        name="state", start=0.0, timezone="UTC", interval_s=600.0, queues=(spec,),
        agents=(AgentGroup(name="g", count=4, skills={"q": 1}),),
        arrivals=(ArrivalStream("q", ((0.05,) * 18 + (1 / 60,) * 12) * 4),),
    )  # fmt: skip
    return fold_events(Simulation(scenario, seed=1).run().events)


def test_patience_by_the_queue_found_is_recovered_from_the_logs() -> None:
    history = state_dependent_history()
    fitted = fit_behaviour(history, timezone="UTC", waiting_bands=tuple(WAITING_TRUTH))["q"]
    assert fitted.waiting_bands == (0, 2, 5)
    per_band = fitted.patience_by_waiting[None]
    # Callers who find no queue rarely wait long: about 100 abandons in twenty hours, so
    # their mean is the loosest (seeds 1-6 gave 207-360 s for 300 s).
    assert per_band[0].mean == pytest.approx(300, rel=0.35)
    assert per_band[1].mean == pytest.approx(100, rel=0.2)
    assert per_band[2].mean == pytest.approx(30, rel=0.15)
    # One curve for every caller is far from each band.
    pooled = fit_behaviour(history, timezone="UTC")["q"]
    assert pooled.patience_by_waiting == {} and pooled.waiting_bands == ()
    assert not 0.75 < pooled.patience.mean / WAITING_TRUTH[0] < 1.25
    assert not 0.75 < pooled.patience.mean / WAITING_TRUTH[5] < 1.25
    # A band with too few abandons takes the band below's curve.
    sparse = fit_behaviour(history, timezone="UTC", waiting_bands=(0, 2, 5, 1000), min_abandons=30)[
        "q"
    ].patience_by_waiting[None]
    assert sparse[3] is sparse[2]


def test_with_behaviour_puts_the_waiting_bands_into_the_queue() -> None:
    behaviour = fit_behaviour(
        state_dependent_history(), timezone="UTC", waiting_bands=tuple(WAITING_TRUTH)
    )
    scenario = fit_scenario([answered(1, 0.0, 0, 60)], interval_s=600.0)
    (queue,) = with_behaviour(scenario, behaviour).queues
    assert queue.waiting_bands == (0, 2, 5)
    assert queue.patience_of(None, 3) is behaviour["q"].patience_by_waiting[None][1]
    assert queue.patience_of(1, 9) is behaviour["q"].patience_by_waiting[None][2]
