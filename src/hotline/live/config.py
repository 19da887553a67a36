"""Turn a center configuration (the YAML file) into the routing engine's configuration.

The center file speaks in the administrator's terms (weekday opening hours, ``strategy:
longest_idle``, overflow rules as plain records); the engine wants its own immutable
:class:`~hotline.routing.model.RoutingConfig`. This converter is the live driver's own until
the routing domain publishes one in ``routing/service.py``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hotline.config.center import Calendar, CenterConfig, parse_hours
from hotline.core.events import Channel
from hotline.routing.model import (
    DEFAULT_CAPACITY,
    AgeingStep,
    AgentConfig,
    BusinessCalendar,
    OverflowAction,
    OverflowCondition,
    OverflowRule,
    PriorityMode,
    QueueConfig,
    RoutingConfig,
    RoutingError,
    Strategy,
)


def business_calendar(calendar: Calendar, default_timezone: str) -> BusinessCalendar:
    """The engine's calendar for one configured calendar, in its (or the center's) time zone.

    >>> from hotline.config.center import WeeklyHours
    >>> cal = business_calendar(
    ...     Calendar(id="c", hours=WeeklyHours(mon=["08:00-20:00"])), "Asia/Shanghai")
    >>> cal.weekly[0]
    ((480, 1200),)
    """
    weekly = {
        day: tuple((r.start_minute, r.end_minute) for r in calendar.hours.periods(day))
        for day in range(7)
    }
    holidays = {
        holiday.date: tuple(
            (r.start_minute, r.end_minute) for r in (parse_hours(p) for p in holiday.hours)
        )
        for holiday in calendar.holidays
    }
    return BusinessCalendar(
        weekly=weekly,
        holidays=holidays,
        tz=ZoneInfo(calendar.timezone or default_timezone),
    )


def routing_config(
    center: CenterConfig,
    *,
    honour_hours: bool = True,
    seed: int = 0,
    warnings: list[str] | None = None,
) -> RoutingConfig:
    """Build the engine's configuration from the center file.

    ``honour_hours=False`` leaves the queues' calendars out, so a demo shows traffic at any
    hour of the day (a real center keeps them: outside hours the ``closed`` rules apply).

    The engine refuses an ageing step that would narrow the set of agents (each ring must
    accept everyone the previous one did). Given a ``warnings`` list, such steps are left out
    and each one is named there, so a server still starts and says what it ignored; without
    one, the :class:`~hotline.routing.model.RoutingError` is raised.

    >>> from pathlib import Path
    >>> from hotline.config.validate import load_center
    >>> sample = Path(__file__).parent.parent / "config/samples/appliance_center.yaml"
    >>> notes: list[str] = []
    >>> config = routing_config(load_center(sample), warnings=notes)
    >>> [q.id for q in config.queues][:2], len(config.agents)
    (['vip', 'installation'], 40)
    """
    calendars = {c.id: business_calendar(c, center.center.timezone) for c in center.calendars}
    queues: list[QueueConfig] = []
    for queue in center.queues:
        calendar_id = queue.calendar or center.center.default_calendar
        head_start = queue.priority_head_start_s > 0
        steps = tuple(
            AgeingStep(
                after_s=step.after_s,
                min_proficiency=step.min_proficiency,
                requirements=None if step.requirements is None else tuple(step.requirements),
            )
            for step in queue.ageing
        )
        steps = _widening_steps(queue.id, tuple(queue.requirements), steps, warnings)
        queues.append(
            QueueConfig(
                id=queue.id,
                channel=Channel(queue.channel),
                requirements=tuple(queue.requirements),
                strategy=Strategy(queue.strategy),
                priority_mode=PriorityMode.HEAD_START if head_start else PriorityMode.STRICT,
                head_start_s=queue.priority_head_start_s,
                default_priority=queue.priority,
                target_service_level=queue.target.service_level,
                target_threshold_s=queue.target.threshold_s,
                wrap_up_s=queue.wrap_up_s,
                ring_timeout_s=queue.ring_timeout_s,
                ageing=steps,
                overflow=tuple(
                    OverflowRule(
                        when=OverflowCondition(rule.when),
                        action=OverflowAction(rule.action),
                        value=rule.value,
                        target=rule.target,
                    )
                    for rule in queue.overflow
                ),
                calendar=(calendars.get(calendar_id) if honour_hours and calendar_id else None),
                announce_every_s=queue.announce_every_s,
            )
        )
    capacity = dict(DEFAULT_CAPACITY)
    for channel in center.channels:
        capacity[Channel(channel.id)] = channel.capacity if channel.enabled else 0
    agents = tuple(
        AgentConfig(
            id=agent.id,
            skills=dict(agent.skills),
            languages=frozenset(agent.languages),
            capacity={Channel(k): v for k, v in agent.capacity.items()},
            wrap_up_s=agent.wrap_up_s,
            name=agent.name,
        )
        for agent in center.agents
    )
    return RoutingConfig(queues=tuple(queues), agents=agents, default_capacity=capacity, seed=seed)


def _widening_steps(
    queue_id: str,
    requirements: tuple[str, ...],
    steps: tuple[AgeingStep, ...],
    warnings: list[str] | None,
) -> tuple[AgeingStep, ...]:
    """Keep the ageing steps the engine accepts, in order; name the others in ``warnings``."""
    if warnings is None:
        return steps
    kept: list[AgeingStep] = []
    for step in steps:
        try:
            QueueConfig(queue_id, requirements=requirements, ageing=(*kept, step))
        except RoutingError as error:
            warnings.append(f"ageing step ignored: {error}")
            continue
        kept.append(step)
    return tuple(kept)
