"""Statistical process control: is today's figure noise, or has the center changed?

A contact center's daily figures wander: service level is 82 % one day and 76 % the next with
nothing changed. Shewhart's control charts separate that common-cause variation from a special
cause worth a manager's time (a broken IVR prompt, a storm, a new product). METRICS.md fixes the
charts and rules Hotline uses:

* **individuals (XmR) chart** for a figure measured once per day (AHT, ASA, cost per contact):
  centre line the mean, limits mean ± 2.66 × the mean moving range (2.66 = 3 / d₂ with
  d₂ = 1.128 for ranges of two; Wheeler, *Understanding Variation*, 1993);
* **p-chart** for a rate with its own denominator each day (service level, abandonment, FCR):
  centre p̄ = Σ successes ÷ Σ trials, limits p̄ ± 3·√(p̄(1−p̄)/nᵢ) per point, so a quiet Sunday
  gets wider limits than a busy Monday (Montgomery, *Introduction to Statistical Quality
  Control*, ch. 7);
* the **Western Electric rules** (*Statistical Quality Control Handbook*, 1956) on the points
  in σ units: 1) one point beyond 3σ; 2) two of three in a row beyond 2σ on one side; 3) four
  of five in a row beyond 1σ on one side; 4) eight in a row on one side of the centre line.

**Outlier agents** follow the seeds' method: "use the standard deviation to find the agents who
differ most and listen to their calls". An agent whose figure lies beyond the team mean ± k
sample standard deviations (k = 2 by default) is flagged, with the z-score, a two-sided normal
p-value and that p-value Bonferroni-adjusted for the number of agents compared, so that a team
of fifty does not flag two or three people by chance alone.

Pure: numbers in, numbers out; no database, no clock.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

#: 3 / d₂ for moving ranges of two points (d₂ = 1.128): the XmR chart's limit factor.
XMR_LIMIT_FACTOR = 2.66
#: d₂ for ranges of two: σ estimated as the mean moving range ÷ d₂.
D2 = 1.128

ChartKind = Literal["individuals", "p"]


@dataclass(frozen=True, slots=True)
class Signal:
    """One out-of-control signal: the point it falls on and the Western Electric rule (1–4)."""

    index: int
    rule: int
    side: Literal["above", "below"]

    def describe(self) -> str:
        """The rule in words, e.g. ``rule 1: beyond 3σ above``."""
        return f"rule {self.rule}: {RULES[self.rule]} ({self.side})"


#: The Western Electric rules by number, in words.
RULES: Mapping[int, str] = {
    1: "one point beyond 3σ",
    2: "2 of 3 in a row beyond 2σ on one side",
    3: "4 of 5 in a row beyond 1σ on one side",
    4: "8 in a row on one side of the centre line",
}


@dataclass(frozen=True, slots=True)
class ControlChart:
    """A control chart: the points, the centre line, σ and the limits per point, the signals.

    For an individuals chart σ and the limits are the same for every point; a p-chart's
    differ with each point's sample size.
    """

    kind: ChartKind
    values: tuple[float, ...]
    centre: float
    sigma: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    signals: tuple[Signal, ...] = field(default=())

    @property
    def out_of_control(self) -> tuple[int, ...]:
        """The indices of the points any rule flags, in order, each once."""
        return tuple(sorted({signal.index for signal in self.signals}))


def individuals_chart(values: Sequence[float]) -> ControlChart:
    """An XmR chart over ``values`` (one per day, in order) with its Western Electric signals.

    >>> chart = individuals_chart([10, 12, 11, 13, 12])
    >>> chart.centre, round(chart.upper[0], 2), round(chart.lower[0], 2)
    (11.6, 15.59, 7.61)
    >>> chart.signals
    ()
    """
    points = tuple(float(v) for v in values)
    if len(points) < 2:
        raise ValueError("an individuals chart needs at least 2 points")
    if any(not math.isfinite(v) for v in points):
        raise ValueError("every point of a control chart must be a finite number")
    centre = math.fsum(points) / len(points)
    moving_ranges = [abs(b - a) for a, b in itertools.pairwise(points)]
    mean_range = math.fsum(moving_ranges) / len(moving_ranges)
    sigma = mean_range / D2
    n = len(points)
    chart = ControlChart(
        kind="individuals",
        values=points,
        centre=centre,
        sigma=(sigma,) * n,
        lower=(centre - XMR_LIMIT_FACTOR * mean_range,) * n,
        upper=(centre + XMR_LIMIT_FACTOR * mean_range,) * n,
    )
    return _with_signals(chart)


def p_chart(successes: Sequence[int], trials: Sequence[int]) -> ControlChart:
    """A p-chart of rates ``successes[i] / trials[i]`` with limits per point and its signals.

    A point with no trials has no rate; leave such days out before charting.

    >>> chart = p_chart([5, 10], [100, 100])
    >>> chart.centre, round(chart.upper[0], 4), chart.lower[0]
    (0.075, 0.154, 0.0)
    """
    if len(successes) != len(trials):
        raise ValueError("a p-chart needs one number of trials per point")
    if len(trials) < 2:
        raise ValueError("a p-chart needs at least 2 points")
    for index, (hit, total) in enumerate(zip(successes, trials, strict=True)):
        if total <= 0:
            raise ValueError(f"point {index}: a p-chart point needs at least one trial")
        if not 0 <= hit <= total:
            raise ValueError(f"point {index}: successes must lie between 0 and the trials")
    p_bar = sum(successes) / sum(trials)
    sigma = tuple(math.sqrt(p_bar * (1 - p_bar) / total) for total in trials)
    chart = ControlChart(
        kind="p",
        values=tuple(hit / total for hit, total in zip(successes, trials, strict=True)),
        centre=p_bar,
        sigma=sigma,
        lower=tuple(max(0.0, p_bar - 3 * s) for s in sigma),
        upper=tuple(min(1.0, p_bar + 3 * s) for s in sigma),
    )
    return _with_signals(chart)


def _with_signals(chart: ControlChart) -> ControlChart:
    signals = western_electric(chart.values, centre=chart.centre, sigma=chart.sigma)
    return ControlChart(
        kind=chart.kind,
        values=chart.values,
        centre=chart.centre,
        sigma=chart.sigma,
        lower=chart.lower,
        upper=chart.upper,
        signals=tuple(signals),
    )


def _z(value: float, centre: float, sigma: float) -> float:
    """The point in σ units; with no spread at all, any departure is infinitely far."""
    if sigma > 0:
        return (value - centre) / sigma
    if value == centre:
        return 0.0
    return math.copysign(math.inf, value - centre)


_SIDES: tuple[tuple[Literal["above", "below"], float], ...] = (("above", 1.0), ("below", -1.0))


def western_electric(
    values: Sequence[float], *, centre: float, sigma: Sequence[float]
) -> list[Signal]:
    """The Western Electric rules 1–4 over ``values`` around ``centre`` with σ per point.

    Each signal is placed on the point that completes its pattern (the last of the 3, 5 or
    8), so a signal never refers to the future. Rule 1 uses strictly beyond 3σ; rules 2 and 3
    count points strictly beyond 2σ and 1σ on the same side; rule 4 counts points strictly on
    one side (a point on the centre line breaks the run).

    >>> [s.describe() for s in western_electric([0, 0, 3.5], centre=0, sigma=[1, 1, 1])]
    ['rule 1: one point beyond 3σ (above)']
    """
    if len(sigma) != len(values):
        raise ValueError("one σ per point")
    zs = [_z(v, centre, s) for v, s in zip(values, sigma, strict=True)]
    signals: list[Signal] = []
    for i, z in enumerate(zs):
        if abs(z) > 3:
            signals.append(Signal(i, 1, "above" if z > 0 else "below"))
        for rule, window, needed, beyond in ((2, 3, 2, 2.0), (3, 5, 4, 1.0)):
            if i + 1 < window:
                continue
            recent = zs[i + 1 - window : i + 1]
            for side, sign in _SIDES:
                # The pattern must end on this point, so this point is one of those beyond.
                if sign * z > beyond and sum(1 for r in recent if sign * r > beyond) >= needed:
                    signals.append(Signal(i, rule, side))
        if i >= 7:
            run = zs[i - 7 : i + 1]
            if all(r > 0 for r in run):
                signals.append(Signal(i, 4, "above"))
            elif all(r < 0 for r in run):
                signals.append(Signal(i, 4, "below"))
    return signals


@dataclass(frozen=True, slots=True)
class AgentSpread:
    """One agent's figure against the team: z-score, p-values, and whether it is an outlier."""

    agent: str
    value: float
    contacts: int
    z: float
    p_value: float
    adjusted_p_value: float
    outlier: bool


