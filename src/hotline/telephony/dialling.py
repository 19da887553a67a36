"""The live dialler's book of one campaign day, as a pure state machine.

A progressive or predictive campaign dials its customers first: the dialler places customer
legs through the trunk, and only a customer who answers is connected to one of the
campaign's free agents. This module keeps what the dialler knows about that — which calls
ring, which answered calls wait for an agent (at most 2 s), which agents are free, talking,
leaving or away, today's answers and abandons — and decides what follows from each event.
The voice server's adapter (:mod:`hotline.telephony.dialler`) places the calls, runs the
timers and carries out the effects; nothing here does I/O or reads a clock.

The decisions are those of :mod:`hotline.pacing`, whose guarantee (abandoned ≤ 3 % of the
day's live answers, at every instant) holds only if the dialler keeps three rules; this book
keeps two of them by construction and gives the third to the adapter:

1. *no more calls than the pacer says*: the adapter asks ``pacer.calls_to_place(book.state(now))``
   and feeds one :class:`CallPlaced` per call (the book refuses a call beyond
   :func:`~hotline.pacing.budget.calls_allowed`, so a pacer that overshoots is caught);
2. *an answered call goes to a free agent at once*, else waits; a call still waiting when
   :data:`~hotline.pacing.state.ABANDON_AFTER_S` has passed (:class:`WaitExpired`, the
   adapter's timer) is abandoned: :class:`~hotline.pacing.state.PlaySafeMessage`;
3. *a free agent's not-ready is deferred* (:class:`AgentLeaving`) until
   :func:`~hotline.pacing.budget.releases` allows it (:class:`~hotline.pacing.state.ReleaseAgent`);
   until then the agent still takes the campaign's answered calls. A talking agent who asks
   leaves after the call without asking the budget (busy agents were never counted as free).

The cap counts per campaign day: at the campaign's midnight (:class:`DayTurned`) the book
counts the new day's answers once the calls placed before it no longer ring or wait.

Which free agent takes an answered call is the routing engine's choice (``choose``, the
campaign queue's skill and proficiency rules:
:meth:`~hotline.routing.engine.RoutingEngine.choose_held`), given the free agents in the order
they came free; without one, or for an answer outside them, the one free longest takes it.

>>> book = DiallerBook(campaign_id=1)
>>> book, _ = transition(book, AgentFree(at=0.0, agent_id="a1"))
>>> book, _ = transition(book, CallPlaced(at=0.0, call_id="c1"))
>>> book, effects = transition(book, CallAnswered(at=9.0, call_id="c1"))
>>> [type(e).__name__ for e in effects], effects[1]
(['Report', 'Connect', 'Report'], Connect(call_id='c1', agent_id='a1'))
>>> book.state(9.0).talking_agents, book.state(9.0).answered_today
(1, 1)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from hotline.pacing.budget import calls_allowed, releases
from hotline.pacing.state import (
    ABANDON_AFTER_S,
    AbandonCap,
    CallResult,
    DialerState,
    Outcome,
    PlaySafeMessage,
    ReleaseAgent,
)


@dataclass(frozen=True, slots=True)
class CallPlaced:
    """The adapter placed a customer leg (within what the pacer allowed)."""

    at: float
    call_id: str


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """A person answered a ringing customer leg."""

    at: float
    call_id: str


@dataclass(frozen=True, slots=True)
class CallNotAnswered:
    """A ringing customer leg ended unanswered: busy, no answer, or failed."""

    at: float
    call_id: str
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class WaitExpired:
    """An answered call's 2 s without an agent are over (the adapter's timer)."""

    at: float
    call_id: str


@dataclass(frozen=True, slots=True)
class CallEnded:
    """A connected call ended (either side hung up): its agent is free again."""

    at: float
    call_id: str


@dataclass(frozen=True, slots=True)
class AgentFree:
    """A campaign agent is ready and idle for the campaign (logged in, or back)."""

    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentLeaving:
    """An agent asks to leave the campaign's pool (not-ready, break, logout, inbound work)."""

    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class ConnectFailed:
    """The agent's phone did not take a connected call: the agent is gone from the pool and
    the customer waits again from when they answered (so their 2 s keep running).

    A phone failing is an agent leaving without asking: it is outside the budget's guarantee
    (as a crash would be); the dialler still abandons the call after 2 s and counts it.
    """

    at: float
    call_id: str
    answered_at: float


@dataclass(frozen=True, slots=True)
class DayTurned:
    """The campaign's day turned (midnight in the campaign's zone): the abandon cap counts
    afresh from the new day's live answers and abandons so far (``answered``, ``abandoned``).

    The calls placed before midnight belong to the day they were placed on, whose budget
    covered them: the new day starts once none of them rings or waits for an agent, and no
    call is placed meanwhile (:attr:`DiallerBook.turning`).
    """

    at: float
    day: str
    answered: int = 0
    abandoned: int = 0


