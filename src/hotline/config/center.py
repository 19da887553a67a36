"""The center configuration: one declarative YAML file describing a contact center.

It names sites, business-hours calendars with holidays, channels, skills, queues with their
service targets and routing rules, teams, agents with skills and proficiency, and the reason
and disposition codes agents choose from. ``hotline config validate FILE`` checks it; the
server, the simulator and the routing engine all start from it.

The shapes here are checked field by field (pydantic); rules that span records — unknown
skills, duplicate agents, impossible hours — are checked in :mod:`hotline.config.validate`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from hotline.config.bot import BotSettings
from hotline.config.caller_rules import CallerRules
from hotline.config.chat import ChatSettings
from hotline.config.crisis import OUTSIDE_NUMBER, CrisisConfig
from hotline.config.evaluation import QualityConfig
from hotline.config.flow import Flow, HoursNode, OpeningHours
from hotline.config.followup import FollowUpConfig
from hotline.config.grading import GradingConfig
from hotline.config.sms_notices import SmsNoticeRule
from hotline.config.surveys import SurveysConfig
from hotline.config.targets import Targets
from hotline.config.tones import RingbackTone
from hotline.config.trunks import Trunk, check_number_pattern
from hotline.core.calendar import WEEKDAYS, BusinessCalendar, Periods, parse_period, parse_periods
from hotline.core.requirements import parse_requirement

STRATEGIES = (
    "longest_idle",
    "least_occupied",
    "fewest_contacts",
    "round_robin",
    "highest_proficiency",
    "random",
)
CHANNELS = ("voice", "chat", "email", "sms", "app", "video", "callback", "outbound")
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class Strict(BaseModel):
    """Base for configuration records: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_period(text: str) -> str:
    parse_period(text)
    return text


def _check_day(value: list[str]) -> list[str]:
    parse_periods(value)
    return value


OpeningPeriod = Annotated[str, AfterValidator(_check_period)]


def _check_requirement(text: str) -> str:
    parse_requirement(text)
    return text


#: One requirement term in the one grammar the routing engine matches
#: (:mod:`hotline.core.requirements`): ``repair >= 3``, ``vip``, ``language == en``.
RequirementTerm = Annotated[str, AfterValidator(_check_requirement)]


class Holiday(Strict):
    """A special day: closed, or open on its own hours (e.g. 国庆节 10:00-16:00)."""

    date: date
    name: str = ""
    hours: list[OpeningPeriod] = Field(default_factory=list, description="empty: closed all day")

    @field_validator("hours")
    @classmethod
    def _no_overlap(cls, value: list[str]) -> list[str]:
        return _check_day(value)


class WeeklyHours(Strict):
    """Opening periods per weekday; a day left out is closed."""

    mon: list[OpeningPeriod] = Field(default_factory=list)
    tue: list[OpeningPeriod] = Field(default_factory=list)
    wed: list[OpeningPeriod] = Field(default_factory=list)
    thu: list[OpeningPeriod] = Field(default_factory=list)
    fri: list[OpeningPeriod] = Field(default_factory=list)
    sat: list[OpeningPeriod] = Field(default_factory=list)
    sun: list[OpeningPeriod] = Field(default_factory=list)

    @field_validator("*")
    @classmethod
    def _no_overlap(cls, value: list[str]) -> list[str]:
        return _check_day(value)

    def periods(self, weekday: int) -> Periods:
        """The opening periods of ``weekday`` (0 = Monday), in order, in seconds of the day."""
        return parse_periods(getattr(self, WEEKDAYS[weekday]))


