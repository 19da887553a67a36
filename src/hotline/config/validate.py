"""Load and check a center configuration file, reporting every problem with its line.

Checking happens in three passes, and all problems are collected before reporting:

1. YAML syntax and duplicate keys (PyYAML silently keeps the last duplicate; we don't).
2. Field shapes and ranges (pydantic), each error mapped back to the line it came from.
3. Rules across records: unknown skills, teams, sites, calendars and queues; duplicate ids;
   overflow loops; ageing steps out of order; queues no agent can serve.

>>> result = check_text("center: {name: Demo}", file="demo.yaml")
>>> result.ok, result.config.center.name
(True, 'Demo')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import ValidationError

from hotline.config.center import CenterConfig
from hotline.config.evaluation import phrase_key
from hotline.config.flow import HoursNode, QueueNode
from hotline.config.trunks import trunk_problems
from hotline.core.documents import DocumentRefused, compose_yaml, construct_yaml
from hotline.core.errors import Problem, ValidationFailed
from hotline.core.requirements import (
    LanguageTerm,
    matches_all,
    parse_requirement,
    parse_requirements,
)

Path_ = tuple[str | int, ...]


@dataclass
class CheckResult:
    """The outcome of checking a configuration: the config if it is valid, and all problems."""

    config: CenterConfig | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings are allowed)."""
        return self.config is not None and not self.errors


class _LineMap:
    """Maps a path inside the YAML document (keys and list indexes) to its 1-based line."""

    def __init__(self) -> None:
        self.lines: dict[Path_, int] = {}
        self.duplicates: list[tuple[Path_, str, int]] = []

    def walk(self, node: yaml.Node, path: Path_ = ()) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in seen:
                    self.duplicates.append((path, key, key_node.start_mark.line + 1))
                seen.add(key)
                self.lines[(*path, key)] = key_node.start_mark.line + 1
                self.walk(value_node, (*path, key))
                self.lines[(*path, key)] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, (*path, index))

    def line(self, path: Iterable[str | int]) -> int | None:
        """Return the line of ``path``, or of its nearest ancestor that has one."""
        parts = tuple(path)
        while parts:
            if parts in self.lines:
                return self.lines[parts]
            parts = parts[:-1]
        return self.lines.get(())