@dataclass(frozen=True, slots=True)
class SpreadReport:
    """Every agent's place in the spread of one figure: mean, standard deviation, k."""

    mean: float
    standard_deviation: float
    k: float
    agents: tuple[AgentSpread, ...]

    @property
    def outliers(self) -> tuple[AgentSpread, ...]:
        """The agents beyond mean ± k·s, the farthest first."""
        return tuple(
            sorted((a for a in self.agents if a.outlier), key=lambda a: (-abs(a.z), a.agent))
        )


def two_sided_p_value(z: float) -> float:
    """P(|Z| ≥ |z|) for a standard normal Z.

    >>> round(two_sided_p_value(1.96), 3)
    0.05
    """
    return math.erfc(abs(z) / math.sqrt(2))


def agent_spread(
    figures: Mapping[str, float], contacts: Mapping[str, int], *, k: float = 2.0
) -> SpreadReport:
    """Place each agent's figure in the team's spread (the seeds' standard-deviation method).

    ``figures`` maps agent → figure (e.g. AHT); ``contacts`` the contacts behind it, shown
    beside the verdict so a reader can discount an agent with few. z = (x − mean) ÷ s with the
    sample standard deviation s; an agent is an outlier when |z| > k. The p-value is two-sided
    under a normal model; the adjusted one multiplies it by the number of agents (Bonferroni),
    capped at 1.

    >>> report = agent_spread({"a": 300, "b": 310, "c": 290, "d": 305, "e": 295, "f": 420},
    ...                       {"a": 40, "b": 38, "c": 41, "d": 39, "e": 42, "f": 12})
    >>> [(a.agent, round(a.z, 2)) for a in report.outliers]
    [('f', 2.02)]
    """
    if k <= 0:
        raise ValueError("k must be above 0")
    names = sorted(figures)
    values = [float(figures[name]) for name in names]
    if any(not math.isfinite(v) for v in values):
        raise ValueError("every agent's figure must be a finite number")
    if len(values) < 2:
        mean = values[0] if values else 0.0
        return SpreadReport(
            mean=mean,
            standard_deviation=0.0,
            k=k,
            agents=tuple(
                AgentSpread(n, v, int(contacts.get(n, 0)), 0.0, 1.0, 1.0, False)
                for n, v in zip(names, values, strict=True)
            ),
        )
    mean = math.fsum(values) / len(values)
    variance = math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)
    deviation = math.sqrt(variance)
    agents: list[AgentSpread] = []
    for name, value in zip(names, values, strict=True):
        z = (value - mean) / deviation if deviation > 0 else 0.0
        p = two_sided_p_value(z)
        agents.append(
            AgentSpread(
                agent=name,
                value=value,
                contacts=int(contacts.get(name, 0)),
                z=z,
                p_value=p,
                adjusted_p_value=min(1.0, p * len(values)),
                outlier=abs(z) > k,
            )
        )
    return SpreadReport(mean=mean, standard_deviation=deviation, k=k, agents=tuple(agents))
