"""What each contact-center figure means (METRICS.md), and the settings a report states.

Vendors disagree on what "service level" or "abandon rate" mean: Asterisk's SL ignores
abandons, Amazon Connect counts early abandons as met, Genesys lets an admin toggle each term.
Hotline keeps one written definition per figure id (the ids of METRICS.md) and lets a center
pick, per queue, which named service-level variant is its headline figure and which thresholds
apply. Every report carries those settings (:meth:`MetricSettings.describe`) so two numbers are
only compared when they were computed the same way.

This module is pure: definitions, settings and the small ratio helpers shared by the engine
(``compute.py``) and by tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

ServiceLevelVariant = Literal[
    "service_level", "service_level_answered", "service_level_sl2", "service_level_offered"
]

SERVICE_LEVEL_VARIANTS: tuple[ServiceLevelVariant, ...] = (
    "service_level",
    "service_level_answered",
    "service_level_sl2",
    "service_level_offered",
)

#: Interval names accepted by reports, with their length in seconds (a month has no fixed
#: length; traffic for a month uses the real number of seconds in that month). ``all`` is one
#: interval spanning the data, from the first to the end of the last quarter hour with
#: contacts (a simulation run's totals).
INTERVALS: Mapping[str, int | None] = MappingProxyType(
    {"15m": 900, "30m": 1800, "1h": 3600, "day": 86400, "month": None, "all": None}
)

#: Dimensions a report can be broken down by (``--by``). ``entry`` is where a chat came in
#: (``web``, ``wechat``, ``sms``): a WeChat follower's conversation is channel ``chat``.
DIMENSIONS: tuple[str, ...] = ("queue", "channel", "team", "agent", "site", "entry")


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    """One figure: its METRICS.md id, unit and definition in words."""

    id: str
    unit: Literal["count", "ratio", "seconds", "erlangs"]
    definition: str


_DEFINITIONS: tuple[MetricDefinition, ...] = (
    MetricDefinition("offered", "count", "contacts queued"),
    MetricDefinition("answered", "count", "queued contacts answered by an agent"),
    MetricDefinition("abandoned", "count", "queued contacts that left before answer"),
    MetricDefinition(
        "short_abandoned", "count", "abandoned with wait_s < the short-abandon threshold"
    ),
    MetricDefinition(
        "interrupted",
        "count",
        "queued contacts the platform ended (outcome interrupted: a crash or a stop)",
    ),
    MetricDefinition(
        "service_level",
        "ratio",
        "answered with wait_s <= T / (answered + abandoned - short_abandoned)",
    ),
    MetricDefinition(
        "service_level_answered", "ratio", "answered with wait_s <= T / answered (Asterisk SL)"
    ),
    MetricDefinition(
        "service_level_sl2",
        "ratio",
        "(answered <= T + abandoned <= T) / (answered + abandoned) (Asterisk SL2)",
    ),
    MetricDefinition(
        "service_level_offered",
        "ratio",
        "(answered <= T + abandoned <= T) / offered (Amazon Connect style)",
    ),
    MetricDefinition("asa_s", "seconds", "mean wait_s of answered contacts"),
    MetricDefinition("avg_abandon_wait_s", "seconds", "mean wait_s of abandoned contacts"),
    MetricDefinition(
        "abandon_rate",
        "ratio",
        "(abandoned - short_abandoned) / (offered - short_abandoned)",
    ),
    MetricDefinition("longest_wait_s", "seconds", "largest wait_s in the interval"),
    MetricDefinition("aht_s", "seconds", "(talk + hold + wrap) / answered"),
    MetricDefinition("att_s", "seconds", "talk / answered"),
    MetricDefinition("avg_hold_s", "seconds", "hold / answered"),
    MetricDefinition("acw_s", "seconds", "wrap (after-contact work) / answered"),
    MetricDefinition("transfer_rate", "ratio", "answered contacts transferred / answered"),
    MetricDefinition(
        "fcr",
        "ratio",
        "1 - share of answered cases whose customer makes another contact outside the case "
        "(any channel) within 24 h; a contact without a case id is its own case",
    ),
    MetricDefinition("traffic_erlangs", "erlangs", "offered x AHT / interval length"),
    MetricDefinition(
        "cases",
        "count",
        "queued contacts counted once per case (a chat and its callback are one case), "
        "in the interval and group of the case's first queued contact",
    ),
)

#: Every queue figure, by id, in report column order.
QUEUE_FIGURES: Mapping[str, MetricDefinition] = MappingProxyType({d.id: d for d in _DEFINITIONS})

#: How long after a handled contact a new contact from the same customer counts as a repeat.
FCR_WINDOW_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class QueueThresholds:
    """The service-level target time and short-abandon threshold of one queue.

    >>> QueueThresholds().service_level_s, QueueThresholds().short_abandon_s
    (20.0, 5.0)
    """

    service_level_s: float = 20.0
    short_abandon_s: float = 5.0
    variant: ServiceLevelVariant = "service_level"

    def __post_init__(self) -> None:
        if self.service_level_s < 0 or self.short_abandon_s < 0:
            raise ValueError("thresholds must not be negative")
        if self.variant not in SERVICE_LEVEL_VARIANTS:
            raise ValueError(f"unknown service-level variant {self.variant!r}")


@dataclass(frozen=True, slots=True)
class MetricSettings:
    """Thresholds and headline variant for every queue: the default and per-queue overrides.

    >>> s = MetricSettings(per_queue={"vip": QueueThresholds(service_level_s=5.0)})
    >>> s.for_queue("vip").service_level_s, s.for_queue("repair").service_level_s
    (5.0, 20.0)
    """

    default: QueueThresholds = QueueThresholds()
    per_queue: Mapping[str, QueueThresholds] = field(default_factory=dict)

    def for_queue(self, queue: str | None) -> QueueThresholds:
        """Return the thresholds that apply to ``queue``."""
        if queue is None:
            return self.default
        return self.per_queue.get(queue, self.default)

    def describe(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict, for the head of every report."""

        def one(t: QueueThresholds) -> dict[str, Any]:
            return {
                "variant": t.variant,
                "service_level_threshold_s": t.service_level_s,
                "short_abandon_threshold_s": t.short_abandon_s,
            }

        return {
            "default": one(self.default),
            "per_queue": {q: one(t) for q, t in sorted(self.per_queue.items())},
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MetricSettings:
        """Build settings from a plain mapping (a YAML file's content).

        >>> MetricSettings.from_mapping(
        ...     {"default": {"service_level_s": 30}, "queues": {"vip": {"service_level_s": 5}}}
        ... ).for_queue("vip").service_level_s
        5.0
        """
        base = dict(data.get("default") or {})
        default = _thresholds(base, QueueThresholds())
        queues = data.get("queues") or {}
        return cls(
            default=default,
            per_queue={str(q): _thresholds(dict(v or {}), default) for q, v in queues.items()},
        )


def _thresholds(data: dict[str, Any], base: QueueThresholds) -> QueueThresholds:
    unknown = set(data) - {"service_level_s", "short_abandon_s", "variant"}
    if unknown:
        raise ValueError(f"unknown threshold setting(s): {', '.join(sorted(unknown))}")
    return QueueThresholds(
        service_level_s=float(data.get("service_level_s", base.service_level_s)),
        short_abandon_s=float(data.get("short_abandon_s", base.short_abandon_s)),
        variant=data.get("variant", base.variant),
    )


def ratio(numerator: float, denominator: float) -> float | None:
    """Return numerator / denominator, or ``None`` when the denominator is zero.

    A figure with nothing to measure is unknown, not zero: an interval without calls has no
    service level.

    >>> ratio(8, 10), ratio(0, 0)
    (0.8, None)
    """
    if denominator == 0:
        return None
    return numerator / denominator