def _dotted(path: Iterable[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def check_text(text: str, *, file: str = "<config>") -> CheckResult:
    """Check configuration ``text``; ``file`` names it in every problem."""
    try:
        # Bounded: a small document must not expand (aliases) or nest without limit.
        node = compose_yaml(text, source=file)
        data = construct_yaml(node)
    except DocumentRefused as refused:
        return CheckResult(None, list(refused.problems))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        return CheckResult(None, [Problem(f"YAML syntax: {error.problem}", file, line)])
    if node is None or not isinstance(data, dict):
        return CheckResult(
            None, [Problem("the file must be a mapping with a 'center:' section", file, 1)]
        )
    lines = _LineMap()
    lines.walk(node)
    errors = [
        Problem(f"key {key!r} appears more than once here", file, line, _dotted(path) or None)
        for path, key, line in lines.duplicates
    ]
    try:
        config = CenterConfig.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            loc = tuple(item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = "unknown field (check the spelling)"
                if len(loc) >= 2 and loc[-2] == "hours":
                    message = f"unknown weekday {loc[-1]!r}; use mon, tue, wed, thu, fri, sat, sun"
            errors.append(Problem(message, file, lines.line(loc), _dotted(loc)))
        return CheckResult(None, errors)
    cross_errors, warnings = _cross_checks(config, file, lines)
    errors.extend(cross_errors)
    return CheckResult(config if not errors else None, errors, warnings)


def check_file(path: str | Path) -> CheckResult:
    """Read and check the configuration file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return CheckResult(None, [Problem("file not found", str(path))])
    except UnicodeDecodeError as error:
        return CheckResult(None, [Problem(f"not UTF-8 text ({error.reason})", str(path))])
    return check_text(text, file=str(path))


def load_center(path: str | Path) -> CenterConfig:
    """Return the checked config at ``path``; raise ``ValidationFailed`` with all problems."""
    result = check_file(path)
    if not result.ok or result.config is None:
        raise ValidationFailed(result.errors)
    return result.config


def _cross_checks(
    config: CenterConfig, file: str, lines: _LineMap
) -> tuple[list[Problem], list[Problem]]:
    errors: list[Problem] = []
    warnings: list[Problem] = []

    def error(path: Path_, rule: str) -> None:
        errors.append(Problem(rule, file, lines.line(path), _dotted(path)))

    def warn(path: Path_, rule: str) -> None:
        warnings.append(Problem(rule, file, lines.line(path), _dotted(path)))

    def unique(section: str, ids: list[str], what: str) -> set[str]:
        seen: set[str] = set()
        for index, item_id in enumerate(ids):
            if item_id in seen:
                error((section, index, "id"), f"duplicate {what} {item_id!r}")
            seen.add(item_id)
        return seen

    sites = unique("sites", [s.id for s in config.sites], "site")
    calendars = unique("calendars", [c.id for c in config.calendars], "calendar")
    channels = unique("channels", [c.id for c in config.channels], "channel")
    skills = unique("skills", [s.id for s in config.skills], "skill")
    queues = unique("queues", [q.id for q in config.queues], "queue")
    teams = unique("teams", [t.id for t in config.teams], "team")
    agents = unique("agents", [a.id for a in config.agents], "agent")
    unique("reason_codes", [r.id for r in config.reason_codes], "reason code")
    unique("disposition_codes", [d.id for d in config.disposition_codes], "disposition code")

    def known(path: Path_, value: str | None, pool: set[str], what: str) -> None:
        if value is not None and value not in pool:
            choices = ", ".join(sorted(pool)) or "none defined"
            error(path, f"unknown {what} {value!r} (defined: {choices})")

    def timezone(path: Path_, name: str | None) -> None:
        if name is None:
            return
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            error(path, f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)")

    timezone(("center", "timezone"), config.center.timezone)
    known(("center", "default_calendar"), config.center.default_calendar, calendars, "calendar")
    region_owner: dict[str, str] = {}
    for i, site in enumerate(config.sites):
        timezone(("sites", i, "timezone"), site.timezone)
        known(("sites", i, "calendar"), site.calendar, calendars, "calendar")
        for j, prefix in enumerate(site.regions):
            owner = region_owner.setdefault(prefix, site.id)
            if owner != site.id:
                error(
                    ("sites", i, "regions", j),
                    f"region {prefix!r} is claimed by site {owner!r} and site {site.id!r}: "
                    "a calling-number prefix belongs to one site",
                )
            elif site.regions.index(prefix) != j:
                error(("sites", i, "regions", j), f"region {prefix!r} is listed twice")
    for i, calendar in enumerate(config.calendars):
        timezone(("calendars", i, "timezone"), calendar.timezone)
        seen_days: set[str] = set()
        for j, holiday in enumerate(calendar.holidays):
            if holiday.date.isoformat() in seen_days:
                error(
                    ("calendars", i, "holidays", j, "date"),
                    f"holiday {holiday.date} is listed twice",
                )
            seen_days.add(holiday.date.isoformat())
        if not any(calendar.hours.periods(day) for day in range(7)) and not calendar.holidays:
            warn(("calendars", i), f"calendar {calendar.id!r} has no opening hours: always closed")

    def requirement_skills(path: Path_, requirements: list[str]) -> None:
        for k, text in enumerate(requirements):
            term = parse_requirement(text)
            if isinstance(term, LanguageTerm):
                if term.language not in config.center.languages:
                    error(
                        (*path, k),
                        f"language {term.language!r} is not one of the center's: "
                        + ", ".join(sorted(config.center.languages)),
                    )
            else:
                known((*path, k), term.skill, skills, "skill")

    for i, queue in enumerate(config.queues):
        base: Path_ = ("queues", i)
        known((*base, "calendar"), queue.calendar, calendars, "calendar")
        known((*base, "site"), queue.site, sites, "site")
        if config.channels and queue.channel not in channels:
            error((*base, "channel"), f"channel {queue.channel!r} is not enabled in 'channels'")
        requirement_skills((*base, "requirements"), queue.requirements)
        previous = 0.0
        for j, step in enumerate(queue.ageing):
            if step.after_s <= previous:
                error(
                    (*base, "ageing", j, "after_s"), "ageing steps must come in increasing after_s"
                )
            previous = step.after_s
            if step.requirements is not None:
                requirement_skills((*base, "ageing", j, "requirements"), step.requirements)
            if step.min_proficiency is None and step.requirements is None:
                error(
                    (*base, "ageing", j), "an ageing step must set min_proficiency or requirements"
                )
        for j, rule in enumerate(queue.overflow):
            path = (*base, "overflow", j)
            if rule.when in ("wait_exceeds", "queue_length_exceeds") and rule.value is None:
                error(path, f"overflow rule '{rule.when}' needs a value")
            if (rule.action == "forward") != (rule.number is not None):
                error(path, "a forward rule needs a number, and only a forward rule has one")
            if rule.if_busy and rule.action != "forward":
                error((*path, "if_busy"), "only a forward rule has numbers to try if busy")
            if rule.action == "queue":
                if rule.target is None:
                    error(path, "overflow to a queue needs a target queue")
                elif rule.target == queue.id:
                    error((*path, "target"), "a queue cannot overflow into itself")
                else:
                    known((*path, "target"), rule.target, queues, "queue")
            if rule.site is not None:
                _check_overflow_site(config, (*path, "site"), rule.site, rule.target, error)
        if queue.prefer_caller_site_s > 0 and not region_owner:
            warn(
                (*base, "prefer_caller_site_s"),
                "no site lists regions: the caller's site is never known, so never preferred",
            )
        if queue.target.short_abandon_s > queue.target.threshold_s:
            error(
                (*base, "target", "short_abandon_s"),
                "short-abandon threshold must not exceed the answer threshold",
            )
        if queue.max_wait_s is not None and queue.max_wait_s < queue.target.threshold_s:
            warn(
                (*base, "max_wait_s"),
                "max_wait_s is below the service-level threshold, so waiters can never meet it",
            )

    for i, team in enumerate(config.teams):
        known(("teams", i, "site"), team.site, sites, "site")
        known(("teams", i, "lead"), team.lead, agents, "agent")
    team_of = {a.id: a.team for a in config.agents}
    for i, team in enumerate(config.teams):
        if team.lead in team_of and team_of[team.lead] != team.id:
            error(
                ("teams", i, "lead"),
                f"team lead {team.lead!r} belongs to team {team_of[team.lead]!r}",
            )
    site_of_team = {t.id: t.site for t in config.teams}
    languages = set(config.center.languages)
    for i, agent in enumerate(config.agents):
        base = ("agents", i)
        known((*base, "team"), agent.team, teams, "team")
        known((*base, "site"), agent.site, sites, "site")
        if config.sites and agent.site is None and site_of_team.get(agent.team) is None:
            warn((*base, "site"), "the center has sites: give the agent or its team one")
        for skill in agent.skills:
            known((*base, "skills", skill), skill, skills, "skill")
        for channel in agent.capacity:
            if config.channels and channel not in channels:
                error(
                    (*base, "capacity", channel),
                    f"channel {channel!r} is not enabled in 'channels'",
                )
        for k, language in enumerate(agent.languages):
            if language not in languages:
                error(
                    (*base, "languages", k),
                    f"language {language!r} is not one of the center's: "
                    + ", ".join(sorted(languages)),
                )

    for i, queue in enumerate(config.queues):
        terms = parse_requirements(queue.requirements)
        if config.agents and not any(
            matches_all(terms, agent.skills, frozenset(agent.languages)) for agent in config.agents
        ):
            warn(
                ("queues", i, "requirements"),
                f"no agent has the skills queue {queue.id!r} requires",
            )
    _check_overflow_loops(config, error)
    _check_ticket_categories(config, error)
    _check_service_providers(config, error)
    _check_ivr(config, error, known, queues, calendars)
    _check_quality(config, error, channels)
    _check_speech(config, error)
    _check_followup(config, error, known, calendars)
    _check_chat(config, error)
    _check_bot(config, error)
    _check_surveys(config, error)
    _check_sms_notices(config, error)
    _check_targets(config, error, known, {"queue": queues, "team": teams, "agent": agents})
    _check_caller_rules(config, error, warn, known, queues)
    # A forwarded number's if_busy numbers: one list per number, never the number itself.
    fallbacks: dict[str, list[str]] = {}
    for path, number, then in config.forward_rules():
        if number in then:
            error((*path, "if_busy"), f"number {number} cannot be its own if_busy number")
        elif then and fallbacks.setdefault(number, then) != then:
            error(
                (*path, "if_busy"),
                f"another forward rule for {number} tries {fallbacks[number]} if busy, not {then}",
            )
    for where, broken in trunk_problems(config.trunks, sites):
        error(where, broken)
    if config.crisis is not None:
        for i, queue_id in enumerate(config.crisis.close_queues):
            known(("crisis", "close_queues", i), queue_id, queues, "queue")
        if config.queues and set(config.crisis.close_queues) >= queues:
            error(("crisis", "close_queues"), "crisis mode cannot close every queue")
    return errors, warnings


def _check_caller_rules(
    config: CenterConfig, error: Any, warn: Any, known: Any, queues: set[str]
) -> None:
    """Caller rules name queues the center has, list a number once, grade VIP levels once;
    queues that announce the agent's job number have agents with one."""
    rules = config.caller_rules
    if rules is not None:
        base: Path_ = ("caller_rules",)
        seen: dict[str, int] = {}
        for i, entry in enumerate(rules.nuisance):
            digits = "".join(ch for ch in entry.number if ch.isdigit())
            if digits in seen:
                error(
                    (*base, "nuisance", i, "number"),
                    f"number {entry.number!r} is already listed as nuisance[{seen[digits]}]",
                )
            seen.setdefault(digits, i)
        levels: set[int] = set()
        for i, rule in enumerate(rules.vip):
            path = (*base, "vip", i)
            if rule.min_level in levels:
                error((*path, "min_level"), f"another VIP rule already starts at {rule.min_level}")
            levels.add(rule.min_level)
            if rule.priority is None and rule.queue is None:
                error(path, "a VIP rule must set a priority or a queue")
            known((*path, "queue"), rule.queue, queues, "queue")
        for i, queue_id in enumerate(rules.queues):
            known((*base, "queues", i), queue_id, queues, "queue")
    for i, queue in enumerate(config.queues):
        if not queue.announce_agent_number:
            continue
        terms = parse_requirements(queue.requirements)
        missing = [
            agent.id
            for agent in config.agents
            if agent.job_number is None
            and matches_all(terms, agent.skills, frozenset(agent.languages))
        ]
        if missing:
            warn(
                ("queues", i, "announce_agent_number"),
                f"agents without a job_number serve queue {queue.id!r}, so their callers hear "
                "no number: " + ", ".join(missing),
            )


def _check_targets(
    config: CenterConfig, error: Any, known: Any, pools: dict[str, set[str]]
) -> None:
    """Each target names a queue, team or agent the center has, and is set once."""
    if config.targets is None:
        return
    seen: set[tuple[str, str, str | None]] = set()
    for i, target in enumerate(config.targets.metrics):
        base: Path_ = ("targets", "metrics", i)
        if target.level != "center":
            known((*base, "id"), target.id, pools[target.level], target.level)
        key = (target.metric, target.level, target.id)
        if key in seen:
            where = f" {target.id}" if target.id else ""
            error(base, f"a second {target.metric} target for {target.level}{where}")
        seen.add(key)


def _check_chat(config: CenterConfig, error: Any) -> None:
    """The chat widget's queue is a queue of this center, of channel ``chat``; the queue its
    callbacks enter, one of channel ``voice`` or ``callback``."""
    if config.chat is None:
        return
    queue = next((q for q in config.queues if q.id == config.chat.queue), None)
    if queue is None:
        error(("chat", "queue"), f"queue {config.chat.queue!r} is not one of the center's queues")
    elif queue.channel != "chat":
        error(
            ("chat", "queue"),
            f"queue {queue.id!r} takes {queue.channel} contacts; the widget needs a chat queue",
        )
    callback_queue = config.chat.callback_queue
    if callback_queue is not None:
        called = next((q for q in config.queues if q.id == callback_queue), None)
        if called is None:
            error(
                ("chat", "callback_queue"),
                f"queue {callback_queue!r} is not one of the center's queues",
            )
        elif called.channel not in ("voice", "callback"):
            error(
                ("chat", "callback_queue"),
                f"queue {called.id!r} takes {called.channel} contacts; "
                "callbacks need a voice or callback queue",
            )


def _check_bot(config: CenterConfig, error: Any) -> None:
    """Each queue the bot talks first on is a chat queue of this center, named once."""
    if config.bot is None:
        return
    queues = {q.id: q for q in config.queues}
    seen: set[str] = set()
    for i, queue_id in enumerate(config.bot.queues):
        queue = queues.get(queue_id)
        if queue is None:
            error(("bot", "queues", i), f"queue {queue_id!r} is not one of the center's queues")
        elif queue.channel != "chat":
            error(
                ("bot", "queues", i),
                f"queue {queue_id!r} takes {queue.channel} contacts; the bot talks on chat queues",
            )
        elif queue_id in seen:
            error(("bot", "queues", i), f"queue {queue_id!r} is named twice")
        seen.add(queue_id)


def _check_surveys(config: CenterConfig, error: Any) -> None:
    """Surveys: unique survey and question ids, ``overall`` naming a CSAT question of its
    survey, ``default`` and ``send.survey`` naming a survey."""
    if config.surveys is None:
        return
    ids: set[str] = set()
    for i, definition in enumerate(config.surveys.definitions):
        base: Path_ = ("surveys", "definitions", i)
        if definition.id in ids:
            error((*base, "id"), f"duplicate survey {definition.id!r}")
        ids.add(definition.id)
        questions: dict[str, str] = {}
        for j, question in enumerate(definition.questions):
            if question.id in questions:
                error(
                    (*base, "questions", j, "id"),
                    f"duplicate question {question.id!r} in survey {definition.id!r} "
                    "(answers are keyed by question id)",
                )
            questions.setdefault(question.id, question.kind)
        if definition.overall is not None and questions.get(definition.overall) != "csat":
            csat = ", ".join(q for q, kind in questions.items() if kind == "csat") or "none"
            error(
                (*base, "overall"),
                f"overall must name a csat question of survey {definition.id!r} (csat: {csat})",
            )
    default = config.surveys.default
    if default is not None and default not in ids:
        error(
            ("surveys", "default"),
            f"unknown survey {default!r} (defined: {', '.join(sorted(ids))})",
        )
    send = config.surveys.send
    if send is not None and send.survey is not None and send.survey not in ids:
        error(
            ("surveys", "send", "survey"),
            f"unknown survey {send.survey!r} (defined: {', '.join(sorted(ids))})",
        )


def _check_sms_notices(config: CenterConfig, error: Any) -> None:
    """SMS notices: one rule per kind (two would text the customer twice)."""
    kinds: set[str] = set()
    for i, rule in enumerate(config.sms_notices):
        if rule.kind in kinds:
            error(("sms_notices", i, "kind"), f"a second {rule.kind} rule (one per kind)")
        kinds.add(rule.kind)


def _check_ivr(
    config: CenterConfig, error: Any, known: Any, queues: set[str], calendars: set[str]
) -> None:
    """IVR flows: unique ids, numbers naming a flow, queues and calendars that exist."""
    if config.ivr is None:
        return
    flow_ids: set[str] = set()
    voice_queues = {q.id for q in config.queues if q.channel == "voice"}
    for i, flow in enumerate(config.ivr.flows):
        base: Path_ = ("ivr", "flows", i)
        if flow.id in flow_ids:
            error((*base, "id"), f"duplicate IVR flow {flow.id!r}")
        flow_ids.add(flow.id)
        for name, node in flow.nodes.items():
            if isinstance(node, QueueNode):
                known((*base, "nodes", name, "queue"), node.queue, queues, "queue")
                if node.queue in queues and node.queue not in voice_queues:
                    error(
                        (*base, "nodes", name, "queue"),
                        f"queue {node.queue!r} is not a voice queue (callers cannot wait in it)",
                    )
            elif isinstance(node, HoursNode):
                known((*base, "nodes", name, "calendar"), node.calendar, calendars, "calendar")
    for number, flow_id in config.ivr.numbers.items():
        known(("ivr", "numbers", number), flow_id, flow_ids, "IVR flow")


def _check_service_providers(config: CenterConfig, error: Any) -> None:
    """Provider codes unique, a sign-in name on one provider's staff only, known categories."""
    codes: set[str] = set()
    staff: dict[str, str] = {}
    categories = {c.id for s in config.ticket_categories for c in s.categories}
    for i, provider in enumerate(config.service_providers):
        base: Path_ = ("service_providers", i)
        if provider.code in codes:
            error((*base, "code"), f"duplicate service provider {provider.code!r}")
        codes.add(provider.code)
        for j, username in enumerate(provider.staff):
            if username in staff and staff[username] != provider.code:
                error(
                    (*base, "staff", j),
                    f"{username!r} is already staff of provider {staff[username]!r}; "
                    "a provider's user works for one provider only",
                )
            staff.setdefault(username, provider.code)
        for j, category in enumerate(provider.categories):
            if categories and category not in categories:
                error(
                    (*base, "categories", j),
                    f"unknown ticket category {category!r} (configured: "
                    f"{', '.join(sorted(categories))})",
                )


def _check_quality(config: CenterConfig, error: Any, channels: set[str]) -> None:
    """Evaluation forms: one row per (id, version), ids unique inside a form, fatal questions
    pass/fail, channels enabled."""
    if config.quality is None:
        return
    versions: set[tuple[str, int]] = set()
    for i, form in enumerate(config.quality.forms):
        base: Path_ = ("quality", "forms", i)
        if (form.id, form.version) in versions:
            error((*base, "version"), f"form {form.id!r} version {form.version} is defined twice")
        versions.add((form.id, form.version))
        for k, channel in enumerate(form.channels):
            if config.channels and channel not in channels:
                error((*base, "channels", k), f"channel {channel!r} is not enabled in 'channels'")
        section_ids: set[str] = set()
        question_ids: set[str] = set()
        for j, section in enumerate(form.sections):
            where: Path_ = (*base, "sections", j)
            if section.id in section_ids:
                error((*where, "id"), f"duplicate section {section.id!r} in form {form.id!r}")
            section_ids.add(section.id)
            for k, question in enumerate(section.questions):
                spot: Path_ = (*where, "questions", k)
                if question.id in question_ids:
                    error(
                        (*spot, "id"),
                        f"duplicate question {question.id!r} in form {form.id!r} "
                        "(answers are keyed by question id, so ids are unique across sections)",
                    )
                question_ids.add(question.id)
                if question.fatal != "none" and question.points != 1:
                    error(
                        (*spot, "points"),
                        f"fatal question {question.id!r} must be pass/fail (points: 1), "
                        f"not a 0-{question.points} rating",
                    )


def _check_speech(config: CenterConfig, error: Any) -> None:
    """Speech checks: every phrase has something to match once spaces and punctuation go,
    and a job-number check needs the agents' job numbers."""
    if config.quality is None:
        return
    speech = config.quality.speech
    for item in ("greeting", "closing", "recording_notice", "forbidden"):
        for k, phrase in enumerate(getattr(speech, item)):
            if not phrase_key(phrase):
                error(
                    ("quality", "speech", item, k),
                    f"phrase {phrase!r} has nothing to match (only spaces or punctuation)",
                )
            elif len(phrase) > 100:
                error(("quality", "speech", item, k), "a phrase is at most 100 characters")
    if speech.job_number and not any(agent.job_number for agent in config.agents):
        error(
            ("quality", "speech", "job_number"),
            "the job-number check is on but no agent has a job_number",
        )


def _check_followup(config: CenterConfig, error: Any, known: Any, calendars: set[str]) -> None:
    """Follow-up work: unique script, rule and escalation ids; rules naming a script and
    ticket categories the center has; no warranty or parts filter on complaints."""
    if config.followup is None:
        return
    followup = config.followup
    if followup.calendar is not None:
        known(("followup", "calendar"), followup.calendar, calendars, "calendar")
    scripts: set[str] = set()
    for i, script in enumerate(followup.scripts):
        if script.id in scripts:
            error(("followup", "scripts", i, "id"), f"duplicate follow-up script {script.id!r}")
        scripts.add(script.id)
        if len(set(script.questions)) != len(script.questions):
            error(("followup", "scripts", i, "questions"), "a script asks each question once")
    categories = {
        section.type: {c.id for c in section.categories} for section in config.ticket_categories
    }
    rules: set[str] = set()
    for i, rule in enumerate(followup.rules):
        base: Path_ = ("followup", "rules", i)
        if rule.id in rules:
            error((*base, "id"), f"duplicate follow-up rule {rule.id!r}")
        rules.add(rule.id)
        if rule.script not in scripts:
            error(
                (*base, "script"),
                f"unknown follow-up script {rule.script!r} (defined: {', '.join(sorted(scripts))})",
            )
        known_categories = categories.get(rule.type)
        for j, category in enumerate(rule.categories):
            if known_categories and category not in known_categories:
                error(
                    (*base, "categories", j),
                    f"unknown {rule.type} category {category!r} (configured: "
                    f"{', '.join(sorted(known_categories))})",
                )
        if rule.type == "complaint" and (rule.warranty is not None or rule.parts is not None):
            error(base, "a complaint has no warranty or replaced parts: leave them out")
    stages: set[str] = set()
    for i, escalation in enumerate(followup.escalations):
        if escalation.id in stages:
            error(("followup", "escalations", i, "id"), f"duplicate escalation {escalation.id!r}")
        stages.add(escalation.id)


def _check_ticket_categories(config: CenterConfig, error: Any) -> None:
    """Ticket types listed once, categories and field names unique, choices where needed."""
    types: set[str] = set()
    for i, section in enumerate(config.ticket_categories):
        base: Path_ = ("ticket_categories", i)
        if section.type in types:
            error((*base, "type"), f"ticket type {section.type!r} is listed twice")
        types.add(section.type)
        category_ids: set[str] = set()
        for j, category in enumerate(section.categories):
            where: Path_ = (*base, "categories", j)
            if category.id in category_ids:
                error((*where, "id"), f"duplicate {section.type} category {category.id!r}")
            category_ids.add(category.id)
            names: set[str] = set()
            for k, custom in enumerate(category.fields):
                spot: Path_ = (*where, "fields", k)
                if custom.name in names:
                    error((*spot, "name"), f"field {custom.name!r} is defined twice here")
                names.add(custom.name)
                if custom.type == "choice":
                    if not custom.choices:
                        error(spot, f"choice field {custom.name!r} needs a list of choices")
                    elif len(set(custom.choices)) != len(custom.choices):
                        error((*spot, "choices"), f"field {custom.name!r} repeats a choice")
                elif custom.choices:
                    error(
                        (*spot, "choices"),
                        f"only choice fields have choices ({custom.name!r} is {custom.type})",
                    )


def _check_overflow_site(
    config: CenterConfig, path: Path_, site: str, target: str | None, error: Any
) -> None:
    """An overflow rule that names a site: a queue overflow whose target belongs to it."""
    sites = {s.id for s in config.sites}
    if site not in sites:
        choices = ", ".join(sorted(sites)) or "none defined"
        error(path, f"unknown site {site!r} (defined: {choices})")
        return
    queue_site = config.queue_sites()
    if target is None or not any(q.id == target for q in config.queues):
        error(path, "only an overflow to a queue names the site it goes to")
    elif queue_site.get(target) != site:
        where = queue_site.get(target)
        belongs = f"belongs to site {where!r}" if where else "names no site"
        error(path, f"overflow target queue {target!r} {belongs}, not {site!r}")


def _check_overflow_loops(config: CenterConfig, error: Any) -> None:
    """Refuse overflow chains that come back to where they started (A → B → A), on waiting
    time or for want of a free agent (a caller would be passed round until the hop limit)."""
    for when, what in (
        ("wait_exceeds", "on waiting time"),
        ("no_agent_free", "when no agent is free"),
    ):
        _check_overflow_loop(config, error, when, what)


def _check_overflow_loop(config: CenterConfig, error: Any, when: str, what: str) -> None:
    edges = {
        q.id: [r.target for r in q.overflow if r.action == "queue" and r.target and r.when == when]
        for q in config.queues
    }
    for i, queue in enumerate(config.queues):
        stack, seen = list(edges.get(queue.id, [])), set()
        while stack:
            current = stack.pop()
            if current == queue.id:
                error(("queues", i, "overflow"), f"overflow {what} loops back to {queue.id!r}")
                break
            if current in seen:
                continue
            seen.add(current)
            stack.extend(edges.get(current, []))