DiallerEvent = (
    CallPlaced
    | CallAnswered
    | CallNotAnswered
    | WaitExpired
    | CallEnded
    | AgentFree
    | AgentLeaving
    | ConnectFailed
    | DayTurned
)


@dataclass(frozen=True, slots=True)
class Connect:
    """Effect: bridge the answered customer ``call_id`` to agent ``agent_id``."""

    call_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class Report:
    """Effect: tell the pacer this result (``pacer.on_result``)."""

    result: CallResult


DiallerEffect = Connect | PlaySafeMessage | ReleaseAgent | Report
#: Which of the free agents (the one free longest first) takes an answered call.
Chooser = Callable[[tuple[str, ...]], str | None]


class PacingBroken(Exception):
    """The adapter placed a call the budget does not allow (rule 1 broken)."""


@dataclass(frozen=True, slots=True)
class DiallerBook:
    """One campaign day as the dialler sees it; changed only by :func:`transition`."""

    campaign_id: int
    cap: AbandonCap = field(default_factory=AbandonCap)
    ringing: tuple[tuple[str, float], ...] = ()
    """Calls placed and not answered yet, with when they were placed."""
    waiting: tuple[tuple[str, float], ...] = ()
    """Answered calls waiting for an agent, with when they were answered."""
    free: tuple[str, ...] = ()
    """Free agents, the one idle longest first (releasing ones included)."""
    releasing: tuple[str, ...] = ()
    """Free agents whose not-ready waits for the budget, in the order they asked."""
    talking: tuple[tuple[str, str, float], ...] = ()
    """(call, agent, connected at) of the connected calls."""
    leaving_after_call: frozenset[str] = frozenset()
    answered: int = 0
    abandoned: int = 0
    dialled: int = 0
    day: str = ""
    """The campaign day the counts are for (ISO date in the campaign's zone)."""
    next_day: DayTurned | None = None
    """A day turn waiting for the previous day's calls to be answered, connected or ended."""

    @property
    def turning(self) -> bool:
        """Whether the day has turned and the previous day's calls still ring or wait: no
        call may be placed until the new day starts."""
        return self.next_day is not None

    def state(self, now: float, *, remaining_s: float = float("inf")) -> DialerState:
        """The campaign's situation for the pacer and the budget."""
        return DialerState(
            now=now,
            free_agents=len(self.free),
            talking_agents=len(self.talking),
            releasing_agents=len(self.releasing),
            ringing=len(self.ringing),
            waiting=len(self.waiting),
            answered_today=self.answered,
            abandoned_today=self.abandoned,
            dialled_today=self.dialled,
            remaining_s=remaining_s,
        )

    def agent_of(self, call_id: str) -> str | None:
        """The agent a connected call is with."""
        return next((agent for call, agent, _ in self.talking if call == call_id), None)

    def known(self, agent_id: str) -> bool:
        """Whether the agent is in the campaign's pool now (free or talking)."""
        return agent_id in self.free or any(agent == agent_id for _, agent, _ in self.talking)


def _without(pairs: tuple[tuple[str, float], ...], call_id: str) -> tuple[tuple[str, float], ...]:
    return tuple(p for p in pairs if p[0] != call_id)


def _since(pairs: tuple[tuple[str, float], ...], call_id: str) -> float | None:
    return next((at for call, at in pairs if call == call_id), None)


