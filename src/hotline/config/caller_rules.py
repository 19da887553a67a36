"""Caller recognition: the calling number (and its customer) decides how a call is routed.

Chinese service centers know many of their callers before anyone answers: the CRM says the
number belongs to a VIP (会员等级), to a customer with an open complaint, or to a customer
whose repair ticket an agent already owns; and every center keeps a list of nuisance numbers
(骚扰电话) that tie up agents. The center file's ``caller_rules`` section says what each of
those means for routing, and :func:`route_caller` applies it to one call:

- a **nuisance number** is blocked (refused before it reaches the IVR) or sent to a recording
  and released, never queued;
- a **VIP level** at or above a rule's ``min_level`` raises the call's priority, or sends it
  to the VIP queue (the highest matching rule wins);
- **open complaints** raise the priority (a complaint caller calling again is the one a
  center most needs to answer quickly);
- a caller whose newest open ticket has an owner is **sticky**: the owner alone is offered
  the call for ``prefer_for_s`` seconds, then anyone eligible (the routing engine's
  ``preferred_agent`` with fallback, :class:`hotline.routing.model.ContactQueued`).

Pure: no I/O. The facts (:class:`CallerFacts`) are looked up by the voice server from the CRM
and the tickets (``hotline.desk.customers.screen_pop``); number normalisation is the CRM's
and is passed in, so the same number written two ways is the same number here.

>>> rules = CallerRules.model_validate({"vip": [{"min_level": 2, "priority": 50}],
...     "nuisance": [{"number": "13900000001"}]})
>>> route_caller(rules, CallerFacts(number="13800000000", vip_level=3), queue="general",
...     priority=0).priority
50
>>> route_caller(rules, CallerFacts(number="139 0000 0001"), queue="general",
...     priority=0).action
'block'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: A telephone number as written in the center file: digits, optionally a leading ``+``,
#: spaces or dashes between groups.
NUMBER_PATTERN = r"^\+?[0-9][0-9 -]{2,30}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NuisanceNumber(_Strict):
    """A number whose calls never reach an agent."""

    number: str = Field(pattern=NUMBER_PATTERN)
    action: Literal["block", "recording"] = Field(
        default="block",
        description="block: refuse the call (SIP 403) before the IVR; recording: play "
        "``prompt`` and hang up",
    )
    prompt: str = Field(default="nuisance_notice", pattern=r"^[a-z0-9_]{1,64}$")
    note: str = ""


class VipRule(_Strict):
    """Callers of this VIP level or above get ``priority`` and/or go to ``queue``."""

    min_level: int = Field(ge=1, le=9)
    priority: int | None = Field(default=None, ge=0, le=100)
    queue: str | None = None


class ComplaintRule(_Strict):
    """Callers with at least ``min_open`` open complaints get ``priority``."""

    min_open: int = Field(default=1, ge=1, le=100)
    priority: int = Field(ge=0, le=100)


class StickyRule(_Strict):
    """Offer a caller with an open ticket to the ticket's owner first, for a while."""

    prefer_for_s: float = Field(gt=0, le=3600)
    ticket_types: list[Literal["inquiry", "installation", "repair", "complaint", "suggestion"]] = (
        Field(default_factory=list, description="empty: any open ticket")
    )


class CallerRules(_Strict):
    """The center file's ``caller_rules`` section.

    ``queues``: the queues the VIP, complaint and sticky rules apply to (empty: every queue
    a call enters); nuisance numbers are refused whatever the queue.
    """

    nuisance: list[NuisanceNumber] = Field(default_factory=list)
    vip: list[VipRule] = Field(default_factory=list)
    complaints: ComplaintRule | None = None
    sticky: StickyRule | None = None
    queues: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OpenTicket:
    """One open ticket of the caller, as far as routing cares."""

    type: str
    owner: str | None


