"""The ``grading:`` section of the center file: how agents are graded A, B, C or D.

Many centers grade their agents every month from a handful of figures — handle time, first
contact resolution, customer satisfaction, quality accuracy — each weighted by what the center
cares about. A rule names one scorecard figure, its weight, the **target** (the value that
earns full marks) and the **floor** (the value that earns none). The direction follows from
the two: a handle-time rule has a floor above its target (shorter is better), a
satisfaction rule a floor below it. Between floor and target marks rise in a straight line;
past the target they stay full, past the floor they stay nil. ``grades`` gives the lowest
weighted score (0..100) of grades A, B and C; below C an agent is graded D.

Figures an agent has none of in the period (no surveys, no evaluations, no schedule) are left
out and the other weights count in their stead, unless what remains weighs less than
``minimum_weight_share`` of the whole: then the agent is not graded.

Example::

    grading:
      rules:
        - {metric: aht_s, weight: 2, target: 300, floor: 540}
        - {metric: csat, weight: 3, target: 0.9, floor: 0.6}
      grades: {A: 85, B: 70, C: 55}
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: The figures of a team scorecard, by id, with a few words on each (METRICS.md ids where
#: METRICS.md defines them). Grading rules and targets name figures from this list only.
SCORECARD_METRICS: dict[str, str] = {
    "aht_s": "average handle time (talk + hold + wrap-up) of answered contacts, seconds",
    "acw_s": "average after-contact work (wrap-up) of answered contacts, seconds",
    "avg_hold_s": "average hold time of answered contacts, seconds",
    "occupancy": "handling time ÷ (handling + available idle time)",
    "adherence": "share of scheduled time in the scheduled activity",
    "fcr": "first contact resolution: answered contacts not repeated within the window",
    "csat": "customer satisfaction, top-2-box share of 5-point answers",
    "quality_score": "mean quality evaluation score, 0..100",
    "fatal_accuracy": "share of evaluations without a fatal error",
    "nonfatal_accuracy": "share of non-fatal opportunities without an error",
}

GRADES: tuple[str, ...] = ("A", "B", "C", "D")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GradingRule(_Strict):
    """One weighted figure: full marks at ``target``, none at ``floor``."""

    metric: str
    weight: float = Field(gt=0, le=100)
    target: float
    floor: float

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in SCORECARD_METRICS:
            raise ValueError(
                f"unknown scorecard figure {value!r}; one of {', '.join(SCORECARD_METRICS)}"
            )
        return value

    @model_validator(mode="after")
    def _floor_differs(self) -> GradingRule:
        if self.target == self.floor:
            raise ValueError(
                f"target and floor of {self.metric} are both {self.target}; the floor is the "
                "value that earns no marks and must differ from the target"
            )
        return self

    def marks(self, value: float) -> float:
        """Marks 0..100 for ``value``: 100 at or past the target, 0 at or past the floor.

        >>> rule = GradingRule(metric="aht_s", weight=1, target=300, floor=500)
        >>> rule.marks(300), rule.marks(400), rule.marks(650), rule.marks(200)
        (100.0, 50.0, 0.0, 100.0)
        """
        share = (value - self.floor) / (self.target - self.floor)
        return 100.0 * min(1.0, max(0.0, share))

    @property
    def higher_is_better(self) -> bool:
        """True when a larger figure is better (the target lies above the floor)."""
        return self.target > self.floor


class GradingConfig(_Strict):
    """The ``grading:`` section: weighted rules and the lowest score of grades A, B and C."""

    rules: list[GradingRule] = Field(min_length=1)
    grades: dict[str, float] = Field(default_factory=lambda: {"A": 85.0, "B": 70.0, "C": 55.0})
    minimum_weight_share: float = Field(default=0.5, gt=0, le=1)

    @field_validator("rules")
    @classmethod
    def _one_rule_per_metric(cls, rules: list[GradingRule]) -> list[GradingRule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.metric in seen:
                raise ValueError(f"{rule.metric} has two rules; give each figure one rule")
            seen.add(rule.metric)
        return rules

    @field_validator("grades")
    @classmethod
    def _grades_descend(cls, grades: dict[str, float]) -> dict[str, float]:
        if sorted(grades) != ["A", "B", "C"]:
            raise ValueError(
                f"grades must give the lowest score of A, B and C (D is the rest), not "
                f"{', '.join(sorted(grades)) or 'nothing'}"
            )
        if not 100 >= grades["A"] > grades["B"] > grades["C"] >= 0:
            raise ValueError(
                "grade scores must fall from A to C within 0..100 "
                f"(A {grades['A']}, B {grades['B']}, C {grades['C']})"
            )
        return grades

    def rule(self, metric: str) -> GradingRule | None:
        """The rule of ``metric``, or ``None`` when the center does not grade on it."""
        for rule in self.rules:
            if rule.metric == metric:
                return rule
        return None

    def grade_of(self, score: float) -> str:
        """The grade a weighted score earns.

        >>> GradingConfig(rules=[GradingRule(metric="fcr", weight=1, target=0.9, floor=0.5)]
        ...               ).grade_of(72.5)
        'B'
        """
        for grade in ("A", "B", "C"):
            if score >= self.grades[grade]:
                return grade
        return "D"