class Calendar(Strict):
    """Business hours per weekday plus holidays, in the center's (or site's) time zone."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    timezone: str | None = None
    hours: WeeklyHours = Field(default_factory=WeeklyHours)
    holidays: list[Holiday] = Field(default_factory=list)

    def business_calendar(self, default_timezone: str) -> BusinessCalendar:
        """This calendar as the one business-hours value routing, the IVR and tickets ask.

        >>> cal = Calendar(id="c", hours=WeeklyHours(mon=["08:00-20:00"]),
        ...                holidays=[Holiday(date=date(2026, 10, 1))])
        >>> core = cal.business_calendar("Asia/Shanghai")
        >>> core.weekly[0], core.weekly[6], core.holidays[date(2026, 10, 1)], core.time_zone
        (((28800, 72000),), (), (), 'Asia/Shanghai')
        """
        return BusinessCalendar(
            time_zone=self.timezone or default_timezone,
            weekly={day: self.hours.periods(day) for day in range(7)},
            holidays={holiday.date: parse_periods(holiday.hours) for holiday in self.holidays},
        )


#: A calling-number prefix that marks a region: an area code (``0551``) or the same with the
#: country code (``+86551``).
REGION_PATTERN = r"^\+?[0-9]{1,15}$"


class Site(Strict):
    """A physical or virtual site where agents work (合肥中心, 成都中心).

    ``calendar``: the business hours of the site's queues that name none of their own.
    ``regions``: the calling-number prefixes whose callers this site serves first — a queue
    with ``prefer_caller_site_s`` offers such a caller to this site's agents for that long
    (the longest matching prefix decides; a prefix belongs to one site).
    """

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    timezone: str | None = None
    calendar: str | None = None
    regions: list[Annotated[str, Field(pattern=REGION_PATTERN)]] = Field(default_factory=list)


class ChannelConfig(Strict):
    """A channel and how many contacts of it an agent handles at once by default."""

    id: Literal["voice", "chat", "email", "sms", "app", "video", "callback", "outbound"]
    capacity: int = Field(default=1, ge=1, le=20)
    enabled: bool = True


class Skill(Strict):
    """A skill agents hold with proficiency 1 (novice) to 5 (expert)."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""


class ServiceTarget(Strict):
    """A service-level target: ``service_level`` of contacts answered within ``threshold_s``."""

    service_level: float = Field(gt=0, le=1)
    threshold_s: float = Field(gt=0)
    short_abandon_s: float = Field(default=5, ge=0)
    variant: Literal["service_level", "answered", "sl2", "offered"] = "service_level"


class AgeingStep(Strict):
    """After ``after_s`` of waiting, relax the queue's skill requirements (bullseye)."""

    after_s: float = Field(gt=0)
    min_proficiency: int | None = Field(default=None, ge=1, le=5)
    requirements: list[RequirementTerm] | None = Field(
        default=None,
        description="extra agents reached from this step on (rings only widen); [] means any agent",
    )


class OverflowRule(Strict):
    """When to leave the queue and where to go.

    ``no_agent_free``: on entry, none of the queue's agents is free to take the contact (it
    would have to wait) — with ``action: queue`` and a target of another site, the caller
    goes on to that site at once.
    """

    when: Literal[
        "wait_exceeds", "queue_length_exceeds", "no_agents_logged_in", "no_agent_free", "closed"
    ]
    value: float | None = Field(default=None, ge=0)
    action: Literal["queue", "callback", "voicemail", "closed_message", "forward"]
    target: str | None = None
    #: ``forward``: the outside number (a partner center, the duty number after hours) the
    #: caller is forwarded to through the trunk.
    number: str | None = Field(default=None, pattern=OUTSIDE_NUMBER)
    #: ``forward``: the numbers tried next, in order, when ``number`` is busy, unreachable or
    #: does not answer (a second partner center, a duty mobile).
    if_busy: list[Annotated[str, Field(pattern=OUTSIDE_NUMBER)]] = Field(
        default_factory=list, max_length=5
    )
    #: ``queue``: the site the target queue belongs to, written out where the overflow
    #: crosses sites; the check refuses a target of another site.
    site: str | None = None


