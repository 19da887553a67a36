"""Fit a scenario from history, so the twin can be checked against what really happened.

From contact records (METRICS.md, or any ACD's export through a mapping) this estimates:

- **arrival rates** per queue and interval: the contacts that queued in each interval ÷ its
  length (the rate of a Poisson process observed once);
- **handle time** per queue: the empirical distribution of talk + hold + wrap of answered
  contacts (resampled, so the real shape — close to log-normal, Brown et al. 2005 — is kept);
- **patience** per queue: waits of abandoned contacts are patience times, waits of answered
  contacts are *censored* patience times (the caller would have waited at least that long), so
  the survival function of patience is estimated with Kaplan–Meier; beyond the longest
  observed abandon, an exponential tail with the censored-data MLE rate (abandons ÷ total
  waiting time) carries the remaining mass;
- **agents per interval**, two methods (``staffing=``):

  * ``"seen"`` (the default): an agent works an interval when they had a contact in hand
    (answer to end of handling) at some time in it, from the ``agent`` column; each agent
    serves the queues they were seen serving in the history. An upper bound: an agent who
    took one call at 10:01 and left counts for the whole quarter hour, so the twin is too
    good around shift changes and breaks.
  * ``"concurrency"`` (effective staffing, :func:`effective_staffing`): agents are grouped
    by the set of queues they served. Assumption: while a caller of the group's queues
    waits, every agent on the phones is busy (work-conserving routing), so at those moments
    the number of the group's agents busy with answered contacts *is* its staff on the
    phones. In an interval where callers waited, the staff is the time-average of busy
    agents over the moments someone waited (rounded). Agents logged in but idle, or busy
    with work outside the logs, are invisible and not counted — right for a twin, as they
    were not available to callers. In an interval without any waiting the concurrency is
    only a lower bound: its peak plus one agent of slack, capped by the agents seen.

  Pseudo-agents of an export (the bank's ``NO_SERVER``; a mapping lists them under
  ``pseudo_agents``) are not people and add no staff.

A twin checked against days it did not see takes its callers' and agents' behaviour from
*other* days: :func:`fit_behaviour` fits each queue's handle times per local hour and its
patience per priority and per band of callers found waiting (:func:`waiting_at_arrival`)
from a training history, and :func:`with_behaviour` puts them into a day's fitted scenario
(handle time per arrival interval, one arrival stream per priority, patience drawn by the
queue each simulated caller finds).

:func:`compare` then puts simulated and actual figures side by side, per day.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from hotline.core.events import Channel
from hotline.metrics.compute import queue_figures, records_to_frame
from hotline.metrics.definitions import MetricSettings
from hotline.metrics.records import ContactRecord
from hotline.replay.driver import TraceContact
from hotline.routing.model import AgentConfig, PriorityMode, QueueConfig
from hotline.sim.distributions import (
    Constant,
    Distribution,
    Empirical,
    Never,
    SurvivalCurve,
    exponential_rate_mle,
    kaplan_meier,
)
from hotline.sim.driver import SimulationRun
from hotline.sim.results import replication_frames
from hotline.sim.scenario import AgentGroup, ArrivalStream, QueueSpec, Scenario


def fit_patience(waits: Sequence[float], abandoned: Sequence[bool]) -> Distribution:
    """Patience from censored waits: Kaplan–Meier steps with an exponential tail.

    >>> curve = fit_patience([5, 10, 20, 40], [True, False, True, False])
    >>> curve.times, curve.survival
    ((5.0, 20.0), (0.75, 0.375))
    """
    if not any(abandoned):
        return Never()
    times, survival = kaplan_meier(waits, abandoned)
    rate = exponential_rate_mle(waits, abandoned)
    return SurvivalCurve(
        times=times, survival=survival, tail_mean_s=1.0 / rate if rate > 0 else math.inf
    )


def effective_staffing(
    records: Sequence[ContactRecord],
    *,
    start: float,
    interval_s: float,
    intervals: int,
    pseudo_agents: Collection[str] = (),
) -> dict[frozenset[str], list[int]]:
    """Agents on the phones per interval, per group of agents serving the same queues, from
    the answered contacts' concurrency (method and assumptions: the module docstring).

    >>> from hotline.metrics.records import ContactRecord as C
    >>> calls = [C(contact_id=f"c{i}", arrived_at=t, queued_at=t, answered_at=t + w,
    ...            agent=a, queue="q", outcome="answered", talk_s=100)
    ...          for i, (t, w, a) in enumerate([(0, 0, "a"), (10, 30, "b"), (20, 80, "a"),
    ...                                         (1000, 0, "b")])]
    >>> effective_staffing(calls, start=0, interval_s=900, intervals=2)
    {frozenset({'q'}): [2, 1]}
    """
    served: dict[str, set[str]] = defaultdict(set)
    for r in records:
        if r.answered_at is not None and r.agent and r.agent not in pseudo_agents and r.queue:
            served[r.agent].add(r.queue)
    group_of = {agent: frozenset(queues) for agent, queues in served.items()}
    spans: dict[frozenset[str], list[tuple[float, float, str]]] = defaultdict(list)
    waits: dict[frozenset[str], list[tuple[float, float]]] = defaultdict(list)
    for r in records:
        if r.answered_at is not None and r.agent in group_of:
            assert r.agent is not None
            spans[group_of[r.agent]].append(
                (r.answered_at, r.answered_at + max(r.handle_s, 1.0), r.agent)
            )
    for r in records:
        wait = r.wait_s
        if r.queued_at is None or r.queue is None or not wait or wait <= 0:
            continue
        for group in spans:
            if r.queue in group:
                waits[group].append((r.queued_at, r.queued_at + wait))
    staffing: dict[frozenset[str], list[int]] = {}
    for group, busy in spans.items():
        peak = [0] * intervals
        busy_while_waiting = [0.0] * intervals  # ∫ busy agents dt over moments with a wait
        waiting_time = [0.0] * intervals
        seen: list[set[str]] = [set() for _ in range(intervals)]
        # One sweep over both timelines: +/-1 busy agents (kind 0), +/-1 waiting callers (1).
        events = sorted(
            [(b, -0.5, 0, 1) for b, _, _ in busy]
            + [(e, -1.0, 0, -1) for _, e, _ in busy]
            + [(b, 0.0, 1, 1) for b, _ in waits[group]]
            + [(e, -1.0, 1, -1) for _, e in waits[group]]
        )
        agents_busy = 0
        callers_waiting = 0
        for index, (moment, _, kind, step) in enumerate(events):
            if kind == 0:
                agents_busy += step
            else:
                callers_waiting += step
            following = events[index + 1][0] if index + 1 < len(events) else moment
            if following <= moment or agents_busy <= 0:
                continue
            cursor = moment
            while cursor < following:
                k = int((cursor - start) // interval_s)
                edge = min(following, start + (k + 1) * interval_s)
                if 0 <= k < intervals:
                    peak[k] = max(peak[k], agents_busy)
                    if callers_waiting > 0:
                        busy_while_waiting[k] += agents_busy * (edge - cursor)
                        waiting_time[k] += edge - cursor
                cursor = edge
        for begin, end, agent in busy:
            first_k = max(0, int((begin - start) // interval_s))
            last_k = min(intervals - 1, int((end - start) // interval_s))
            for k in range(first_k, last_k + 1):
                seen[k].add(agent)
        staffing[group] = [
            max(1, round(busy_while_waiting[k] / waiting_time[k]))
            if waiting_time[k] > 0
            else min(len(seen[k]), peak[k] + 1)
            for k in range(intervals)
        ]
    return staffing


def fit_scenario(
    records: Sequence[ContactRecord],
    *,
    interval_s: float = 900.0,
    timezone: str = "UTC",
    name: str = "fitted",
    pseudo_agents: Collection[str] = (),
    staffing: str = "seen",
) -> Scenario:
    """Estimate a scenario (arrivals, handle time, patience, staffing) from contact records.

    Quarter hours by default: an agent seen working at any moment of an interval counts for
    all of it, so longer intervals overstate staff around shift changes and breaks (on the
    bank's January 1999, 30-minute intervals gave a simulated ASA of 7 s against 29 s actual;
    15-minute intervals give 12 s).
    """
    queued = [r for r in records if r.queued_at is not None and r.queue is not None]
    if not queued:
        raise ValueError("no queued contacts to fit from")
    first = min(r.queued_at for r in queued if r.queued_at is not None)
    last = max(r.queued_at for r in queued if r.queued_at is not None)
    # Interval boundaries on the center's clock: whole-hour offsets keep epoch multiples of
    # 30 minutes aligned with local half hours.
    start = math.floor(first / interval_s) * interval_s
    intervals = int((last - start) // interval_s) + 1

    counts: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(intervals))
    handle: dict[str, list[float]] = defaultdict(list)
    waits: dict[str, list[float]] = defaultdict(list)
    gave_up: dict[str, list[bool]] = defaultdict(list)
    channels: dict[str, str] = {}
    busy: list[tuple[float, float, str]] = []
    for r in queued:
        assert r.queued_at is not None and r.queue is not None
        counts[r.queue][int((r.queued_at - start) // interval_s)] += 1
        channels.setdefault(r.queue, r.channel)
        wait = r.wait_s
        if r.answered_at is not None:
            handle[r.queue].append(r.handle_s)
            if r.agent and r.agent not in pseudo_agents:
                busy.append((r.answered_at, r.answered_at + max(r.handle_s, 1.0), r.agent))
        if wait is not None:
            waits[r.queue].append(max(wait, 0.0))
            gave_up[r.queue].append(r.abandoned_at is not None and r.answered_at is None)

    working_in = [set[str]() for _ in range(intervals)]
    for begin, end, agent in busy:
        first_k = max(0, int((begin - start) // interval_s))
        last_k = min(intervals - 1, int((end - start) // interval_s))
        for k in range(first_k, last_k + 1):
            working_in[k].add(agent)
    served: dict[str, set[str]] = defaultdict(set)
    for r in queued:
        answered_by_person = r.agent is not None and r.agent not in pseudo_agents
        if r.answered_at is not None and answered_by_person and r.queue is not None:
            assert r.agent is not None
            served[r.agent].add(r.queue)

    queues: list[QueueSpec] = []
    streams: list[ArrivalStream] = []
    for queue_id in sorted(counts):
        samples = tuple(h for h in handle[queue_id] if h > 0)
        handle_time: Distribution = Empirical(samples) if samples else Constant(1.0)
        channel = Channel(channels[queue_id])
        queues.append(
            QueueSpec(
                config=QueueConfig(
                    id=queue_id,
                    channel=channel,
                    requirements=(f"{queue_id} >= 1",),
                    wrap_up_s=0.0,  # wrap-up is already part of the fitted handle time
                    expected_handle_s=handle_time.mean,
                ),
                handle_time=handle_time,
                patience=fit_patience(waits[queue_id], gave_up[queue_id]),
            )
        )
        streams.append(
            ArrivalStream(
                queue=queue_id,
                rates_per_s=tuple(float(c) / interval_s for c in counts[queue_id]),
                channel=channel,
            )
        )
    if staffing not in {"seen", "concurrency"}:
        raise ValueError(f"staffing must be 'seen' or 'concurrency', got {staffing!r}")
    # One group per agent: each works the intervals in which they handled contacts, and
    # serves the queues they were seen serving (the bank's internet desk, for instance, is a
    # separate room: pooling it with the main floor would make the twin too good).
    groups = tuple(
        AgentGroup(
            name=agent,
            count=1,
            skills={},
            per_interval=tuple(int(agent in working) for working in working_in),
            members=(AgentConfig(agent, skills=dict.fromkeys(sorted(queues_served), 1)),),
        )
        for agent, queues_served in sorted(served.items())
    )
    if staffing == "concurrency":
        effective = effective_staffing(
            queued, start=start, interval_s=interval_s, intervals=intervals,
            pseudo_agents=pseudo_agents,
        )  # fmt: skip
        groups = tuple(
            AgentGroup(
                name="+".join(sorted(group)),
                count=max(counts_k) if counts_k else 0,
                skills=dict.fromkeys(sorted(group), 1),
                per_interval=tuple(counts_k),
            )
            for group, counts_k in sorted(effective.items(), key=lambda i: sorted(i[0]))
            if max(counts_k, default=0) > 0
        )
    return Scenario(
        name=name,
        start=float(start),
        timezone=timezone,
        interval_s=interval_s,
        queues=tuple(queues),
        agents=groups,
        arrivals=tuple(streams),
        description=f"fitted from {len(queued)} queued contacts",
    )


def replay_scenario(
    records: Sequence[ContactRecord],
    *,
    interval_s: float = 900.0,
    timezone: str = "UTC",
    name: str = "replayed",
    pseudo_agents: Collection[str] = (),
) -> Scenario:
    """A fitted scenario that replays the historical contacts instead of Poisson arrivals.

    Each queued contact comes back at its real queueing time with its real handle time; its
    patience is its real wait if it abandoned, and otherwise a draw from the fitted patience
    beyond the wait it was answered after (so routing changes can make it abandon later).
    Staffing is fitted as in :func:`fit_scenario`.
    """
    fitted = fit_scenario(
        records, interval_s=interval_s, timezone=timezone, name=name, pseudo_agents=pseudo_agents
    )
    known = {q.id for q in fitted.queues}
    trace = []
    for r in sorted(records, key=lambda c: (c.queued_at or 0.0, c.contact_id)):
        if r.queued_at is None or r.queue not in known:
            continue
        wait = r.wait_s
        abandoned = r.abandoned_at is not None and r.answered_at is None
        trace.append(
            TraceContact(
                at=r.queued_at,
                queue=r.queue,
                channel=Channel(r.channel),
                handle_s=r.handle_s if r.answered_at is not None else None,
                waited_s=max(wait, 0.0) if wait is not None else 0.0,
                abandoned=abandoned,
            )
        )
    return replace(fitted, trace=tuple(trace), description=f"replay of {len(trace)} contacts")


def compare(
    run: SimulationRun,
    actual: Sequence[ContactRecord],
    *,
    interval: str = "day",
) -> pl.DataFrame:
    """Simulated (mean over replications) and actual figures side by side, per interval."""
    scenario = run.scenario
    settings = MetricSettings()
    figures = ["offered", "abandon_rate", "asa_s", "service_level"]
    real = queue_figures(
        records_to_frame(actual),
        interval=interval,
        by=(),
        settings=settings,
        timezone=scenario.timezone,
    ).table.select("interval_start", *figures)
    parts = [
        queue_figures(
            frame, interval=interval, by=(), settings=settings, timezone=scenario.timezone
        ).table.select("interval_start", *figures)
        for frame in replication_frames(run)
    ]
    simulated = (
        pl.concat(parts, how="vertical")
        .group_by("interval_start")
        .agg([pl.col(f).cast(pl.Float64).mean() for f in figures])
    )
    joined = real.join(
        simulated, on="interval_start", how="full", coalesce=True, suffix="_simulated"
    )
    ordered = ["interval_start"]
    for figure in figures:
        ordered += [figure, f"{figure}_simulated"]
    return (
        joined.rename({f: f"{f}_actual" for f in figures})
        .select(
            [
                c if c == "interval_start" or c.endswith("_simulated") else f"{c}_actual"
                for c in ordered
            ]
        )
        .sort("interval_start")
    )


@dataclass(frozen=True)
class QueueBehaviour:
    """How a queue's contacts behave, fitted from history: the refinements of the twin.

    ``handle_time_by_hour`` maps a local hour of day to that hour's handle times (hours with
    too few answered contacts are absent and fall back to ``handle_time``);
    ``patience_by_priority`` maps a priority to its callers' patience and ``priority_shares``
    to the share of the queue's arrivals of that priority (empty: the queue's callers are
    one class). ``patience_by_waiting`` maps a priority (``None``: the queue's callers
    pooled) to one patience per band of callers found waiting at arrival, the bands
    starting at ``waiting_bands`` (empty: patience does not depend on the queue).
    """

    handle_time: Distribution
    patience: Distribution
    handle_time_by_hour: Mapping[int, Distribution] = field(default_factory=dict)
    patience_by_priority: Mapping[int, Distribution] = field(default_factory=dict)
    priority_shares: Mapping[int, float] = field(default_factory=dict)
    waiting_bands: tuple[int, ...] = ()
    patience_by_waiting: Mapping[int | None, tuple[Distribution, ...]] = field(default_factory=dict)


def fit_behaviour(
    records: Sequence[ContactRecord],
    *,
    timezone: str,
    pseudo_agents: Collection[str] = (),
    by_hour: bool = True,
    by_priority: bool = True,
    unlabelled_priorities: Collection[int] = (),
    waiting_bands: Sequence[int] = (),
    min_handle_samples: int = 100,
    min_abandons: int = 30,
) -> dict[str, QueueBehaviour]:
    """Fit each queue's handle times per local hour and patience per priority from history.

    - **Handle time per hour**: the answered contacts' talk + hold + wrap, grouped by the
      local hour they queued in and resampled as they are (empirical). An hour with fewer
      than ``min_handle_samples`` contacts uses the queue's whole sample. Answers by pseudo
      agents (the bank's ``NO_SERVER``, a few seconds each) are left out.
    - **Patience per priority**: Kaplan–Meier on the censored waits of each priority's
      contacts (:func:`fit_patience`); a priority with fewer than ``min_abandons`` abandons
      uses the queue's pooled curve. ``priority_shares`` is each priority's share of the
      queue's labelled arrivals.
    - ``unlabelled_priorities``: priorities that do not name a class of caller (the bank's
      0: in the logs almost only callers who never waited, their class unrecorded). They
      count in the queue's pooled patience and handle times, not in any priority's patience
      or share.
    - **Patience by the queue found** (``waiting_bands``, e.g. ``(0, 1, 3, 6)``: none
      waiting, 1–2, 3–5, 6 or more): each contact's callers-waiting-at-arrival is counted
      from the history itself (:func:`waiting_at_arrival`), and Kaplan–Meier is fitted per
      queue × band (and × priority with ``by_priority``). Assumption: given the queue they
      find, a caller's patience does not depend on how long they then wait (independent
      censoring within a band). A band with fewer than ``min_abandons`` abandons uses the
      band below's curve (the first band: the queue's or priority's curve).

    >>> from hotline.metrics.records import ContactRecord as C
    >>> calls = [C(contact_id=f"c{i}", arrived_at=t, queued_at=t, answered_at=t + 5,
    ...            agent="a", queue="q", outcome="answered", talk_s=60 + 60 * (t >= 3600))
    ...          for i, t in enumerate(range(0, 7200, 60))]
    >>> fitted = fit_behaviour(calls, timezone="UTC", min_handle_samples=10)["q"]
    >>> {hour: d.mean for hour, d in fitted.handle_time_by_hour.items()}
    {0: 60.0, 1: 120.0}
    """
    tz = ZoneInfo(timezone)
    handle: dict[str, list[float]] = defaultdict(list)
    handle_hour: dict[tuple[str, int], list[float]] = defaultdict(list)
    waits: dict[tuple[str, int | None], list[float]] = defaultdict(list)
    gave_up: dict[tuple[str, int | None], list[bool]] = defaultdict(list)
    labelled: dict[str, Counter[int]] = defaultdict(Counter)
    bands = tuple(waiting_bands)
    if bands and (bands[0] != 0 or list(bands) != sorted(set(bands))):
        raise ValueError(f"waiting_bands must start at 0 and rise, got {bands}")
    found = waiting_at_arrival(records) if bands else {}
    band_waits: dict[tuple[str, int | None, int], list[float]] = defaultdict(list)
    band_gave_up: dict[tuple[str, int | None, int], list[bool]] = defaultdict(list)
    for r in records:
        if r.queued_at is None or r.queue is None:
            continue
        if r.answered_at is not None and r.handle_s > 0 and r.agent not in pseudo_agents:
            handle[r.queue].append(r.handle_s)
            hour = datetime.fromtimestamp(r.queued_at, tz).hour
            handle_hour[(r.queue, hour)].append(r.handle_s)
        priority_class = r.priority if r.priority not in unlabelled_priorities else None
        if priority_class is not None:
            labelled[r.queue][priority_class] += 1
        wait = r.wait_s
        if wait is None:
            continue
        abandoned = r.abandoned_at is not None and r.answered_at is None
        for key in {(r.queue, None), (r.queue, priority_class)}:
            waits[key].append(max(wait, 0.0))
            gave_up[key].append(abandoned)
            if bands:
                band = bisect.bisect_right(bands, found[r.contact_id]) - 1
                band_waits[(*key, band)].append(max(wait, 0.0))
                band_gave_up[(*key, band)].append(abandoned)
    fitted: dict[str, QueueBehaviour] = {}
    for queue in sorted({q for q, _ in waits} | set(handle)):
        samples = handle.get(queue, [])
        pooled_handle: Distribution = Empirical(tuple(samples)) if samples else Constant(1.0)
        pooled_patience = fit_patience(waits[(queue, None)], gave_up[(queue, None)])
        by_hour_fits: dict[int, Distribution] = {}
        if by_hour:
            by_hour_fits = {
                hour: Empirical(tuple(values))
                for (q, hour), values in sorted(handle_hour.items())
                if q == queue and len(values) >= min_handle_samples
            }
        patience_by_priority: dict[int, Distribution] = {}
        shares: dict[int, float] = {}
        classes = labelled.get(queue, Counter())
        if by_priority and len(classes) > 1:
            total = sum(classes.values())
            shares = {p: n / total for p, n in sorted(classes.items())}
            for priority in shares:
                key = (queue, priority)
                enough = sum(gave_up.get(key, [])) >= min_abandons
                patience_by_priority[priority] = (
                    fit_patience(waits[key], gave_up[key]) if enough else pooled_patience
                )
        patience_by_waiting: dict[int | None, tuple[Distribution, ...]] = {}
        if bands:
            for priority_class, overall in [(None, pooled_patience), *patience_by_priority.items()]:
                per_band: list[Distribution] = []
                for band in range(len(bands)):
                    band_key = (queue, priority_class, band)
                    enough = sum(band_gave_up.get(band_key, [])) >= min_abandons
                    below = per_band[-1] if per_band else overall
                    per_band.append(
                        fit_patience(band_waits[band_key], band_gave_up[band_key])
                        if enough
                        else below
                    )
                patience_by_waiting[priority_class] = tuple(per_band)
        fitted[queue] = QueueBehaviour(
            handle_time=pooled_handle,
            patience=pooled_patience,
            handle_time_by_hour=by_hour_fits,
            patience_by_priority=patience_by_priority,
            priority_shares=shares,
            waiting_bands=bands if patience_by_waiting else (),
            patience_by_waiting=patience_by_waiting,
        )
    return fitted


def waiting_at_arrival(records: Sequence[ContactRecord]) -> dict[str, int]:
    """How many callers of the same queue were waiting when each contact queued, from the
    records alone (a caller waits from ``queued_at`` for ``wait_s``; the contact itself and
    callers queued at the very same moment are not counted).

    >>> from hotline.metrics.records import ContactRecord as C
    >>> calls = [C(contact_id=f"c{i}", arrived_at=t, queued_at=t, answered_at=t + w,
    ...            agent="a", queue="q", outcome="answered", talk_s=60)
    ...          for i, (t, w) in enumerate([(0, 50), (10, 50), (20, 5), (30, 0), (70, 0)])]
    >>> waiting_at_arrival(calls)
    {'c0': 0, 'c1': 1, 'c2': 2, 'c3': 2, 'c4': 0}
    """
    starts: dict[str, list[float]] = defaultdict(list)
    ends: dict[str, list[float]] = defaultdict(list)
    for r in records:
        wait = r.wait_s
        if r.queued_at is not None and r.queue is not None and wait is not None and wait > 0:
            starts[r.queue].append(r.queued_at)
            ends[r.queue].append(r.queued_at + wait)
    for values in (*starts.values(), *ends.values()):
        values.sort()
    found: dict[str, int] = {}
    for r in records:
        if r.queued_at is None or r.queue is None:
            continue
        at = r.queued_at
        found[r.contact_id] = bisect.bisect_left(starts[r.queue], at) - bisect.bisect_right(
            ends[r.queue], at
        )
    return found


def with_behaviour(
    scenario: Scenario,
    behaviour: Mapping[str, QueueBehaviour],
    *,
    head_start_by_priority: Mapping[int, float] | None = None,
) -> Scenario:
    """The scenario with its queues' contacts behaving as fitted (:func:`fit_behaviour`).

    Each queue's handle time becomes one distribution per arrival interval, the fit of the
    interval's local hour; each arrival stream of a queue with priority classes is split into
    one stream per priority, its rate shared out by the fitted shares, and each draws the
    patience of its priority. ``head_start_by_priority``: the seconds of waiting a priority
    is credited in the queue (the bank's priority customers: 90 s), which the engine applies
    in head-start mode. Patience fitted by the queue found (``waiting_bands``) goes along:
    the simulator draws it by the callers waiting when the contact arrives. Queues without
    a fit keep what they had.
    """
    tz = ZoneInfo(scenario.timezone)
    hours = [
        datetime.fromtimestamp(scenario.start + k * scenario.interval_s, tz).hour
        for k in range(scenario.intervals)
    ]
    queues: list[QueueSpec] = []
    for spec in scenario.queues:
        fitted = behaviour.get(spec.id)
        if fitted is None:
            queues.append(spec)
            continue
        config = spec.config
        if fitted.priority_shares and head_start_by_priority:
            config = replace(
                config,
                priority_mode=PriorityMode.HEAD_START,
                head_start_by_priority=dict(head_start_by_priority),
            )
        per_interval: tuple[Distribution, ...] = ()
        if fitted.handle_time_by_hour:
            per_interval = tuple(
                fitted.handle_time_by_hour.get(hour, fitted.handle_time) for hour in hours
            )
        queues.append(
            replace(
                spec,
                config=replace(config, expected_handle_s=fitted.handle_time.mean),
                handle_time=fitted.handle_time,
                patience=fitted.patience,
                handle_time_per_interval=per_interval,
                patience_by_priority=dict(fitted.patience_by_priority),
                waiting_bands=fitted.waiting_bands,
                patience_by_waiting=dict(fitted.patience_by_waiting),
            )
        )
    streams: list[ArrivalStream] = []
    for stream in scenario.arrivals:
        fitted = behaviour.get(stream.queue)
        if fitted is None or not fitted.priority_shares or stream.priority is not None:
            streams.append(stream)
            continue
        streams.extend(
            replace(
                stream,
                rates_per_s=tuple(rate * share for rate in stream.rates_per_s),
                priority=priority,
            )
            for priority, share in fitted.priority_shares.items()
        )
    return replace(scenario, queues=tuple(queues), arrivals=tuple(streams))