@dataclass(frozen=True, slots=True)
class CallerFacts:
    """What is known about a caller: the number, the highest VIP level and open tickets.

    ``open_tickets`` come newest first (the screen pop's order).
    """

    number: str | None
    vip_level: int = 0
    open_tickets: tuple[OpenTicket, ...] = ()

    @property
    def open_complaints(self) -> int:
        """How many of the open tickets are complaints."""
        return sum(1 for t in self.open_tickets if t.type == "complaint")


@dataclass(frozen=True, slots=True)
class CallerRouting:
    """What the rules decided for one call.

    ``action``: ``route`` (queue it in ``queue`` with ``priority``, offered first to
    ``preferred_agent`` for ``preferred_for_s``), ``block`` or ``recording`` (play
    ``prompt``, hang up). ``reasons`` name the rules that applied, for the event log.
    """

    action: Literal["route", "block", "recording"]
    queue: str
    priority: int
    preferred_agent: str | None = None
    preferred_for_s: float = 0.0
    prompt: str | None = None
    reasons: tuple[str, ...] = ()


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def nuisance_entry(
    rules: CallerRules, number: str | None, normalize: Callable[[str], str | None] = _digits
) -> NuisanceNumber | None:
    """The nuisance entry ``number`` matches, if any (both sides normalised alike).

    >>> rules = CallerRules.model_validate({"nuisance": [{"number": "+86 139-0000-0001"}]})
    >>> nuisance_entry(rules, "8613900000001").number
    '+86 139-0000-0001'
    """
    if number is None or not rules.nuisance:
        return None
    calling = normalize(number)
    if calling is None:
        return None
    for entry in rules.nuisance:
        if normalize(entry.number) == calling:
            return entry
    return None


def route_caller(
    rules: CallerRules,
    facts: CallerFacts,
    *,
    queue: str,
    priority: int,
    normalize: Callable[[str], str | None] = _digits,
    agents: frozenset[str] | None = None,
) -> CallerRouting:
    """Apply the caller rules to a call about to enter ``queue`` with ``priority``.

    ``agents``: the agents the center has (a ticket owned by someone else — a back-office
    user — makes no preference); ``None`` accepts any owner.

    >>> rules = CallerRules.model_validate({"sticky": {"prefer_for_s": 45}})
    >>> routed = route_caller(rules, CallerFacts("1", open_tickets=(OpenTicket("repair", "a7"),)),
    ...     queue="repair", priority=0)
    >>> routed.preferred_agent, routed.preferred_for_s, routed.reasons
    ('a7', 45.0, ('sticky:a7',))
    """
    nuisance = nuisance_entry(rules, facts.number, normalize)
    if nuisance is not None:
        if nuisance.action == "block":
            return CallerRouting("block", queue, priority, reasons=("nuisance:block",))
        return CallerRouting(
            "recording", queue, priority, prompt=nuisance.prompt, reasons=("nuisance:recording",)
        )
    if rules.queues and queue not in rules.queues:
        return CallerRouting("route", queue, priority)
    reasons: list[str] = []
    vip = max(
        (r for r in rules.vip if facts.vip_level >= r.min_level),
        key=lambda r: r.min_level,
        default=None,
    )
    if vip is not None:
        reasons.append(f"vip:{facts.vip_level}")
        if vip.priority is not None:
            priority = max(priority, vip.priority)
        if vip.queue is not None:
            queue = vip.queue
    complaints = rules.complaints
    if complaints is not None and facts.open_complaints >= complaints.min_open:
        reasons.append(f"complaints:{facts.open_complaints}")
        priority = max(priority, complaints.priority)
    preferred: str | None = None
    preferred_for_s = 0.0
    sticky = rules.sticky
    if sticky is not None:
        for ticket in facts.open_tickets:
            if sticky.ticket_types and ticket.type not in sticky.ticket_types:
                continue
            if ticket.owner is not None and (agents is None or ticket.owner in agents):
                preferred, preferred_for_s = ticket.owner, sticky.prefer_for_s
                reasons.append(f"sticky:{ticket.owner}")
            break
    return CallerRouting(
        "route",
        queue,
        priority,
        preferred_agent=preferred,
        preferred_for_s=preferred_for_s,
        reasons=tuple(reasons),
    )
