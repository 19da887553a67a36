"""Targets and costs: what the center promises itself, per metric and level, and what it pays.

A manager runs the center on a handful of figures, each with a target: service level at least
80 %, abandonment at most 5 %, AHT at most 7 minutes on the repair team, one agent held to a
personal AHT while coached. Each target names a METRICS.md figure, the level it applies to
(the whole center, a queue, a team or an agent) and a bound (``at_least`` or ``at_most``, or
both for a band). The cockpit compares every day's figure with the target of its level and
raises an alert when it is crossed, as it does when a control limit is crossed
(:mod:`hotline.metrics.spc`).

``costs`` turns time into money for ``cost_per_minute`` and ``cost_per_contact`` (METRICS.md):
agent labour per logged-in hour, telephony per connected voice minute, and a fixed overhead per
day (rent, systems, supervision).

>>> Targets.model_validate({"metrics": [{"metric": "service_level", "at_least": 0.8}]}).metrics[0]
MetricTarget(metric='service_level', level='center', id=None, at_least=0.8, at_most=None)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TargetLevel = Literal["center", "queue", "team", "agent"]
#: The roles an alert may be addressed to (those who run the center's figures).
AlertRole = Literal["manager", "supervisor", "team_lead", "wfm", "qa", "admin"]

#: The figures a target may name (METRICS.md ids), with the levels the cockpit computes each at.
#: Ticket figures and cost exist for the whole center only; occupancy comes from agent states
#: (per agent and team); survey figures are per queue.
TARGET_METRICS: Mapping[str, tuple[TargetLevel, ...]] = MappingProxyType(
    {
        "service_level": ("center", "queue", "team", "agent"),
        "abandon_rate": ("center", "queue"),
        "asa_s": ("center", "queue"),
        "aht_s": ("center", "queue", "team", "agent"),
        "occupancy": ("center", "team", "agent"),
        "fcr": ("center", "queue", "team", "agent"),
        "csat": ("center", "queue"),
        "dsat": ("center", "queue"),
        "nps": ("center", "queue"),
        "backlog": ("center",),
        "on_time_rate": ("center",),
        "complaints": ("center",),
        "cost_per_minute": ("center",),
        "cost_per_contact": ("center",),
    }
)

#: Figures that are shares from 0 to 1; a target outside that range is a typo (80 for 0.8).
RATIO_METRICS = frozenset(
    {"service_level", "abandon_rate", "occupancy", "fcr", "csat", "dsat", "on_time_rate"}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricTarget(_Strict):
    """One target: a figure at a level (and which queue, team or agent), and its bound(s)."""

    metric: str
    level: TargetLevel = "center"
    id: str | None = Field(default=None, description="the queue, team or agent; none for center")
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _consistent(self) -> MetricTarget:
        levels = TARGET_METRICS.get(self.metric)
        if levels is None:
            raise ValueError(
                f"unknown metric {self.metric!r}; use one of {', '.join(TARGET_METRICS)}"
            )
        if self.level not in levels:
            raise ValueError(
                f"{self.metric} has no {self.level} figure; set it at {', '.join(levels)}"
            )
        if self.level == "center" and self.id is not None:
            raise ValueError("a center target names no id")
        if self.level != "center" and not self.id:
            raise ValueError(f"a {self.level} target needs the id of its {self.level}")
        if self.at_least is None and self.at_most is None:
            raise ValueError("give at_least, at_most or both")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError(f"at_least {self.at_least} is above at_most {self.at_most}")
        for bound in (self.at_least, self.at_most):
            if bound is None:
                continue
            if self.metric in RATIO_METRICS and not 0 <= bound <= 1:
                raise ValueError(f"{self.metric} is a share from 0 to 1 (write 0.8 for 80 %)")
            if self.metric == "nps" and not -100 <= bound <= 100:
                raise ValueError("nps runs from -100 to 100 points")
            if self.metric not in RATIO_METRICS and self.metric != "nps" and bound < 0:
                raise ValueError(f"{self.metric} cannot be negative")
        return self

    def crossed(self, value: float) -> bool:
        """True when ``value`` breaks this target.

        >>> MetricTarget(metric="aht_s", at_most=420).crossed(431.0)
        True
        """
        if self.at_least is not None and value < self.at_least:
            return True
        return self.at_most is not None and value > self.at_most


class Costs(_Strict):
    """What an hour of an agent, a minute of telephony and a day of the center cost."""

    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    labour_per_agent_hour: float = Field(ge=0, description="loaded cost per logged-in hour")
    telephony_per_minute: float = Field(default=0, ge=0, description="per connected voice minute")
    overhead_per_day: float = Field(default=0, ge=0, description="fixed cost of a day")


class Targets(_Strict):
    """The center's targets, the outlier threshold k, and its costs."""

    metrics: list[MetricTarget] = Field(default_factory=list)
    outlier_k: float = Field(default=2.0, gt=0, le=6, description="flag agents beyond mean ± k·s")
    costs: Costs | None = None
    alert_roles: list[AlertRole] = Field(
        default_factory=lambda: list[AlertRole](["manager"]),
        description="who is notified in the app when the alert sweep raises an alert",
    )
    alert_emails: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="addresses the alert sweep also e-mails (through the outbox) on a raise",
    )

    @field_validator("alert_emails")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not re.fullmatch(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+", address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    def for_level(
        self, metric: str, level: TargetLevel, id: str | None = None
    ) -> MetricTarget | None:
        """The target of ``metric`` at ``level`` (for ``id``), if one is set."""
        for target in self.metrics:
            if target.metric == metric and target.level == level and target.id == id:
                return target
        return None
