"""Simulation scenarios: the center, its traffic and its people, read from YAML.

A scenario answers "what if": it names the queues (with their routing rules, handle-time and
patience distributions, and options such as offering a callback after 60 s), the agent groups
(skills, shifts and breaks, or simply how many work in each interval), and the arrival rate of
each queue per interval (a non-stationary Poisson process). Example::

    name: Monday morning
    start: 2026-03-02T08:00:00
    timezone: Asia/Shanghai
    interval_s: 1800
    warmup_s: 0
    queues:
      - id: repair
        requirements: [repair >= 2]
        wrap_up_s: 30
        service_level_threshold_s: 20
        handle_time: {lognormal: {mean: 240, sd: 180}}
        patience: {exponential: 120}
        callback_after_s: 60
    agents:
      - group: repair team
        count: 25
        skills: {repair: 3}
        shifts: [{start: "08:00", end: "12:00", breaks: [{start: "10:00", duration_s: 900}]}]
    arrivals:
      - queue: repair
        rates_per_hour: [300, 420, 480, 450, 380, 300, 250, 200]

Instead of spelling out queues and agents, a scenario can name the center configuration
(``center: ../center.yaml``): its queues, routing rules, skills and agents are used as they are
(``honour_hours: true`` also keeps the opening hours), the scenario's ``queues`` entries only
add handle time, patience and what-if options by queue id, and ``agents`` groups pick the
center's agents by ``team`` (or ``agents: [ids]``) to give them shifts; without ``agents``,
every agent of the center works the whole run.

Sites: an agent group may say where it works (``site: hefei``; a center's agents bring their
own), an arrival stream where its callers call from (``caller_site: hefei``, a site some agent
works at), and a queue how long it offers such callers only to their site's agents
(``prefer_caller_site_s``; from a center file, the queue's own setting).

Problems are reported together, each with its place in the file (:class:`Problem`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from hotline.config.validate import load_center
from hotline.core.documents import load_yaml
from hotline.core.errors import Problem, ValidationFailed
from hotline.core.events import Channel
from hotline.replay.driver import TraceContact
from hotline.routing.from_center import routing_config_from_center
from hotline.routing.model import (
    AgentConfig,
    OverflowAction,
    OverflowCondition,
    OverflowRule,
    PriorityMode,
    QueueConfig,
    RoutingConfig,
    RoutingError,
    Strategy,
)
from hotline.sim.distributions import Distribution, Exponential, Never, from_spec


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A queue's routing configuration and the behaviour of its contacts.

    ``handle_time`` and ``patience`` hold for every contact of the queue unless refined:
    ``handle_time_per_interval`` (one distribution per arrival interval of the scenario, e.g.
    fitted per hour of day: morning calls of a bank are longer than evening ones) gives the
    handle time of a contact by the interval it arrives in, and ``patience_by_priority`` the
    patience of a contact by its arrival stream's priority (a bank's priority customers wait
    longer before hanging up). ``patience_by_waiting`` refines patience by the queue a caller
    finds: it maps a priority (``None``: any) to one distribution per band of callers already
    waiting in the queue at arrival, the bands starting at ``waiting_bands`` (ascending, the
    first 0; callers who find a long queue give up sooner). The refinements are optional;
    the plain fields stay the queue's summary (and what a contact outside the refinements
    draws from).

    >>> from hotline.sim.distributions import Constant, Never
    >>> spec = QueueSpec(QueueConfig(id="q"), Constant(60.0), Never(),
    ...                  handle_time_per_interval=(Constant(90.0), Constant(30.0)))
    >>> spec.handle_time_at(1).mean, spec.handle_time_at(7).mean, spec.patience_of(2).mean
    (30.0, 30.0, inf)
    """

    config: QueueConfig
    handle_time: Distribution
    patience: Distribution
    handle_time_per_interval: tuple[Distribution, ...] = ()
    patience_by_priority: Mapping[int, Distribution] = field(default_factory=dict)
    waiting_bands: tuple[int, ...] = ()
    patience_by_waiting: Mapping[int | None, tuple[Distribution, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bands = self.waiting_bands
        if bands and (bands[0] != 0 or list(bands) != sorted(set(bands))):
            raise ValueError(f"waiting_bands must start at 0 and rise, got {bands}")
        for priority, per_band in self.patience_by_waiting.items():
            if len(per_band) != len(bands):
                raise ValueError(
                    f"patience_by_waiting[{priority}] has {len(per_band)} distributions for "
                    f"{len(bands)} waiting_bands"
                )

    @property
    def id(self) -> str:
        """The queue id."""
        return self.config.id

    def handle_time_at(self, interval: int) -> Distribution:
        """The handle time of a contact arriving in ``interval`` (the last one beyond the end;
        ``handle_time`` without a per-interval refinement)."""
        per_interval = self.handle_time_per_interval
        if not per_interval:
            return self.handle_time
        return per_interval[min(max(interval, 0), len(per_interval) - 1)]

    def patience_of(self, priority: int | None, waiting: int | None = None) -> Distribution:
        """The patience of a contact of ``priority`` who finds ``waiting`` callers in the
        queue (``patience`` when not refined).

        >>> from hotline.sim.distributions import Constant
        >>> spec = QueueSpec(QueueConfig(id="q"), Constant(60.0), Constant(300.0),
        ...                  waiting_bands=(0, 3),
        ...                  patience_by_waiting={None: (Constant(200.0), Constant(50.0))})
        >>> spec.patience_of(1, 0).mean, spec.patience_of(1, 7).mean, spec.patience_of(1).mean
        (200.0, 50.0, 300.0)
        """
        if waiting is not None and self.waiting_bands:
            per_band = self.patience_by_waiting.get(priority) or self.patience_by_waiting.get(None)
            if per_band:
                return per_band[bisect.bisect_right(self.waiting_bands, waiting) - 1]
        if priority is None:
            return self.patience
        return self.patience_by_priority.get(priority, self.patience)


@dataclass(frozen=True, slots=True)
class Shift:
    """A working period in seconds from the scenario start, with breaks (start, length)."""

    start_s: float
    end_s: float
    breaks: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class AgentGroup:
    """Agents with the same skills and shifts, or a head count per interval.

    ``per_interval`` (agents working in each interval) replaces shifts when given: the driver
    logs agents in and out at interval boundaries to match it.
    """

    name: str
    count: int
    skills: Mapping[str, int]
    languages: frozenset[str] = frozenset({"zh-CN"})
    shifts: tuple[Shift, ...] = ()
    per_interval: tuple[int, ...] | None = None
    members: tuple[AgentConfig, ...] = ()
    """Named agents (from a center configuration); empty: ``count`` generated agents."""
    site: str | None = None
    """Where the group's generated agents work (a center's agents bring their own)."""

    def agent_ids(self) -> list[str]:
        """Ids of the group's agents: its members', or ``<group>-001`` …"""
        if self.members:
            return [m.id for m in self.members]
        width = max(3, len(str(self.count)))
        return [f"{self.name}-{i + 1:0{width}d}" for i in range(self.count)]

    def agent_configs(self) -> list[AgentConfig]:
        """The routing configuration of each agent of the group."""
        if self.members:
            return list(self.members)
        return [
            AgentConfig(
                agent_id, skills=dict(self.skills), languages=self.languages, site=self.site
            )
            for agent_id in self.agent_ids()
        ]


@dataclass(frozen=True, slots=True)
class ArrivalStream:
    """Contacts arriving at one queue: a rate per interval (contacts per second).

    ``caller_site``: the site whose region these callers call from (the engine prefers
    that site's agents where the queue says so: ``prefer_caller_site_s``).
    """

    queue: str
    rates_per_s: tuple[float, ...]
    channel: Channel = Channel.VOICE
    priority: int | None = None
    caller_site: str | None = None


@dataclass(frozen=True)
class Scenario:
    """Everything one simulation run needs, independent of the seed."""

    name: str
    start: float
    timezone: str
    interval_s: float
    queues: tuple[QueueSpec, ...]
    agents: tuple[AgentGroup, ...]
    arrivals: tuple[ArrivalStream, ...]
    warmup_s: float = 0.0
    seed: int = 1
    answer_delay_s: float = 0.0
    description: str = ""
    default_capacity: Mapping[Channel, int] | None = None
    trace: tuple[TraceContact, ...] = ()
    """Historical arrivals to replay instead of the Poisson streams (``--replay``)."""

    @property
    def intervals(self) -> int:
        """Number of arrival intervals (the longest stream)."""
        return max((len(a.rates_per_s) for a in self.arrivals), default=0)

    @property
    def duration_s(self) -> float:
        """Seconds during which contacts arrive."""
        return self.intervals * self.interval_s

    def routing_config(self, *, seed: int) -> RoutingConfig:
        """The routing engine's configuration: the queues and every agent of every group."""
        agents = tuple(config for group in self.agents for config in group.agent_configs())
        # With no answer delay, agents answer every offer at the instant it is made, and the
        # engine logs both itself (the same log as the driver answering each offer at once).
        auto_answer = self.answer_delay_s <= 0
        if self.default_capacity is not None:
            return RoutingConfig(
                queues=tuple(q.config for q in self.queues),
                agents=agents,
                default_capacity=self.default_capacity,
                seed=seed,
                auto_answer=auto_answer,
            )
        return RoutingConfig(
            queues=tuple(q.config for q in self.queues),
            agents=agents,
            seed=seed,
            auto_answer=auto_answer,
        )

    def queue(self, queue_id: str) -> QueueSpec:
        """The queue named ``queue_id``."""
        for spec in self.queues:
            if spec.id == queue_id:
                return spec
        raise KeyError(queue_id)


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file; every problem is reported with its place."""
    return scenario_from_dict(read_yaml_file(path), source=str(path))


def read_yaml_file(path: Path) -> Any:
    """Parse a YAML file of the simulator's (a scenario, a sweep's grid), or refuse it with
    its name (and the line of a syntax error)."""
    name = str(path)
    try:
        return load_yaml(path.read_text(encoding="utf-8"), source=name)
    except OSError as exc:
        raise ValidationFailed([Problem(rule=str(exc), file=name)]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ValidationFailed(
            [
                Problem(
                    rule=f"not valid YAML: {exc}",
                    file=name,
                    line=mark.line + 1 if mark is not None else None,
                )
            ]
        ) from exc


def scenario_from_dict(data: Any, *, source: str = "<scenario>") -> Scenario:
    """Build a scenario from parsed YAML (see the module documentation for the format)."""
    problems: list[Problem] = []

    def problem(where: str, rule: str) -> None:
        problems.append(Problem(rule=rule, file=source, field=where))

    if not isinstance(data, dict):
        raise ValidationFailed([Problem(rule="a scenario is a YAML mapping", file=source)])
    tz_name = str(data.get("timezone", "UTC"))
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        problem("timezone", f"unknown time zone {tz_name!r}")
        tz = ZoneInfo("UTC")
    start_value = data.get("start", "2026-01-05T08:00:00")
    try:
        start_dt = (
            start_value
            if isinstance(start_value, datetime)
            else datetime.fromisoformat(str(start_value))
        )
        if start_dt.tzinfo is None:
            start_dt = start_dt.replace(tzinfo=tz)
    except ValueError:
        problem("start", f"{start_value!r} is not an ISO 8601 timestamp")
        start_dt = datetime(2026, 1, 5, 8, tzinfo=tz)
    start = start_dt.timestamp()
    interval_s = _number(data.get("interval_s", 1800), "interval_s", problem, positive=True)

    def offset(value: Any, where: str) -> float:
        """Seconds from the start: a number, or a clock time "HH:MM" on the start day."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            clock = time.fromisoformat(str(value))
        except ValueError:
            problem(where, f"{value!r} is neither seconds from the start nor HH:MM")
            return 0.0
        moment = datetime.combine(start_dt.date(), clock, tzinfo=start_dt.tzinfo)
        if moment < start_dt:
            moment += timedelta(days=1)
        return moment.timestamp() - start

    center_routing: RoutingConfig | None = None
    center_teams: dict[str, str] = {}
    if data.get("center") is not None:
        center_path = Path(str(data["center"]))
        if not center_path.is_absolute() and source != "<scenario>":
            center_path = Path(source).parent / center_path
        try:
            center = load_center(center_path)
            center_routing = routing_config_from_center(
                center, honour_hours=bool(data.get("honour_hours", False))
            )
            center_teams = {agent.id: agent.team for agent in center.agents}
        except ValidationFailed as failed:
            problems.extend(failed.problems)
        except (RoutingError, OSError) as exc:
            problem("center", str(exc))

    queues: list[QueueSpec] = []
    raw_queues = _list(data.get("queues"), "queues", problem)
    if center_routing is not None:
        # The center file gives the routing rules; the scenario adds how contacts behave.
        behaviour = {
            str(q.get("id")): (i, q) for i, q in enumerate(raw_queues) if isinstance(q, dict)
        }
        for queue_id in sorted(set(behaviour) - {q.id for q in center_routing.queues}):
            problem(
                f"queues[{behaviour[queue_id][0]}].id",
                f"queue {queue_id!r} is not in the center configuration",
            )
        for config in center_routing.queues:
            index, raw = behaviour.get(config.id, (None, {}))
            where = f"queues[{index}]" if index is not None else f"center queue {config.id}"
            spec = _center_queue(config, raw, where, problem)
            if spec is not None:
                queues.append(spec)
    else:
        for index, raw in enumerate(raw_queues):
            where = f"queues[{index}]"
            spec = _queue(raw, where, problem)
            if spec is not None:
                queues.append(spec)
    if not queues and not any(p.field == "queues" for p in problems):
        problem("queues", "a scenario needs at least one queue")
    queue_ids = {q.id for q in queues}

    groups: list[AgentGroup] = []
    for index, raw in enumerate(_list(data.get("agents"), "agents", problem)):
        where = f"agents[{index}]"
        if not isinstance(raw, dict):
            problem(where, "an agent group is a mapping")
            continue
        group_name = str(raw.get("group", raw.get("team", f"group{index + 1}")))
        per_interval = raw.get("per_interval")
        count = raw.get("count")
        members: tuple[AgentConfig, ...] = ()
        if center_routing is not None and ("team" in raw or "agents" in raw):
            wanted = set(map(str, raw.get("agents") or []))
            members = tuple(
                a
                for a in center_routing.agents
                if a.id in wanted or center_teams.get(a.id) == raw.get("team")
            )
            if not members:
                problem(where, "no agent of the center configuration matches this group")
            count = len(members)
        if per_interval is not None:
            if not isinstance(per_interval, list) or not all(
                isinstance(n, int) and n >= 0 for n in per_interval
            ):
                problem(f"{where}.per_interval", "a list of whole numbers of agents")
                per_interval = None
            elif count is None:
                count = max(per_interval, default=0)
        if not isinstance(count, int) or count < 0:
            problem(f"{where}.count", "a whole number of agents is required")
            continue
        skills = raw.get("skills") or {}
        if not isinstance(skills, dict) or not all(
            isinstance(v, int) and 1 <= v <= 5 for v in skills.values()
        ):
            problem(f"{where}.skills", "skills map a skill to a proficiency from 1 to 5")
            skills = {}
        shifts: list[Shift] = []
        for s_index, raw_shift in enumerate(raw.get("shifts") or []):
            s_where = f"{where}.shifts[{s_index}]"
            if (
                not isinstance(raw_shift, dict)
                or "start" not in raw_shift
                or "end" not in raw_shift
            ):
                problem(s_where, "a shift has a start and an end")
                continue
            s_start = offset(raw_shift["start"], f"{s_where}.start")
            s_end = offset(raw_shift["end"], f"{s_where}.end")
            if s_end <= s_start:
                problem(s_where, "a shift must end after it starts")
            breaks: list[tuple[float, float]] = []
            for b_index, raw_break in enumerate(raw_shift.get("breaks") or []):
                b_where = f"{s_where}.breaks[{b_index}]"
                if not isinstance(raw_break, dict) or "start" not in raw_break:
                    problem(b_where, "a break has a start and duration_s")
                    continue
                b_start = offset(raw_break["start"], f"{b_where}.start")
                length = _number(
                    raw_break.get("duration_s", 900),
                    f"{b_where}.duration_s",
                    problem,
                    positive=True,
                )
                if not s_start <= b_start < s_end:
                    problem(b_where, "a break must start within its shift")
                breaks.append((b_start, length))
            shifts.append(Shift(s_start, s_end, tuple(breaks)))
        languages = raw.get("languages")
        site = raw.get("site")
        if site is not None and members:
            problem(f"{where}.site", "the center's agents bring their own site")
        groups.append(
            AgentGroup(
                name=group_name,
                count=count,
                skills=dict(skills),
                languages=frozenset(languages) if languages else frozenset({"zh-CN"}),
                shifts=tuple(shifts),
                per_interval=tuple(per_interval) if per_interval is not None else None,
                members=members,
                site=str(site) if site is not None and not members else None,
            )
        )
    if not groups and center_routing is not None and center_routing.agents:
        groups.append(
            AgentGroup(
                name="center",
                count=len(center_routing.agents),
                skills={},
                members=center_routing.agents,
            )
        )
    if not groups and not any(p.field == "agents" for p in problems):
        problem("agents", "a scenario needs at least one agent group")

    agent_sites = {a.site for group in groups for a in group.agent_configs() if a.site is not None}
    streams: list[ArrivalStream] = []
    for index, raw in enumerate(_list(data.get("arrivals"), "arrivals", problem)):
        where = f"arrivals[{index}]"
        if not isinstance(raw, dict):
            problem(where, "an arrival stream is a mapping")
            continue
        queue_id = str(raw.get("queue", ""))
        if queue_id not in queue_ids:
            problem(f"{where}.queue", f"unknown queue {queue_id!r}")
        rates: list[float] = []
        if "rates_per_hour" in raw:
            values = raw["rates_per_hour"]
            if not isinstance(values, list) or not all(
                isinstance(v, int | float) and v >= 0 for v in values
            ):
                problem(f"{where}.rates_per_hour", "a list of non-negative rates")
            else:
                rates = [float(v) / 3600.0 for v in values]
        elif "rate_per_hour" in raw:
            rate = _number(raw["rate_per_hour"], f"{where}.rate_per_hour", problem)
            hours = _number(data.get("duration_s", 8 * 3600), "duration_s", problem, positive=True)
            count = max(1, math.ceil(hours / interval_s))
            rates = [rate / 3600.0] * count
        else:
            problem(where, "give rates_per_hour (per interval) or rate_per_hour")
        channel_name = str(raw.get("channel", "voice"))
        try:
            channel = Channel(channel_name)
        except ValueError:
            problem(f"{where}.channel", f"unknown channel {channel_name!r}")
            channel = Channel.VOICE
        priority = raw.get("priority")
        caller_site = raw.get("caller_site")
        if caller_site is not None and str(caller_site) not in agent_sites:
            problem(
                f"{where}.caller_site",
                f"no agent works at site {caller_site!r} (agents' sites: "
                + (", ".join(sorted(agent_sites)) or "none")
                + ")",
            )
        streams.append(
            ArrivalStream(
                queue=queue_id,
                rates_per_s=tuple(rates),
                channel=channel,
                priority=int(priority) if priority is not None else None,
                caller_site=str(caller_site) if caller_site is not None else None,
            )
        )
    if not streams and not any(p.field == "arrivals" for p in problems):
        problem("arrivals", "a scenario needs at least one arrival stream")

    routing_problems: list[str] = []
    if not problems:
        try:
            RoutingConfig(queues=tuple(q.config for q in queues))
        except RoutingError as exc:
            routing_problems.append(str(exc))
    for message in routing_problems:
        problem("queues", message)
    if problems:
        raise ValidationFailed(problems)
    return Scenario(
        name=str(data.get("name", Path(source).stem)),
        description=str(data.get("description", "")),
        start=start,
        timezone=tz_name,
        interval_s=interval_s,
        queues=tuple(queues),
        agents=tuple(groups),
        arrivals=tuple(streams),
        warmup_s=_number(data.get("warmup_s", 0), "warmup_s", problem),
        seed=int(data.get("seed", 1)),
        answer_delay_s=_number(data.get("answer_delay_s", 0), "answer_delay_s", problem),
        default_capacity=center_routing.default_capacity if center_routing else None,
    )


def _queue(raw: Any, where: str, problem: Any) -> QueueSpec | None:
    if not isinstance(raw, dict) or "id" not in raw:
        problem(where, "a queue is a mapping with an id")
        return None
    known = {
        "id", "channel", "requirements", "strategy", "priority_mode", "head_start_s",
        "head_start_by_priority", "wrap_up_s", "service_level_threshold_s",
        "target_service_level", "handle_time", "patience", "callback_after_s",
        "overflow_after_s", "overflow_to", "expected_handle_s", "prefer_caller_site_s",
    }  # fmt: skip
    for key in sorted(set(raw) - known):
        problem(f"{where}.{key}", "unknown queue setting")
    handle, patience = _behaviour(raw, where, problem, 180.0)
    overflow: list[OverflowRule] = []
    if raw.get("callback_after_s") is not None:
        overflow.append(
            OverflowRule(
                OverflowCondition.WAIT_EXCEEDS,
                OverflowAction.CALLBACK,
                float(raw["callback_after_s"]),
                str(raw["id"]),
            )
        )
    if raw.get("overflow_after_s") is not None:
        overflow.append(
            OverflowRule(
                OverflowCondition.WAIT_EXCEEDS,
                OverflowAction.QUEUE,
                float(raw["overflow_after_s"]),
                str(raw.get("overflow_to", "")),
            )
        )
    try:
        config = QueueConfig(
            id=str(raw["id"]),
            channel=Channel(str(raw.get("channel", "voice"))),
            requirements=tuple(str(r) for r in raw.get("requirements") or ()),
            strategy=Strategy(str(raw.get("strategy", "longest_idle"))),
            priority_mode=PriorityMode(str(raw.get("priority_mode", "strict"))),
            head_start_s=float(raw.get("head_start_s", 0.0)),
            head_start_by_priority={
                int(k): float(v) for k, v in (raw.get("head_start_by_priority") or {}).items()
            },
            wrap_up_s=float(raw.get("wrap_up_s", 0.0)),
            target_threshold_s=float(raw.get("service_level_threshold_s", 20.0)),
            target_service_level=float(raw.get("target_service_level", 0.8)),
            overflow=tuple(overflow),
            expected_handle_s=float(raw.get("expected_handle_s", handle.mean)),
            prefer_caller_site_s=float(raw.get("prefer_caller_site_s", 0.0)),
        )
    except (RoutingError, ValueError) as exc:
        problem(where, str(exc))
        return None
    return QueueSpec(config=config, handle_time=handle, patience=patience)


def _behaviour(
    raw: Mapping[str, Any], where: str, problem: Any, default_handle_s: float
) -> tuple[Distribution, Distribution]:
    """A queue's handle-time and patience distributions from its scenario entry."""
    try:
        handle = from_spec(raw.get("handle_time", default_handle_s), where=f"{where}.handle_time")
        if isinstance(handle, Never):
            problem(f"{where}.handle_time", "a handle time must be finite")
            handle = Exponential(default_handle_s)
    except ValueError as exc:
        problem(f"{where}.handle_time", str(exc))
        handle = Exponential(default_handle_s)
    try:
        patience = from_spec(raw.get("patience", "never"), where=f"{where}.patience")
    except ValueError as exc:
        problem(f"{where}.patience", str(exc))
        patience = Never()
    return handle, patience


def _center_queue(
    config: QueueConfig, raw: Mapping[str, Any], where: str, problem: Any
) -> QueueSpec | None:
    """A queue of the center file, with the scenario's behaviour and options added."""
    for key in sorted(set(raw) - {"id", "handle_time", "patience", "callback_after_s"}):
        problem(
            f"{where}.{key}",
            "routing settings come from the center file; only "
            "handle_time, patience and callback_after_s may be given here",
        )
    handle, patience = _behaviour(raw, where, problem, config.expected_handle_s)
    if raw.get("callback_after_s") is not None:
        rule = OverflowRule(
            OverflowCondition.WAIT_EXCEEDS,
            OverflowAction.CALLBACK,
            float(raw["callback_after_s"]),
            config.id,
        )
        # The what-if option is tried first: it replaces nothing in the center file.
        config = replace(config, overflow=(rule, *config.overflow))
    return QueueSpec(config=config, handle_time=handle, patience=patience)


def _list(value: Any, where: str, problem: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        problem(where, "must be a list")
        return []
    return value


def _number(value: Any, where: str, problem: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problem(where, f"{value!r} is not a number")
        return 1.0
    if value < 0 or (positive and value == 0):
        problem(where, "must be positive" if positive else "must not be negative")
        return 1.0
    return float(value)
