"""The routing engine's configuration, translated from the center file.

The center file (:mod:`hotline.config.center`) speaks the administrator's language — weekday
opening hours in a named time zone, ``strategy: longest_idle``, overflow rules as records;
the pure engine wants immutable :class:`~hotline.routing.model.RoutingConfig` values and a
ready-made time zone object. This module does that translation (it may read the time-zone
database; the engine never does). Routing keeps no records, so it has no ``service`` module
(in Hotline that name means a domain's persistence-facing service): other domains reach
routing through this module, its public face (the import contracts hold them to it).

Mapping, field by field:

* ``queue.priority`` becomes the queue's default contact priority; with
  ``priority_head_start_s > 0`` the queue orders by head start (each priority level credits that
  many seconds of waiting), otherwise by strict priority classes.
* ``queue.calendar`` (else its site's calendar, else the center's ``default_calendar``:
  :meth:`~hotline.config.center.CenterConfig.queue_calendar`) becomes the one business-hours
  value, :class:`~hotline.core.calendar.BusinessCalendar`, in the calendar's (or center's)
  time zone, holidays included; the engine asks it ``is_open`` with its own clock.
* ``queue.ageing`` steps keep their meaning: ``min_proficiency`` relaxes the rings so far,
  ``requirements`` adds a group of agents (bullseye rings only grow).
* ``channels`` give the default capacity per channel (a disabled channel has capacity 0);
  an agent's own ``capacity`` overrides it.
* Sites: each agent's site (its own, else its team's), each queue's
  ``prefer_caller_site_s`` and the sites' ``regions`` (number prefix → site) go to the
  engine, which prefers the site of a caller's region for that long.
"""

from __future__ import annotations

from hotline.config.center import Calendar, CenterConfig
from hotline.core.calendar import BusinessCalendar
from hotline.core.events import Channel
from hotline.routing.model import (
    DEFAULT_CAPACITY,
    AgeingStep,
    AgentConfig,
    OverflowAction,
    OverflowCondition,
    OverflowRule,
    PriorityMode,
    QueueConfig,
    RoutingConfig,
    SkillTerm,
    Strategy,
    matches_all,
    parse_requirements,
)

# Besides its own functions, what other domains use of routing's vocabulary (WFM's multi-skill
# staffing plans over agents and queues and matches their skills) is exported from here.
__all__ = [
    "AgentConfig",
    "QueueConfig",
    "SkillTerm",
    "business_calendar",
    "matches_all",
    "parse_requirements",
    "routing_config_from_center",
]


def business_calendar(calendar: Calendar, default_timezone: str) -> BusinessCalendar:
    """The calendar a queue asks ``is_open``: the configured one, in its (or the center's) zone.

    >>> from hotline.config.center import WeeklyHours
    >>> cal = business_calendar(
    ...     Calendar(id="c", hours=WeeklyHours(mon=["08:00-20:00"])), "Asia/Shanghai")
    >>> cal.weekly[0], cal.weekly[6], cal.time_zone
    (((28800, 72000),), (), 'Asia/Shanghai')
    """
    return calendar.business_calendar(default_timezone)


def routing_config_from_center(
    center: CenterConfig, *, honour_hours: bool = True, seed: int = 0
) -> RoutingConfig:
    """Build the routing engine's configuration from a checked center configuration.

    ``honour_hours=False`` leaves calendars out (a demo that shows traffic at any hour).
    Raises :class:`~hotline.routing.model.RoutingError` for what the engine refuses.

    >>> from pathlib import Path
    >>> from hotline.config.validate import load_center
    >>> sample = Path(__file__).parent.parent / "config/samples/appliance_center.yaml"
    >>> config = routing_config_from_center(load_center(sample))
    >>> [q.id for q in config.queues][:3], len(config.agents)
    (['vip', 'installation', 'repair'], 40)
    """
    calendars = {c.id: business_calendar(c, center.center.timezone) for c in center.calendars}
    queues = []
    for queue in center.queues:
        calendar_id = center.queue_calendar(queue)
        head_start = queue.priority_head_start_s > 0
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
                outbound_reserve=queue.outbound_reserve,
                ageing=tuple(
                    AgeingStep(
                        after_s=step.after_s,
                        min_proficiency=step.min_proficiency,
                        requirements=None
                        if step.requirements is None
                        else tuple(step.requirements),
                    )
                    for step in queue.ageing
                ),
                overflow=tuple(
                    OverflowRule(
                        when=OverflowCondition(rule.when),
                        action=OverflowAction(rule.action),
                        value=rule.value,
                        target=rule.target,
                        number=rule.number,
                    )
                    for rule in queue.overflow
                ),
                calendar=calendars.get(calendar_id) if honour_hours and calendar_id else None,
                announce_every_s=queue.announce_every_s,
                prefer_caller_site_s=queue.prefer_caller_site_s,
            )
        )
    capacity = dict(DEFAULT_CAPACITY)
    for channel in center.channels:
        capacity[Channel(channel.id)] = channel.capacity if channel.enabled else 0
    sites = center.agent_sites()
    agents = tuple(
        AgentConfig(
            id=agent.id,
            skills=dict(agent.skills),
            languages=frozenset(agent.languages),
            capacity={Channel(k): v for k, v in agent.capacity.items()},
            wrap_up_s=agent.wrap_up_s,
            name=agent.name,
            site=sites.get(agent.id),
        )
        for agent in center.agents
    )
    return RoutingConfig(
        queues=tuple(queues),
        agents=agents,
        default_capacity=capacity,
        seed=seed,
        regions=center.region_sites(),
    )


def _maybe_tuple(items: list[str] | None) -> tuple[str, ...] | None:
    return None if items is None else tuple(items)
