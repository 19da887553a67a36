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

from collections.abc import Sequence
from dataclasses import dataclass

from hotline.wfm.erlang import ServiceTarget, required_agents


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