class Queue(Strict):
    """A queue: what contacts need, how they are served, and the target they are held to."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    channel: Literal["voice", "chat", "email", "sms", "app", "video", "callback", "outbound"] = (
        "voice"
    )
    calendar: str | None = Field(
        default=None, description="the queue's hours; none: its site's calendar, else the center's"
    )
    site: str | None = Field(
        default=None,
        description="the site that answers this queue: its contacts count toward that site "
        "on the wallboard's site map and in reports by site",
    )
    prefer_caller_site_s: float = Field(
        default=0,
        ge=0,
        le=3600,
        description="a caller from a site's region (its regions' number prefixes) is offered "
        "only to that site's agents of this queue for this long, then to anyone eligible",
    )
    requirements: list[RequirementTerm] = Field(default_factory=list)
    target: ServiceTarget
    priority: int = Field(default=0, ge=0, le=100)
    priority_head_start_s: float = Field(default=0, ge=0)
    strategy: str = "longest_idle"
    wrap_up_s: float = Field(default=30, ge=0, le=3600)
    ring_timeout_s: float = Field(default=20, gt=0, le=600)
    max_wait_s: float | None = Field(default=None, gt=0)
    ageing: list[AgeingStep] = Field(default_factory=list)
    overflow: list[OverflowRule] = Field(default_factory=list)
    announce_every_s: float | None = Field(default=None, gt=0)
    announce_agent_number: bool = Field(
        default=False,
        description="tell the caller the answering agent's job number when the call connects "
        "('N 号话务员为您服务' / 'Agent number N is serving you')",
    )
    outbound_reserve: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="blending: idle agents of this queue (its first ring) that campaigns' "
        "diallers leave to it, so a caller arriving while they dial finds an agent at once",
    )

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, value: str) -> str:
        if value not in STRATEGIES:
            raise ValueError(f"unknown strategy {value!r}; use one of {', '.join(STRATEGIES)}")
        return value


class Team(Strict):
    """A team of agents with a team lead."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    site: str | None = None
    lead: str | None = None


class Agent(Strict):
    """An agent: team, skills with proficiency, languages and capacity per channel."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    team: str
    site: str | None = None
    skills: dict[str, int] = Field(default_factory=dict)
    languages: list[str] = Field(default_factory=lambda: ["zh-CN"])
    capacity: dict[str, int] = Field(default_factory=dict)
    wrap_up_s: float | None = Field(default=None, ge=0, le=3600)
    job_number: str | None = Field(
        default=None,
        pattern=r"^[0-9]{1,8}$",
        description="the agent's job number (工号), announced to callers digit by digit",
    )

    @field_validator("skills")
    @classmethod
    def _proficiency(cls, value: dict[str, int]) -> dict[str, int]:
        for skill, level in value.items():
            if not 1 <= level <= 5:
                raise ValueError(f"proficiency of {skill!r} is {level}; it must be 1 to 5")
        return value


class ReasonCode(Strict):
    """Why an agent is not ready: break, lunch, training, meeting, coaching…"""

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    productive: bool = False
    max_minutes: int | None = Field(default=None, gt=0)


class DispositionCode(Strict):
    """How a contact was resolved, chosen at wrap-up."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""


class CustomField(Strict):
    """A custom field a ticket of some category carries (a model number, a purchase date)."""

    name: str = Field(pattern=ID_PATTERN)
    label: str = ""
    type: Literal["text", "number", "date", "choice"] = "text"
    required: bool = False
    choices: list[str] = Field(default_factory=list)


class TicketCategory(Strict):
    """One category of a ticket type (``water_heater`` under ``repair``) and its fields.

    ``warranty_months``: how long a product of this category is under warranty, counted
    from its installation date (else its purchase date), when the product record carries
    no warranty end date of its own.
    """

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    fields: list[CustomField] = Field(default_factory=list)
    warranty_months: int | None = Field(default=None, ge=1, le=240)


class TicketTypeCategories(Strict):
    """The categories a ticket type may take; tickets of a type listed here must use them."""

    type: Literal["inquiry", "installation", "repair", "complaint", "suggestion"]
    categories: list[TicketCategory] = Field(default_factory=list)


class ServiceProviderConfig(Strict):
    """A field-service provider (服务网点): where it works, what it repairs, how much at once.

    Dispatch sends a repair or installation order only to a provider whose ``regions`` hold
    the order's region and whose ``categories`` hold its product category (an empty list
    means any), while its open work orders are fewer than ``capacity``. ``staff`` are the
    usernames of the provider's people who sign in to the provider portal (role
    ``provider``); they see only this provider's work orders.
    """

    code: str = Field(pattern=ID_PATTERN)
    name: str = ""
    regions: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    capacity: int = Field(default=20, ge=1, le=100_000)
    staff: list[str] = Field(default_factory=list)


class CenterInfo(Strict):
    """The center's name, default time zone and languages."""

    name: str
    timezone: str = "Asia/Shanghai"
    languages: list[str] = Field(default_factory=lambda: ["zh-CN", "en"])
    default_calendar: str | None = None


