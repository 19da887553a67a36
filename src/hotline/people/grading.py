"""Agent grading: a weighted score 0..100 and a grade A/B/C/D from an agent's figures.

The center's ``grading:`` rules (:mod:`hotline.config.grading`) give each figure a weight, a
target (full marks) and a floor (no marks). An agent's score is the weighted mean of the marks
of the figures they have in the period; a figure they lack (no surveys answered, no
evaluations, no published schedule) is left out and the remaining weights count in its stead
— unless what remains weighs less than ``minimum_weight_share``, when the agent is not graded
rather than graded on too little.

The grade comes with its reasons: each figure's **points lost** — its share of the weight times
the marks it missed — so a team lead sees at once that a C comes from satisfaction and not
from handle time. The points lost of all figures add up to ``100 - score``.

This module is pure: figures in, grade out.

Example::

    >>> from hotline.config.grading import GradingConfig, GradingRule
    >>> config = GradingConfig(rules=[
    ...     GradingRule(metric="aht_s", weight=1, target=300, floor=500),
    ...     GradingRule(metric="csat", weight=3, target=0.9, floor=0.5)])
    >>> result = grade({"aht_s": 400.0, "csat": 0.9}, config)
    >>> result.score, result.grade, result.movers()[0].metric
    (87.5, 'A', 'aht_s')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hotline.config.grading import GradingConfig


@dataclass(frozen=True, slots=True)
class Part:
    """One figure's part in a grade: its value, marks 0..100, weight share and points lost."""

    metric: str
    value: float
    target: float
    floor: float
    marks: float
    weight_share: float
    points_lost: float


@dataclass(frozen=True, slots=True)
class Grading:
    """An agent's weighted score and grade (``None`` when too few figures were available),
    the part each figure played, and the graded figures the agent had no value for."""

    score: float | None
    grade: str | None
    parts: tuple[Part, ...]
    missing: tuple[str, ...]
    weight_available: float

    def movers(self) -> list[Part]:
        """The figures that cost points, the costliest first (what to coach on)."""
        return sorted(
            (p for p in self.parts if p.points_lost > 0), key=lambda p: (-p.points_lost, p.metric)
        )


def grade(figures: Mapping[str, float | None], config: GradingConfig) -> Grading:
    """Grade one agent's ``figures`` (scorecard figure id → value, ``None`` when not
    available) under the center's grading ``config``.

    >>> from hotline.config.grading import GradingConfig, GradingRule
    >>> config = GradingConfig(rules=[
    ...     GradingRule(metric="fcr", weight=1, target=0.9, floor=0.5),
    ...     GradingRule(metric="csat", weight=1, target=0.9, floor=0.5)],
    ...     minimum_weight_share=0.6)
    >>> outcome = grade({"fcr": 0.7, "csat": None}, config)
    >>> outcome.grade, outcome.missing, outcome.weight_available
    (None, ('csat',), 0.5)
    """
    total = sum(rule.weight for rule in config.rules)
    present = [
        (rule, float(value))
        for rule in config.rules
        if (value := figures.get(rule.metric)) is not None
    ]
    missing = tuple(rule.metric for rule in config.rules if figures.get(rule.metric) is None)
    weight = sum(rule.weight for rule, _ in present)
    available = weight / total
    if not present or available < config.minimum_weight_share:
        return Grading(None, None, (), missing, round(available, 4))
    parts = []
    for rule, value in present:
        marks = rule.marks(value)
        share = rule.weight / weight
        parts.append(
            Part(
                metric=rule.metric,
                value=value,
                target=rule.target,
                floor=rule.floor,
                marks=round(marks, 2),
                weight_share=round(share, 4),
                points_lost=round(share * (100.0 - marks), 2),
            )
        )
    score = round(sum(rule.weight * rule.marks(value) for rule, value in present) / weight, 2)
    return Grading(score, config.grade_of(score), tuple(parts), missing, round(available, 4))


def distribution(grades: Sequence[str | None]) -> dict[str, int]:
    """How many agents earned each grade (ungraded agents counted under ``"-"``).

    >>> distribution(["A", "C", None, "A"])
    {'A': 2, 'B': 0, 'C': 1, 'D': 0, '-': 1}
    """
    counts = {"A": 0, "B": 0, "C": 0, "D": 0, "-": 0}
    for value in grades:
        counts[value if value is not None else "-"] += 1
    return counts
