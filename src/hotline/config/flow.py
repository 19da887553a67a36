"""IVR flow schema: the call-flow graph a center configures for its hotline number.

An IVR (interactive voice response) flow is a small graph of *nodes*. A caller enters at
``start``; each node plays prompts, collects DTMF digits, checks business hours or routes the
caller to a queue with the data gathered on the way (language, serial number, menu choice).
After the conversation with an agent the same flow can run a post-call satisfaction survey
(CSAT, METRICS.md: share of answers 4 or 5 on a 1–5 scale).

This module only describes flows; :mod:`hotline.ivr.interpreter` runs them. The schema lives
with the center configuration, which holds a center's flows, so that the configuration (a
shared kernel below the domains) needs nothing from the IVR domain that runs them. Prompts are
named by id (``welcome``, ``menu_main``…) and resolved to audio files per language by the media
adapter, so a flow reads the same in zh-CN and en.

>>> flow = Flow.model_validate({
...     "id": "demo", "start": "hello",
...     "nodes": {"hello": {"type": "play", "prompts": ["welcome"], "next": "bye"},
...               "bye": {"type": "hangup"}}})
>>> flow.nodes["hello"].type
'play'
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from hotline.core.calendar import WEEKDAYS, BusinessCalendar, parse_periods

DIGITS = "0123456789*#"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpeningHours(_Strict):
    """Business hours per weekday plus holidays (closed, or open on their own hours).

    The IVR receives the caller's arrival as a local date-time in the center's time zone
    and asks :meth:`is_open`; it never reads a clock itself.

    >>> hours = OpeningHours(weekly={"mon": ["08:00-21:00"]},
    ...                      holidays={date(2026, 2, 17): []})
    >>> hours.is_open(datetime(2026, 2, 16, 9, 0))  # a Monday
    True
    >>> hours.is_open(datetime(2026, 2, 16, 21, 0))
    False
    """

    weekly: dict[str, list[str]] = Field(default_factory=dict)
    holidays: dict[date, list[str]] = Field(default_factory=dict)
    _calendar: BusinessCalendar = PrivateAttr()

    @field_validator("weekly")
    @classmethod
    def _weekly(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, periods in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            parse_periods(periods)
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: dict[date, list[str]]) -> dict[date, list[str]]:
        for periods in value.values():
            parse_periods(periods)
        return value

    def model_post_init(self, context: Any, /) -> None:
        """Build the core calendar once; every call through an hours node asks it."""
        # Local wall-clock time is all the IVR has, so the zone is never consulted.
        self._calendar = BusinessCalendar(
            time_zone="UTC",
            weekly={WEEKDAYS.index(day): parse_periods(p) for day, p in self.weekly.items()},
            holidays={day: parse_periods(p) for day, p in self.holidays.items()},
        )

    @property
    def calendar(self) -> BusinessCalendar:
        """These hours as the core business-hours calendar."""
        return self._calendar

    def is_open(self, local: datetime) -> bool:
        """Whether the center is open at ``local`` (a naive local date-time, or an aware one)."""
        if local.tzinfo is not None:
            local = local.replace(tzinfo=None)  # read as wall-clock time, as before
        return self._calendar.is_open(local)


class PlayNode(_Strict):
    """Play prompts, then go on (announcements, greetings)."""

    type: Literal["play"]
    prompts: list[str] = Field(min_length=1)
    next: str


class MenuNode(_Strict):
    """Play a menu and branch on one DTMF digit, re-prompting on silence or a wrong key."""

    type: Literal["menu"]
    prompts: list[str] = Field(min_length=1)
    options: dict[str, str] = Field(min_length=1, description="digit -> next node")
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=10)
    invalid_prompt: str | None = "invalid"
    no_input_prompt: str | None = "no_input"
    on_failure: str
    set_variable: str | None = Field(
        default=None, description="store the chosen digit in this variable (e.g. menu choice)"
    )

    @field_validator("options")
    @classmethod
    def _options(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if len(key) != 1 or key not in DIGITS:
                raise ValueError(f"menu option {key!r} must be one DTMF key of {DIGITS}")
        return value


class LanguageNode(_Strict):
    """Let the caller pick a language (e.g. 1 for 中文, 2 for English)."""

    type: Literal["language"]
    prompts: list[str] = Field(min_length=1)
    options: dict[str, str] = Field(min_length=1, description="digit -> language tag")
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    retries: int = Field(default=1, ge=0, le=10)
    default: str = Field(description="language used when the caller chooses nothing")
    next: str


class CollectNode(_Strict):
    """Collect several digits (a serial number, an order id) into a variable."""

    type: Literal["collect"]
    prompts: list[str] = Field(min_length=1)
    variable: str
    min_digits: int = Field(default=1, ge=1, le=64)
    max_digits: int = Field(default=20, ge=1, le=64)
    terminator: str | None = "#"
    pattern: str | None = Field(default=None, description="regular expression the value must match")
    first_digit_timeout_s: float = Field(default=8.0, gt=0, le=120)
    inter_digit_timeout_s: float = Field(default=4.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=10)
    invalid_prompt: str | None = "invalid"
    no_input_prompt: str | None = "no_input"
    next: str
    on_failure: str

    @model_validator(mode="after")
    def _bounds(self) -> CollectNode:
        if self.max_digits < self.min_digits:
            raise ValueError("max_digits is smaller than min_digits")
        if self.terminator is not None and self.terminator not in DIGITS:
            raise ValueError(f"terminator {self.terminator!r} is not a DTMF key")
        if self.pattern is not None:
            re.compile(self.pattern)
        return self


class HoursNode(_Strict):
    """Branch on business hours and holidays: the node's own ``hours``, or a ``calendar`` of
    the center configuration (resolved to hours when the center is loaded)."""

    type: Literal["hours"]
    hours: OpeningHours | None = None
    calendar: str | None = None
    open: str
    closed: str

    @model_validator(mode="after")
    def _one_source(self) -> HoursNode:
        if (self.hours is None) == (self.calendar is None):
            raise ValueError("an hours node needs exactly one of 'hours' or 'calendar'")
        return self


class EmergencyNode(_Strict):
    """Play the emergency announcement when a supervisor has switched it on, then go on.

    The switch and its prompt live outside the flow (they change during the day); the
    interpreter learns them when the call starts.
    """

    type: Literal["emergency"]
    next: str
    after_announcement: str | None = Field(
        default=None, description="where to go after the announcement (default: next)"
    )


class QueueNode(_Strict):
    """Hand the caller to a queue with the data gathered so far (the IVR's last step)."""

    type: Literal["queue"]
    queue: str
    priority: int = Field(default=0, ge=0, le=100)
    prompts: list[str] = Field(default_factory=list)
    attach: list[str] = Field(
        default_factory=list, description="variables attached to the contact (empty: all)"
    )


class HangupNode(_Strict):
    """Play optional prompts and end the call (closed message, goodbye)."""

    type: Literal["hangup"]
    prompts: list[str] = Field(default_factory=list)
    outcome: Literal["self_served", "ivr_hangup", "closed"] = "ivr_hangup"


Node = Annotated[
    PlayNode
    | MenuNode
    | LanguageNode
    | CollectNode
    | HoursNode
    | EmergencyNode
    | QueueNode
    | HangupNode,
    Field(discriminator="type"),
]


class Survey(_Strict):
    """Post-call satisfaction survey: after the agent hangs up, the caller rates 1–5."""

    prompt: str = "survey"
    thanks_prompt: str = "survey_thanks"
    invalid_prompt: str | None = "invalid"
    timeout_s: float = Field(default=6.0, gt=0, le=60)
    retries: int = Field(default=1, ge=0, le=5)
    scale_max: int = Field(default=5, ge=2, le=9)


class Flow(_Strict):
    """A whole IVR flow: named nodes, the entry node, languages and the survey.

    Validation checks that every ``next``/option/failure target names a node, so a flow
    that loads can always be run.
    """

    id: str
    start: str
    languages: list[str] = Field(default_factory=lambda: ["zh-CN", "en"], min_length=1)
    nodes: dict[str, Node] = Field(min_length=1)
    survey: Survey | None = None

    @model_validator(mode="after")
    def _targets(self) -> Flow:
        if self.start not in self.nodes:
            raise ValueError(f"start node {self.start!r} is not defined")
        for name, node in self.nodes.items():
            for target in _targets_of(node):
                if target not in self.nodes:
                    raise ValueError(f"node {name!r} goes to undefined node {target!r}")
            if isinstance(node, LanguageNode):
                for language in [*node.options.values(), node.default]:
                    if language not in self.languages:
                        raise ValueError(f"node {name!r} offers unknown language {language!r}")
        return self


def _targets_of(node: Node) -> list[str]:
    if isinstance(node, PlayNode | LanguageNode):
        return [node.next]
    if isinstance(node, MenuNode):
        return [*node.options.values(), node.on_failure]
    if isinstance(node, CollectNode):
        return [node.next, node.on_failure]
    if isinstance(node, HoursNode):
        return [node.open, node.closed]
    if isinstance(node, EmergencyNode):
        return [node.next] + ([node.after_announcement] if node.after_announcement else [])
    return []


def prompts_of(flow: Flow) -> set[str]:
    """Every prompt id a flow can play, so set-up can check the audio files exist.

    >>> sorted(prompts_of(sample_flow()))[:3]
    ['closed', 'emergency', 'enter_serial']
    """
    found: set[str] = {"emergency"}
    for node in flow.nodes.values():
        found.update(getattr(node, "prompts", []))
        for attribute in ("invalid_prompt", "no_input_prompt"):
            value = getattr(node, attribute, None)
            if value:
                found.add(value)
    if flow.survey is not None:
        found.update({flow.survey.prompt, flow.survey.thanks_prompt})
        if flow.survey.invalid_prompt:
            found.add(flow.survey.invalid_prompt)
    return found


def sample_flow() -> Flow:
    """The appliance hotline's flow: language, emergency notice, hours, menu, serial number.

    >>> sample_flow().start
    'language'
    """
    hours = OpeningHours(
        weekly={day: ["08:00-21:00"] for day in WEEKDAYS[:5]}
        | {day: ["09:00-18:00"] for day in WEEKDAYS[5:]},
        holidays={date(2026, 2, 17): [], date(2026, 2, 18): ["10:00-16:00"]},
    )
    return Flow.model_validate(
        {
            "id": "appliance-hotline",
            "start": "language",
            "languages": ["zh-CN", "en"],
            "nodes": {
                "language": {
                    "type": "language",
                    "prompts": ["language"],
                    "options": {"1": "zh-CN", "2": "en"},
                    "default": "zh-CN",
                    "timeout_s": 4,
                    "next": "emergency",
                },
                "emergency": {"type": "emergency", "next": "hours"},
                "hours": {"type": "hours", "hours": hours, "open": "welcome", "closed": "closed"},
                "welcome": {"type": "play", "prompts": ["welcome"], "next": "main"},
                "main": {
                    "type": "menu",
                    "prompts": ["menu_main"],
                    "options": {"1": "serial", "2": "q_installation", "3": "q_complaints"},
                    "set_variable": "menu",
                    "on_failure": "q_repair",
                },
                "serial": {
                    "type": "collect",
                    "prompts": ["enter_serial"],
                    "variable": "serial_number",
                    "min_digits": 6,
                    "max_digits": 12,
                    "pattern": r"^\d{6,12}$",
                    "next": "q_repair",
                    "on_failure": "q_repair",
                },
                "q_repair": {"type": "queue", "queue": "repair", "prompts": ["transfer"]},
                "q_installation": {
                    "type": "queue",
                    "queue": "installation",
                    "prompts": ["transfer"],
                },
                "q_complaints": {
                    "type": "queue",
                    "queue": "complaints",
                    "priority": 5,
                    "prompts": ["transfer"],
                },
                "closed": {"type": "hangup", "prompts": ["closed"], "outcome": "closed"},
            },
            "survey": {},
        }
    )