class IvrConfig(Strict):
    """The voice menus (IVR flows) of the center's hotline numbers.

    ``numbers`` maps a called number to a flow id (the first flow answers any other number);
    ``emergency_prompt`` is the emergency announcement switch: while it names a prompt, every
    caller hears it at the flow's ``emergency`` node (supervisors switch it on and off by
    saving the configuration).
    """

    flows: list[Flow] = Field(min_length=1)
    numbers: dict[str, str] = Field(default_factory=dict)
    emergency_prompt: str | None = None


class CenterConfig(Strict):
    """The whole center, as written in its configuration file."""

    center: CenterInfo
    sites: list[Site] = Field(default_factory=list)
    calendars: list[Calendar] = Field(default_factory=list)
    channels: list[ChannelConfig] = Field(default_factory=list)
    skills: list[Skill] = Field(default_factory=list)
    queues: list[Queue] = Field(default_factory=list)
    teams: list[Team] = Field(default_factory=list)
    agents: list[Agent] = Field(default_factory=list)
    reason_codes: list[ReasonCode] = Field(default_factory=list)
    disposition_codes: list[DispositionCode] = Field(default_factory=list)
    ticket_categories: list[TicketTypeCategories] = Field(default_factory=list)
    service_providers: list[ServiceProviderConfig] = Field(default_factory=list)
    ivr: IvrConfig | None = None
    quality: QualityConfig | None = None
    targets: Targets | None = None
    grading: GradingConfig | None = None
    followup: FollowUpConfig | None = None
    chat: ChatSettings | None = None
    bot: BotSettings | None = None
    caller_rules: CallerRules | None = None
    crisis: CrisisConfig | None = None
    surveys: SurveysConfig | None = None
    sms_notices: list[SmsNoticeRule] = Field(default_factory=list)
    #: The outbound trunks: a site's calls out leave by its own, else by the one without a
    #: site (the center's default; :func:`hotline.config.trunks.choose_trunk`).
    trunks: list[Trunk] = Field(default_factory=list)
    #: The outside numbers an agent may transfer a caller to, as regular expressions the
    #: whole number must match (none listed: any number; :func:`~hotline.config.trunks.
    #: transfer_allowed`).
    transfer_numbers: list[Annotated[str, AfterValidator(check_number_pattern)]] = Field(
        default_factory=list, max_length=64
    )
    #: What a caller hears while a number dialled out for them rings (a transfer to an
    #: outside number, forwarding): the national ring tone, China's by default.
    ringback: RingbackTone = Field(default_factory=RingbackTone)

    def ivr_flows(self) -> dict[str, Flow]:
        """The IVR flows by id, hours nodes naming a calendar given that calendar's hours.

        >>> from pathlib import Path
        >>> from hotline.config.validate import load_center
        >>> center = load_center(Path(__file__).parent / "samples/appliance_center.yaml")
        >>> flow = center.ivr_flows()["appliance-hotline"]
        >>> flow.nodes["hours"].hours.weekly["mon"]
        ['08:00-21:00']
        """
        if self.ivr is None:
            return {}
        calendars = {c.id: c for c in self.calendars}
        flows: dict[str, Flow] = {}
        for flow in self.ivr.flows:
            nodes = dict(flow.nodes)
            for name, node in flow.nodes.items():
                if isinstance(node, HoursNode) and node.calendar is not None:
                    calendar = calendars[node.calendar]
                    hours = OpeningHours(
                        weekly={
                            day: list(getattr(calendar.hours, day))
                            for day in WEEKDAYS
                            if getattr(calendar.hours, day)
                        },
                        holidays={h.date: list(h.hours) for h in calendar.holidays},
                    )
                    nodes[name] = node.model_copy(update={"hours": hours, "calendar": None})
            flows[flow.id] = flow.model_copy(update={"nodes": nodes})
        return flows

    def queue(self, queue_id: str) -> Queue:
        """Return the queue named ``queue_id`` (``KeyError`` if there is none)."""
        for queue in self.queues:
            if queue.id == queue_id:
                return queue
        raise KeyError(queue_id)

    def agent_sites(self) -> dict[str, str]:
        """Each agent's site: its own, else its team's (agents with neither are left out).

        >>> from pathlib import Path
        >>> from hotline.config.validate import load_center
        >>> center = load_center(Path(__file__).parent / "samples/appliance_center.yaml")
        >>> center.agent_sites()["a001"], center.queue_sites()["vip"]
        ('hefei', 'chengdu')
        """
        teams = {team.id: team.site for team in self.teams}
        found = {agent.id: agent.site or teams.get(agent.team) for agent in self.agents}
        return {agent: site for agent, site in found.items() if site is not None}

    def queue_calendar(self, queue: Queue) -> str | None:
        """The calendar that holds ``queue``'s hours: its own, else its site's, else the
        center's default (``None``: always open).

        >>> from pathlib import Path
        >>> from hotline.config.validate import load_center
        >>> center = load_center(Path(__file__).parent / "samples/appliance_center.yaml")
        >>> center.queue_calendar(center.queue("vip")), center.queue_calendar(center.queue("chat"))
        ('vip', 'hotline')
        """
        if queue.calendar is not None:
            return queue.calendar
        for site in self.sites:
            if site.id == queue.site and site.calendar is not None:
                return site.calendar
        return self.center.default_calendar

    def region_sites(self) -> dict[str, str]:
        """Each calling-number prefix of the sites' regions, and its site.

        >>> from pathlib import Path
        >>> from hotline.config.validate import load_center
        >>> center = load_center(Path(__file__).parent / "samples/appliance_center.yaml")
        >>> center.region_sites()["0551"], center.region_sites()["+8628"]
        ('hefei', 'chengdu')
        """
        return {prefix: site.id for site in self.sites for prefix in site.regions}

    def queue_sites(self) -> dict[str, str]:
        """Each queue's site (queues without one are left out)."""
        return {queue.id: queue.site for queue in self.queues if queue.site is not None}

    def site_members(self, site: str) -> tuple[set[str], set[str]]:
        """The queues and the agents of ``site`` (an agent's own site, else its team's);
        ``ValueError`` naming the sites there are when there is no such site.

        >>> from pathlib import Path
        >>> from hotline.config.validate import load_center
        >>> center = load_center(Path(__file__).parent / "samples/appliance_center.yaml")
        >>> sorted(center.site_members("hefei")[0])
        ['installation', 'repair']
        >>> center.site_members("wuhan")
        Traceback (most recent call last):
        ...
        ValueError: no site 'wuhan' (sites: hefei, chengdu)
        """
        if site not in {s.id for s in self.sites}:
            known = ", ".join(s.id for s in self.sites) or "none"
            raise ValueError(f"no site {site!r} (sites: {known})")
        queues = {q for q, s in self.queue_sites().items() if s == site}
        return queues, {a for a, s in self.agent_sites().items() if s == site}

    def forward_fallbacks(self) -> dict[str, tuple[str, ...]]:
        """The numbers tried next when a forwarded caller's number is busy, unreachable or
        does not answer, by that number (the queues' ``forward`` rules and crisis mode's
        overflow; validation refuses two different lists for one number).

        >>> from pathlib import Path
        >>> from hotline.config.validate import load_center
        >>> load_center(Path(__file__).parent / "samples/appliance_center.yaml").forward_fallbacks()
        {}
        """
        found: dict[str, tuple[str, ...]] = {}
        for _, number, then in self.forward_rules():
            if then:
                found.setdefault(number, tuple(then))
        return found

    def forward_rules(self) -> list[tuple[tuple[str | int, ...], str, list[str]]]:
        """Every forward rule in file order: where it stands in the file (for a located
        error), its number and its ``if_busy`` numbers."""
        rules: list[tuple[tuple[str | int, ...], str, list[str]]] = [
            (("queues", i, "overflow", j), rule.number, rule.if_busy)
            for i, queue in enumerate(self.queues)
            for j, rule in enumerate(queue.overflow)
            if rule.action == "forward" and rule.number is not None
        ]
        if self.crisis is not None and self.crisis.overflow is not None:
            overflow = self.crisis.overflow
            rules.append((("crisis", "overflow"), overflow.number, overflow.if_busy))
        return rules

    def channel_capacity(self, agent: Agent, channel: str) -> int:
        """The number of contacts of ``channel`` that ``agent`` may hold at once."""
        if channel in agent.capacity:
            return agent.capacity[channel]
        for configured in self.channels:
            if configured.id == channel:
                return configured.capacity
        return 1
