"""Intraday management: re-forecast the rest of today from what has happened so far.

By mid-morning the day's actual volume already says whether the forecast runs hot or cold.
The re-forecast scales the remaining intervals by the observed ratio of actual to forecast
volume (and AHT), shrunk toward 1 while little has been seen: with a Gamma prior worth
``prior_contacts`` contacts on a Poisson count, the posterior mean ratio is
``(actual + k) ÷ (forecast + k)`` (the classic Gamma–Poisson update, e.g. Gelman et al.,
*Bayesian Data Analysis*, §2.6). The staffing for each remaining interval is then recomputed
with Erlang C/A and set against the agents scheduled, giving the gap a supervisor acts on
(call in overtime, cancel training, offer voluntary time off).

Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from hotline.wfm.erlang import ServiceTarget, queue_figures, required_agents
from hotline.wfm.roster import RosterShift


@dataclass(frozen=True, slots=True)
class IntradayInterval:
    """One interval of today: forecast, actual so far, re-forecast, staffing and the gap."""

    index: int
    elapsed: bool
    forecast_offered: float
    actual_offered: float | None
    reforecast_offered: float
    forecast_aht_s: float
    reforecast_aht_s: float
    required_agents: int
    scheduled_agents: float
    gap: float  # scheduled − required: negative means short

    def as_row(self) -> dict[str, object]:
        """A flat row for tables and JSON."""
        return {
            "index": self.index,
            "elapsed": self.elapsed,
            "forecast_offered": round(self.forecast_offered, 2),
            "actual_offered": self.actual_offered,
            "reforecast_offered": round(self.reforecast_offered, 2),
            "forecast_aht_s": round(self.forecast_aht_s, 1),
            "reforecast_aht_s": round(self.reforecast_aht_s, 1),
            "required_agents": self.required_agents,
            "scheduled_agents": self.scheduled_agents,
            "gap": self.gap,
        }


@dataclass(frozen=True)
class IntradayPlan:
    """The re-forecast day and the ratios it used."""

    volume_ratio: float
    aht_ratio: float
    intervals: list[IntradayInterval]

    @property
    def short_agent_intervals(self) -> float:
        """Agent-intervals missing over the rest of the day."""
        return sum(-i.gap for i in self.intervals if not i.elapsed and i.gap < 0)


def reforecast_day(
    *,
    forecast_offered: Sequence[float],
    forecast_aht_s: Sequence[float],
    actual_offered: Sequence[float],
    actual_answered: Sequence[float],
    actual_handle_s: Sequence[float],
    scheduled_agents: Sequence[float],
    interval_s: float,
    target: ServiceTarget,
    patience_s: float | None = None,
    prior_contacts: float = 50.0,
) -> IntradayPlan:
    """Re-forecast the remaining intervals of a day and show the staffing gap.

    ``actual_*`` cover the elapsed intervals (their length says how far the day has gone).

    >>> plan = reforecast_day(forecast_offered=[100, 100, 100, 100],
    ...                       forecast_aht_s=[180] * 4, actual_offered=[130, 125],
    ...                       actual_answered=[130, 125], actual_handle_s=[130 * 180, 125 * 180],
    ...                       scheduled_agents=[12] * 4, interval_s=1800,
    ...                       target=ServiceTarget.parse("80/20"))
    >>> round(plan.volume_ratio, 3), plan.intervals[2].reforecast_offered > 120
    (1.22, True)
    """
    n = len(forecast_offered)
    if not (len(forecast_aht_s) == len(scheduled_agents) == n):
        raise ValueError("forecast and schedule must cover the same intervals")
    elapsed = len(actual_offered)
    if elapsed > n or len(actual_answered) != elapsed or len(actual_handle_s) != elapsed:
        raise ValueError("actuals must cover the first intervals of the day")
    seen_forecast = float(sum(forecast_offered[:elapsed]))
    seen_actual = float(sum(actual_offered))
    seen = seen_forecast + prior_contacts
    volume_ratio = (seen_actual + prior_contacts) / seen if seen > 0 else 1.0
    expected_handle = float(
        sum(a * f for a, f in zip(actual_answered, forecast_aht_s[:elapsed], strict=True))
    )
    mean_aht = sum(o * a for o, a in zip(forecast_offered, forecast_aht_s, strict=True)) / max(
        sum(forecast_offered), 1e-9
    )
    expected = expected_handle + prior_contacts * mean_aht
    # Nothing expected yet (no forecast volume, or no handle time): keep the forecast AHT.
    aht_ratio = (
        (float(sum(actual_handle_s)) + prior_contacts * mean_aht) / expected
        if expected > 0
        else 1.0
    )
    intervals = []
    for i in range(n):
        done = i < elapsed
        offered = float(actual_offered[i]) if done else forecast_offered[i] * volume_ratio
        if done and actual_answered[i] > 0:
            aht = actual_handle_s[i] / actual_answered[i]
        else:
            aht = forecast_aht_s[i] * aht_ratio
        answer = required_agents(
            calls=offered,
            aht_s=max(aht, 1.0),
            interval_s=interval_s,
            target=target,
            patience_s=patience_s,
        )
        intervals.append(
            IntradayInterval(
                index=i,
                elapsed=done,
                forecast_offered=float(forecast_offered[i]),
                actual_offered=float(actual_offered[i]) if done else None,
                reforecast_offered=offered,
                forecast_aht_s=float(forecast_aht_s[i]),
                reforecast_aht_s=aht,
                required_agents=answer.agents,
                scheduled_agents=float(scheduled_agents[i]),
                gap=float(scheduled_agents[i]) - answer.agents,
            )
        )
    return IntradayPlan(volume_ratio, aht_ratio, intervals)


# --------------------------------------------------------------------------- a day's plan


@dataclass(frozen=True, slots=True)
class PlanInterval:
    """One interval of a planned day, as the planner's page draws it.

    ``required_heads`` are the agents Erlang needs on the phones grossed up for shrinkage
    (``⌈agents ÷ (1 − shrinkage)⌉``): the heads to have on shift and off break, comparable
    with ``scheduled_heads`` (the roster's agents on shift and not on a break). ``gap`` is
    scheduled − required (negative: short). ``service_level`` and ``asa_s`` are what the
    scheduled heads, less shrinkage, are expected to give on the re-forecast load;
    ``what_if_*`` the same with ``extra_agents`` more (or fewer) on the phones — only for
    intervals still to come (``None`` once elapsed; ``asa_s`` ``None`` too when the queue
    cannot keep up: its wait grows without bound).
    """

    index: int
    elapsed: bool
    forecast_offered: float
    forecast_low: float
    forecast_high: float
    actual_offered: float | None
    reforecast_offered: float
    aht_s: float
    required_agents: int
    required_heads: int
    scheduled_heads: float
    gap: float
    service_level: float | None
    asa_s: float | None
    what_if_service_level: float | None
    what_if_asa_s: float | None


@dataclass(frozen=True)
class DayPlan:
    """A day's intervals and what the re-forecast learnt from the day so far."""

    volume_ratio: float
    aht_ratio: float
    shrinkage: float
    extra_agents: int
    intervals: list[PlanInterval]

    @property
    def short_heads(self) -> float:
        """Head-intervals short over the intervals still to come."""
        return sum(-i.gap for i in self.intervals if not i.elapsed and i.gap < 0)


def plan_day(
    *,
    forecast_offered: Sequence[float],
    forecast_low: Sequence[float],
    forecast_high: Sequence[float],
    forecast_aht_s: Sequence[float],
    actual_offered: Sequence[float],
    actual_answered: Sequence[float],
    actual_handle_s: Sequence[float],
    scheduled_heads: Sequence[float],
    interval_s: float,
    target: ServiceTarget,
    shrinkage: float,
    extra_agents: int = 0,
    patience_s: float | None = None,
) -> DayPlan:
    """Requirements per interval against the roster's coverage, re-forecast from the day so
    far (:func:`reforecast_day`), and the service level and ASA the roster gives — and would
    give with ``extra_agents`` more on the phones from the first interval still to come.

    Requirements are Erlang C (Erlang A with ``patience_s``) on the re-forecast volume and
    AHT at the queue's target. ``actual_*`` cover the elapsed intervals.

    >>> plan = plan_day(forecast_offered=[100, 100], forecast_low=[80, 80],
    ...                 forecast_high=[120, 120], forecast_aht_s=[180, 180],
    ...                 actual_offered=[], actual_answered=[], actual_handle_s=[],
    ...                 scheduled_heads=[14, 20], interval_s=1800,
    ...                 target=ServiceTarget.parse("80/20"), shrinkage=0.3, extra_agents=3)
    >>> [(i.required_agents, i.required_heads, i.gap) for i in plan.intervals]
    [(14, 20, -6.0), (14, 20, 0.0)]
    >>> [round(i.service_level, 3) for i in plan.intervals], plan.intervals[0].asa_s
    ([0.0, 0.888], None)
    >>> [round(i.what_if_service_level, 3) for i in plan.intervals]
    [0.64, 0.986]
    """
    if not 0.0 <= shrinkage < 1.0:
        raise ValueError("shrinkage must be in [0, 1)")
    if not (len(forecast_low) == len(forecast_high) == len(forecast_offered)):
        raise ValueError("the forecast's bounds must cover the same intervals")
    base = reforecast_day(
        forecast_offered=forecast_offered,
        forecast_aht_s=forecast_aht_s,
        actual_offered=actual_offered,
        actual_answered=actual_answered,
        actual_handle_s=actual_handle_s,
        scheduled_agents=scheduled_heads,
        interval_s=interval_s,
        target=target,
        patience_s=patience_s,
    )

    intervals = []
    for row in base.intervals:
        heads = math.ceil(row.required_agents / (1.0 - shrinkage) - 1e-9)
        sl = asa = what_sl = what_asa = None
        if not row.elapsed:
            # Shrinkage takes its share of the heads on shift; what is left answers contacts.
            on_phones = on_the_phones(row.scheduled_agents, shrinkage)
            sl, asa = erlang_outcome(
                agents=on_phones,
                offered=row.reforecast_offered,
                aht_s=row.reforecast_aht_s,
                interval_s=interval_s,
                target=target,
                patience_s=patience_s,
            )
            what_sl, what_asa = erlang_outcome(
                agents=on_phones + extra_agents,
                offered=row.reforecast_offered,
                aht_s=row.reforecast_aht_s,
                interval_s=interval_s,
                target=target,
                patience_s=patience_s,
            )
        intervals.append(
            PlanInterval(
                index=row.index,
                elapsed=row.elapsed,
                forecast_offered=row.forecast_offered,
                forecast_low=float(forecast_low[row.index]),
                forecast_high=float(forecast_high[row.index]),
                actual_offered=row.actual_offered,
                reforecast_offered=row.reforecast_offered,
                aht_s=row.reforecast_aht_s,
                required_agents=row.required_agents,
                required_heads=heads,
                scheduled_heads=row.scheduled_agents,
                gap=row.scheduled_agents - heads,
                service_level=sl,
                asa_s=asa,
                what_if_service_level=what_sl,
                what_if_asa_s=what_asa,
            )
        )
    return DayPlan(base.volume_ratio, base.aht_ratio, shrinkage, extra_agents, intervals)


def on_the_phones(scheduled_heads: float, shrinkage: float) -> int:
    """The agents answering contacts out of the heads on shift and off break: shrinkage
    (absence, training, meetings) takes its share first.

    >>> on_the_phones(14, 0.3), on_the_phones(10, 0.0)
    (9, 10)
    """
    return math.floor(scheduled_heads * (1.0 - shrinkage) + 1e-9)


def erlang_outcome(
    *,
    agents: int,
    offered: float,
    aht_s: float,
    interval_s: float,
    target: ServiceTarget,
    patience_s: float | None = None,
) -> tuple[float, float | None]:
    """Service level and ASA Erlang C (A with ``patience_s``) expects of ``agents`` on an
    interval's load; ASA ``None`` when the queue cannot keep up.

    >>> sl, asa = erlang_outcome(agents=14, offered=100, aht_s=180, interval_s=1800,
    ...                          target=ServiceTarget.parse("80/20"))
    >>> round(sl, 3), round(asa, 1)
    (0.888, 7.8)
    """
    figures = queue_figures(
        agents=max(0, agents),
        calls=offered,
        aht_s=max(aht_s, 1.0),
        interval_s=interval_s,
        answer_within_s=target.answer_within_s,
        patience_s=patience_s,
    )
    return figures.service_level, None if math.isinf(figures.asa_s) else figures.asa_s


# --------------------------------------------------------------------------- what-if changes


def with_overtime(agents: Sequence[int], *, extra: int, first: int, last: int) -> list[int]:
    """Agents on the phones per interval with ``extra`` more on overtime in intervals
    ``[first, last)``.

    >>> with_overtime([5, 5, 5, 5], extra=2, first=1, last=3)
    [5, 7, 7, 5]
    """
    if extra < 1:
        raise ValueError("overtime adds at least one agent")
    if not 0 <= first < last <= len(agents):
        raise ValueError("overtime must end after it starts, within the day")
    return [a + extra if first <= i < last else a for i, a in enumerate(agents)]


def move_break(
    shifts: Sequence[RosterShift], *, agent_id: str, at: datetime, to: datetime
) -> list[RosterShift]:
    """The shifts with ``agent_id``'s break that starts at ``at`` moved to start at ``to``
    (same length). Raises ``ValueError`` saying what is wrong: no such break, or the moved
    one outside its shift.

    >>> from datetime import UTC
    >>> from hotline.wfm.roster import RosterBreak
    >>> t = lambda h, m=0: datetime(2026, 3, 2, h, m, tzinfo=UTC)
    >>> s = RosterShift("a1", t(8), t(12), breaks=(RosterBreak(t(10), t(10, 15)),))
    >>> moved, = move_break([s], agent_id="a1", at=t(10), to=t(11))
    >>> [(b.start.hour, b.end.minute) for b in moved.breaks]
    [(11, 15)]
    """
    result = list(shifts)
    for n, shift in enumerate(result):
        if shift.agent_id != agent_id:
            continue
        for k, brk in enumerate(shift.breaks):
            if brk.start != at:
                continue
            moved = replace(brk, start=to, end=to + (brk.end - brk.start))
            if moved.start < shift.start or moved.end > shift.end:
                raise ValueError(
                    f"the break moved to {to:%H:%M} would end at {moved.end:%H:%M}, outside "
                    f"{agent_id}'s shift {shift.start:%H:%M}–{shift.end:%H:%M}"
                )
            breaks = (*shift.breaks[:k], moved, *shift.breaks[k + 1 :])
            result[n] = replace(shift, breaks=breaks)
            return result
    raise ValueError(f"{agent_id} has no break starting at {at:%H:%M} on this day's roster")