def transition(
    book: DiallerBook, event: DiallerEvent, *, choose: Chooser | None = None
) -> tuple[DiallerBook, tuple[DiallerEffect, ...]]:
    """The book after ``event``, and what the adapter must do; ``choose`` picks the agent an
    answered call is connected to (the routing engine's rules).

    An event about a call or agent the book does not hold in the right phase (a late timer,
    a second hang-up) changes nothing. Raises :class:`PacingBroken` for a call placed beyond
    the budget.
    """
    effects: list[DiallerEffect] = []
    at = event.at
    if isinstance(event, CallPlaced):
        if book.turning or calls_allowed(book.state(at), book.cap) < 1:
            raise PacingBroken(f"campaign {book.campaign_id}: call {event.call_id} over budget")
        book = replace(book, ringing=(*book.ringing, (event.call_id, at)), dialled=book.dialled + 1)
    elif isinstance(event, CallAnswered):
        placed = _since(book.ringing, event.call_id)
        if placed is None:
            return book, ()
        book = replace(
            book,
            ringing=_without(book.ringing, event.call_id),
            waiting=(*book.waiting, (event.call_id, at)),
            answered=book.answered + 1,
        )
        effects.append(Report(CallResult(at=at, outcome=Outcome.ANSWERED, ring_s=at - placed)))
    elif isinstance(event, CallNotAnswered):
        placed = _since(book.ringing, event.call_id)
        if placed is None:
            return book, ()
        book = replace(book, ringing=_without(book.ringing, event.call_id))
        effects.append(Report(CallResult(at=at, outcome=event.outcome, ring_s=at - placed)))
    elif isinstance(event, WaitExpired):
        answered_at = _since(book.waiting, event.call_id)
        if answered_at is None:
            return book, ()
        book = replace(
            book, waiting=_without(book.waiting, event.call_id), abandoned=book.abandoned + 1
        )
        effects.append(PlaySafeMessage(event.call_id))
        effects.append(
            Report(CallResult(at=at, outcome=Outcome.ABANDONED, wait_s=at - answered_at))
        )
    elif isinstance(event, CallEnded):
        if _since(book.waiting, event.call_id) is not None:
            # The customer hung up while waiting: no agent was needed, nothing abandoned.
            book = replace(book, waiting=_without(book.waiting, event.call_id))
        entry = next((t for t in book.talking if t[0] == event.call_id), None)
        if entry is None:
            return _settle(book, at, effects, choose)
        _, agent, since = entry
        book = replace(book, talking=tuple(t for t in book.talking if t[0] != event.call_id))
        effects.append(Report(CallResult(at=at, outcome=Outcome.COMPLETED, handle_s=at - since)))
        if agent in book.leaving_after_call:
            book = replace(book, leaving_after_call=book.leaving_after_call - {agent})
            effects.append(ReleaseAgent(agent))
        else:
            book = replace(book, free=(*book.free, agent))
    elif isinstance(event, ConnectFailed):
        entry = next((t for t in book.talking if t[0] == event.call_id), None)
        if entry is None:
            return book, ()
        agent = entry[1]
        book = replace(
            book,
            talking=tuple(t for t in book.talking if t[0] != event.call_id),
            waiting=((event.call_id, event.answered_at), *book.waiting),
            leaving_after_call=book.leaving_after_call - {agent},
        )
        if at - event.answered_at >= ABANDON_AFTER_S:
            # The phone failed after the customer's 2 s were over: abandoned now. Waiting
            # again would wait for a timer that has already fired, and the call would hang
            # (or, connected to the next free agent, break rule 2).
            book = replace(
                book, waiting=_without(book.waiting, event.call_id), abandoned=book.abandoned + 1
            )
            effects.append(PlaySafeMessage(event.call_id))
            effects.append(
                Report(CallResult(at=at, outcome=Outcome.ABANDONED, wait_s=at - event.answered_at))
            )
    elif isinstance(event, DayTurned):
        if event.day == book.day:
            return book, ()
        book = replace(book, next_day=event)
    elif isinstance(event, AgentFree):
        if book.known(event.agent_id):
            return book, ()
        book = replace(book, free=(*book.free, event.agent_id))
    elif isinstance(event, AgentLeaving):
        agent = event.agent_id
        if agent in book.releasing:
            return book, ()
        if agent in book.free:
            book = replace(book, releasing=(*book.releasing, agent))
        elif book.known(agent):
            book = replace(book, leaving_after_call=book.leaving_after_call | {agent})
        else:
            return book, ()
    return _settle(book, at, effects, choose)


def _settle(
    book: DiallerBook, at: float, effects: list[DiallerEffect], choose: Chooser | None
) -> tuple[DiallerBook, tuple[DiallerEffect, ...]]:
    """Connect waiting calls to free agents (rule 2), then let go whom the budget allows."""
    while book.waiting and book.free:
        (call_id, answered_at), *rest = book.waiting
        # A releasing agent is taken last: their not-ready may come due sooner that way.
        staying = tuple(a for a in book.free if a not in book.releasing)
        candidates = staying or book.free
        chosen = choose(candidates) if choose is not None else None
        agent = chosen if chosen in candidates else candidates[0]
        # A releasing agent who takes a call leaves after it (their not-ready still stands).
        leaving = book.leaving_after_call | ({agent} if agent in book.releasing else set())
        book = replace(
            book,
            waiting=tuple(rest),
            free=tuple(a for a in book.free if a != agent),
            releasing=tuple(a for a in book.releasing if a != agent),
            talking=(*book.talking, (call_id, agent, at)),
            leaving_after_call=frozenset(leaving),
        )
        effects.append(Connect(call_id, agent))
        effects.append(
            Report(CallResult(at=at, outcome=Outcome.CONNECTED, wait_s=at - answered_at))
        )
    turn = book.next_day
    if turn is not None and not book.ringing and not book.waiting:
        book = replace(
            book,
            day=turn.day,
            next_day=None,
            answered=turn.answered,
            abandoned=turn.abandoned,
            dialled=0,
        )
    for release in releases(book.state(at), book.cap, book.releasing):
        book = replace(
            book,
            free=tuple(a for a in book.free if a != release.agent_id),
            releasing=tuple(a for a in book.releasing if a != release.agent_id),
        )
        effects.append(release)
    return book, tuple(effects)
