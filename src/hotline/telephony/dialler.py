"""The progressive and predictive dialler of the voice server: customers first, then agents.

For every running campaign in ``progressive`` or ``predictive`` mode the dialler keeps the
campaign's reserved agents (the campaign's ``agents`` with a registered phone, taken only
when the routing engine lends them — idle, no inbound contact waiting for them, every queue
they serve keeping its ``outbound_reserve`` of idle agents — and held in the ACD as
not-ready ``outbound`` so inbound routing leaves them to the campaign; handed back as soon
as an inbound contact waits for one or the engine wants one back for a queue's reserve,
once the abandon budget allows it), asks the
campaign's pacer (:mod:`hotline.pacing`: ``ProgressivePacer`` or ``PredictivePacer``) how
many calls to place, claims that many records (:func:`hotline.campaigns.service.claim_next`
through :class:`DialLists`: both do-not-call lists asked again, calling hours in the
customer's time zone) and dials the customers through the trunk. The decisions are the pure book's
(:mod:`hotline.telephony.dialling`); this module does the I/O: SIP legs, media, timers, the
event log and the campaign's attempts.

A customer who answers is connected to a free agent of the campaign at once: the agent's
phone is rung with the customer's media (the agents' phones answer automatically, as a
dialler's agents' do). One still without an agent after 2 s is abandoned: the safe message
(``safe_message`` prompt) is played to them, then the call is hung up. A ringing call not
answered within ``ring_timeout_s`` is given up as ``no_answer``.

Media, with the relay as the offerer towards both sides (rtpengine):

1. ``offer`` a placeholder from the agent side → the SDP offered to the customer (trunk);
2. the customer answers → ``answer`` with the customer's SDP;
3. an agent is chosen → ``offer`` from the customer side with the customer's SDP gives the
   SDP to ring the agent's phone with; the phone answers → ``answer`` with its SDP, and
   recording starts.

Each call lands in the contact event log with ``direction=outbound`` (``arrived`` when
placed; ``dialled`` with the network result; ``answered`` when an agent takes it, or
``abandoned`` with ``safe_message``; ``finished`` with the outcome) and as one attempt of the
campaign (``busy``, ``no_answer``, ``failed``, ``abandoned``), whose retry rules decide when
the record comes back. A call connected to an agent is the agent's to disposition: once the
agent's phone answers, the record passes from the dialler to the agent
(:meth:`DialLists.connected`, which keeps the call as an answered, connected attempt at
once), whose desk pops the campaign record with the call and turns the agent's disposition
(and a callback time the customer asks for) into that attempt's result. Only if the hand-over
fails does the dialler keep the call as ``completed`` itself when it ends.

Which free held agent takes an answered call is the routing engine's choice
(:meth:`~hotline.telephony.ports.CallRouter.choose_held`: the skill and proficiency rules of
the campaign's ``queue``), not the dialler's.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from hotline.campaigns.rules import DialMode
from hotline.config.trunks import OutboundRoute
from hotline.core.events import Direction, EventKind
from hotline.core.events import Outcome as ContactOutcome
from hotline.pacing.pacers import Pacer, PredictivePacer, ProgressivePacer
from hotline.pacing.state import ABANDON_AFTER_S, Outcome, PlaySafeMessage, ReleaseAgent
from hotline.telephony.call_control import CallControl
from hotline.telephony.dialling import (
    AgentFree,
    AgentLeaving,
    CallAnswered,
    CallEnded,
    CallNotAnswered,
    CallPlaced,
    Connect,
    ConnectFailed,
    DayTurned,
    DiallerBook,
    DiallerEffect,
    DiallerEvent,
    Report,
    WaitExpired,
    transition,
)
from hotline.telephony.media.sdp import placeholder_sdp
from hotline.telephony.ports import MediaUnavailable, RoutingDecision

log = logging.getLogger(__name__)

CUSTOMER, AGENT = "customer", "agent"
#: The campaign modes the dialler works (preview campaigns are dialled by agents on the desk).
DIALLED_MODES = frozenset({str(DialMode.PROGRESSIVE), str(DialMode.PREDICTIVE)})
#: The not-ready reason of an agent the dialler holds for a campaign (as the simulator's).
HOLD_REASON = "outbound"
#: How often an unchanged pacing state is kept again (the page's sign of a live dialler).
KEEP_ALIVE_S = 30.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DialCampaign:
    """A running campaign the dialler works: its mode, reserved agents, and the day's live
    answers and abandons so far (a dialler started mid-day resumes the day's budget)."""

    id: int
    mode: str
    agents: tuple[str, ...]
    answered_today: int = 0
    abandoned_today: int = 0
    day: str = ""
    """The campaign's day the counts are for (ISO date in its zone): when it changes, the
    book's abandon cap starts the new day (:class:`~hotline.telephony.dialling.DayTurned`)."""
    queue: str | None = None
    """The queue whose skill and proficiency rules choose which held agent takes a call."""


@dataclass(frozen=True, slots=True)
class PacingSnapshot:
    """What the dialler sees of one campaign now, for the campaigns page (kept in the
    database: the dialler runs in the voice server, the page in the web server)."""

    campaign_id: int
    at: datetime
    day: str
    ringing: int
    waiting: int
    free_agents: int
    talking_agents: int
    releasing_agents: int
    answered_today: int
    abandoned_today: int
    allowance: int


@dataclass(frozen=True, slots=True)
class DialRecord:
    """One record claimed for one call: whom to dial."""

    id: int
    number: str


class DialLists(Protocol):
    """The campaigns and their records, as the dialler works them (the database's, in
    :mod:`hotline.telephony.dial_lists`)."""

    async def running(self) -> list[DialCampaign]:
        """The running campaigns in a dialled mode."""
        ...

    async def claim(self, *, campaign_id: int, holder: str, now: datetime) -> DialRecord | None:
        """The next record to dial, held by ``holder``; ``None`` when none may be dialled."""
        ...

    async def result(
        self,
        *,
        record_id: int,
        holder: str,
        result: str,
        now: datetime,
        contact_id: str,
        answered: bool,
        connected: bool,
    ) -> None:
        """Keep one call's result as an attempt (the retry rules apply)."""
        ...

    async def connected(
        self, *, record_id: int, holder: str, agent_id: str, contact_id: str, now: datetime
    ) -> None:
        """The call is connected to ``agent_id``: the record passes to the agent, whose
        disposition from the desk becomes the attempt."""
        ...

    async def release(self, *, record_id: int, holder: str, now: datetime) -> None:
        """Give a claimed record back undialled (no attempt)."""
        ...

    async def pacing(self, snapshots: list[PacingSnapshot]) -> None:
        """Keep what the dialler sees of its campaigns now (for the campaigns page)."""
        ...


class AgentLender(Protocol):
    """What the dialler asks of an ACD about agents (the blending part of
    :class:`~hotline.telephony.ports.CallRouter`; on a voice node the owner's lending)."""

    def may_lend(self, agent_id: str) -> bool: ...

    def reserve_refill(self, held: Sequence[str]) -> list[str]: ...

    def waiting_for(self, agent_id: str) -> int: ...

    def choose_held(self, queue_id: str, free: Sequence[str]) -> str | None: ...

    def hold_agent(self, *, at: float, agent_id: str, reason: str) -> list[RoutingDecision]: ...

    def release_agent(self, *, at: float, agent_id: str, phone: bool) -> list[RoutingDecision]: ...


@dataclass
class DialledCall:
    """One customer call of the dialler."""

    contact_id: str
    campaign_id: int
    record: DialRecord
    leg: str
    placed_at: float
    agent_leg: str | None = None
    agent_id: str | None = None
    customer_sdp: str = ""
    answered_at: float | None = None
    connected: bool = False
    abandoned: bool = False
    recording: bool = False
    finished: bool = False
    timer: asyncio.TimerHandle | None = None
    handover: asyncio.Task[bool] | None = None
    """Passing the record to the agent (true once the agent holds it)."""


@dataclass
class _Campaign:
    """A campaign being dialled: its book, its pacer, the agents it holds."""

    info: DialCampaign
    pacer: Pacer
    book: DiallerBook
    held: set[str] = field(default_factory=set)
    placing: bool = False
    pacer_day: str = ""


def pacer_for(mode: str) -> Pacer:
    """The pacer of a campaign mode (a new one each campaign day).

    >>> pacer_for("predictive").name, pacer_for("progressive").name
    ('predictive', 'progressive')
    """
    return PredictivePacer() if mode == DialMode.PREDICTIVE else ProgressivePacer()


class Dialler:
    """Dials the running campaigns' customers for one voice driver (a :class:`CallControl`)."""

    def __init__(
        self,
        center: CallControl,
        lists: DialLists,
        *,
        safe_message: Path,
        ring_timeout_s: float = 25.0,
        poll_s: float = 0.5,
        refresh_s: float = 2.0,
        acd: AgentLender | None = None,
        holder_prefix: str = "dialler",
    ) -> None:
        self.center = center
        self.lists = lists
        #: Whom the dialler asks to lend, hold, release and choose agents: the voice driver's
        #: router (its engine), or on a voice node the owner's lending
        #: (:class:`hotline.telephony.node_dialler.OwnerLending`).
        self._acd = acd
        #: Who holds a record while its call is in progress (``prefix:contact``): a voice node
        #: names its run, so the owner gives back what a lost node held.
        self.holder_prefix = holder_prefix
        self.safe_message = safe_message
        self.ring_timeout_s = ring_timeout_s
        self.poll_s = poll_s
        self.refresh_s = refresh_s
        self.campaigns: dict[int, _Campaign] = {}
        self.calls: dict[str, DialledCall] = {}
        self._by_leg: dict[str, DialledCall] = {}
        self._legs = itertools.count(1)
        # What was last kept of each campaign's pacing, and when (see _keep_pacing).
        self._kept: dict[int, tuple[PacingSnapshot, float]] = {}
        # Set by every change that may let the pacer place a call (an agent or a call
        # freed): the loop asks again at once instead of at its next poll.
        self._changed = asyncio.Event()

    @property
    def acd(self) -> AgentLender:
        """The router the dialler asks about agents (``acd``, else the voice driver's)."""
        return self._acd if self._acd is not None else self.center.router

    # -- the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Work the campaigns until ``stop`` is set (a task of the voice server); then hand
        the held agents back to the ACD."""
        loop = asyncio.get_running_loop()
        refreshed = -self.refresh_s
        while not stop.is_set():
            refresh = loop.time() - refreshed >= self.refresh_s
            if refresh:
                refreshed = loop.time()
            try:
                await self.round(refresh=refresh)
            except Exception:  # a database hiccup must not stop the dialler
                log.exception("dialler: a round failed")
            await self._pause(stop)
        for campaign in list(self.campaigns.values()):
            for agent_id in sorted(campaign.held):
                self._hand_back(campaign, agent_id)

    async def _pause(self, stop: asyncio.Event) -> None:
        """Wait for the next poll, a change, or the stop, whichever comes first."""
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._changed.wait())]
        try:
            await asyncio.wait(waits, timeout=self.poll_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        self._changed.clear()

    async def round(self, *, refresh: bool = True) -> None:
        """One round: (re)read the running campaigns, take or let go agents, place calls."""
        if refresh:
            self._sync_campaigns(await self.lists.running())
        for campaign in list(self.campaigns.values()):
            self._sync_agents(campaign)
            await self._place(campaign)
        if refresh:
            await self._keep_pacing()

    async def _keep_pacing(self) -> None:
        """Keep each campaign's pacing state when it changed, or every ``KEEP_ALIVE_S`` so the
        page knows the dialler still works it (a write per change, not per poll)."""
        now = self.center.clock.now()
        stamp = datetime.now(UTC)
        changed: list[PacingSnapshot] = []
        for campaign in self.campaigns.values():
            book = campaign.book
            state = book.state(now)
            snapshot = PacingSnapshot(
                campaign_id=campaign.info.id,
                at=stamp,
                day=book.day,
                ringing=state.ringing,
                waiting=state.waiting,
                free_agents=state.free_agents,
                talking_agents=state.talking_agents,
                releasing_agents=state.releasing_agents,
                answered_today=state.answered_today,
                abandoned_today=state.abandoned_today,
                allowance=book.cap.allowance(answered=state.answered_today),
            )
            facts = replace(snapshot, at=EPOCH)
            last = self._kept.get(campaign.info.id)
            if last is not None and last[0] == facts and now - last[1] < KEEP_ALIVE_S:
                continue
            self._kept[campaign.info.id] = (facts, now)
            changed.append(snapshot)
        if changed:
            await self.lists.pacing(changed)

    def _sync_campaigns(self, running: list[DialCampaign]) -> None:
        wanted = {c.id: c for c in running}
        for campaign_id, campaign in list(self.campaigns.items()):
            if campaign_id not in wanted:
                # Paused or finished: no new call; its agents go once the budget allows.
                campaign.info = DialCampaign(
                    campaign_id, campaign.info.mode, (), queue=campaign.info.queue
                )
            else:
                campaign.info = info = wanted[campaign_id]
                book = campaign.book
                pending = book.next_day.day if book.next_day is not None else book.day
                if info.day and info.day != pending:
                    # Midnight in the campaign's zone: the cap counts the new day's answers.
                    turn = DayTurned(
                        at=self.center.clock.now(),
                        day=info.day,
                        answered=info.answered_today,
                        abandoned=info.abandoned_today,
                    )
                    self._feed(campaign, turn)
        for campaign_id, info in wanted.items():
            if campaign_id not in self.campaigns:
                pacer = pacer_for(info.mode)
                book = DiallerBook(
                    campaign_id=campaign_id,
                    cap=pacer.cap,
                    answered=info.answered_today,
                    abandoned=info.abandoned_today,
                    day=info.day,
                )
                self.campaigns[campaign_id] = _Campaign(info, pacer, book, pacer_day=info.day)
        for campaign_id, campaign in list(self.campaigns.items()):
            if campaign_id not in wanted and not campaign.held and not self._busy(campaign):
                del self.campaigns[campaign_id]

    def _busy(self, campaign: _Campaign) -> bool:
        return any(c.campaign_id == campaign.info.id for c in self.calls.values())

    def _taken(self, agent_id: str) -> bool:
        """Whether the agent is not the dialler's to take: held by another campaign, or not
        lent by the ACD (:meth:`CallRouter.may_lend`: on a call, offered one, in wrap-up, not
        ready, needed by inbound contacts waiting for them, or part of a queue's outbound
        reserve — inbound keeps its service level; outbound fills idle time)."""
        if any(agent_id in c.held for c in self.campaigns.values()):
            return True
        return not self.acd.may_lend(agent_id)

    def _sync_agents(self, campaign: _Campaign) -> None:
        """Take the campaign's agents the ACD lends; let go the ones gone, unassigned, wanted
        by waiting inbound contacts, or wanted back by the ACD to refill a queue's outbound
        reserve (each release waits for the budget: rule 3)."""
        now = self.center.clock.now()
        reserved = set(campaign.info.agents)
        book = campaign.book
        router = self.acd

        def leaving(agent_id: str) -> bool:
            return agent_id in book.releasing or agent_id in book.leaving_after_call

        # Agents already on their way out count first towards a reserve the ACD is short of.
        held = sorted(campaign.held, key=lambda agent_id: (not leaving(agent_id), agent_id))
        refill = set(router.reserve_refill(held))
        for agent_id in sorted(campaign.held):
            gone = agent_id not in reserved or agent_id not in self.center.phone_of
            wanted = router.waiting_for(agent_id) > 0 or agent_id in refill
            if (gone or wanted) and not leaving(agent_id):
                self._feed(campaign, AgentLeaving(at=now, agent_id=agent_id))
        for agent_id in campaign.info.agents:
            if agent_id in self.center.phone_of and not self._taken(agent_id):
                campaign.held.add(agent_id)
                self.center.route(
                    self.acd.hold_agent(at=now, agent_id=agent_id, reason=HOLD_REASON)
                )
                self._feed(campaign, AgentFree(at=now, agent_id=agent_id))

    def _hand_back(self, campaign: _Campaign, agent_id: str) -> None:
        """The agent leaves the campaign: ready again for the ACD if their phone is there, else
        not ready as a lost phone makes them (so registering again makes them ready)."""
        campaign.held.discard(agent_id)
        self.center.route(
            self.acd.release_agent(
                at=self.center.clock.now(),
                agent_id=agent_id,
                phone=agent_id in self.center.phone_of,
            )
        )

    async def _place(self, campaign: _Campaign) -> None:
        """Place the calls the pacer allows now, one claimed record each."""
        if campaign.placing:
            return
        campaign.placing = True
        try:
            while campaign.info.agents:
                now = self.center.clock.now()
                if campaign.book.turning:
                    return  # the previous day's calls first (DayTurned)
                if campaign.pacer_day != campaign.book.day:
                    # A new campaign day, a new pacer (as the simulator's days).
                    campaign.pacer = pacer_for(campaign.info.mode)
                    campaign.pacer_day = campaign.book.day
                if campaign.pacer.calls_to_place(campaign.book.state(now)) < 1:
                    return
                if self._route(campaign) is None:
                    return
                contact_id = f"d-{secrets.token_hex(6)}"
                record = await self.lists.claim(
                    campaign_id=campaign.info.id,
                    holder=self._holder(contact_id),
                    now=datetime.now(UTC),
                )
                if record is None:
                    return
                # The pacer is asked again: the book may have changed while the claim ran.
                now = self.center.clock.now()
                book = campaign.book
                if book.turning or campaign.pacer.calls_to_place(book.state(now)) < 1:
                    await self._give_back(contact_id, record)
                    return
                await self._dial(campaign, contact_id, record)
        finally:
            campaign.placing = False

    def _route(self, campaign: _Campaign) -> OutboundRoute | None:
        """The trunk of the campaign queue's site (else the center's, else ``--trunk``)."""
        return self.center.settings.route_out(queue=campaign.info.queue)

    async def _give_back(self, contact_id: str, record: DialRecord) -> None:
        """A record claimed but not dialled (the budget changed meanwhile): back to the list,
        as the desk's skip does, with no attempt counted."""
        await self.lists.release(
            record_id=record.id, holder=self._holder(contact_id), now=datetime.now(UTC)
        )

    async def _dial(self, campaign: _Campaign, contact_id: str, record: DialRecord) -> None:
        center = self.center
        route = self._route(campaign)
        assert route is not None
        leg = f"dl-{next(self._legs)}"
        call = DialledCall(contact_id, campaign.info.id, record, leg, center.clock.now())
        self._feed(campaign, CallPlaced(at=call.placed_at, call_id=contact_id))
        self.calls[contact_id] = call
        self._emit(
            EventKind.ARRIVED,
            call,
            caller=f"campaign:{campaign.info.id}",
            called=record.number,
            reason="campaign",
            campaign=campaign.info.id,
            record=record.id,
            trunk=route.trunk_id,
        )
        try:
            to_customer = await center.media.offer(
                call=contact_id, from_tag=AGENT, sdp=placeholder_sdp()
            )
        except MediaUnavailable:
            self._not_answered(call, "failed")
            return
        self._by_leg[leg] = call
        center.sip.dial(
            leg,
            contact=route.contact(record.number),
            caller=route.caller("hotline"),
            sdp=to_customer,
        )
        call.timer = asyncio.get_running_loop().call_later(
            self.ring_timeout_s, self._ring_timeout, contact_id
        )

    # -- the book

    def _feed(self, campaign: _Campaign, event: DiallerEvent) -> None:
        queue = campaign.info.queue
        router = self.acd

        def choose(free: tuple[str, ...]) -> str | None:
            # The routing engine decides, by the campaign queue's skill and proficiency rules.
            return router.choose_held(queue, free) if queue is not None else None

        campaign.book, effects = transition(campaign.book, event, choose=choose)
        self._carry_out(campaign, effects)
        if not isinstance(event, CallPlaced):
            self._changed.set()

    def _carry_out(self, campaign: _Campaign, effects: tuple[DiallerEffect, ...]) -> None:
        for effect in effects:
            if isinstance(effect, Report):
                campaign.pacer.on_result(effect.result)
            elif isinstance(effect, Connect):
                call = self.calls[effect.call_id]
                call.agent_id = effect.agent_id
                self.center.spawn(self._connect(call, effect.agent_id))
            elif isinstance(effect, PlaySafeMessage):
                self.center.spawn(self._safe_message(self.calls[effect.call_id]))
            elif isinstance(effect, ReleaseAgent):
                self._hand_back(campaign, effect.agent_id)

    # -- SIP events of the dialler's legs

    def owns(self, leg: str) -> bool:
        """Whether ``leg`` is one of the dialler's."""
        return leg in self._by_leg

    def answered(self, leg: str, sdp: str) -> None:
        """The customer, or the agent's phone, picked up."""
        call = self._by_leg.get(leg)
        if call is None or call.finished:
            return
        if leg == call.leg:
            self._cancel_timer(call)
            call.customer_sdp = sdp
            call.answered_at = self.center.clock.now()
            self._emit(EventKind.DIALLED, call, number=call.record.number, result="answered")
            self.center.spawn(self._customer_answered(call, sdp))
        else:
            self.center.spawn(self._bridge(call, sdp))

    async def _customer_answered(self, call: DialledCall, sdp: str) -> None:
        with contextlib.suppress(MediaUnavailable):
            await self.center.media.answer(
                call=call.contact_id, from_tag=AGENT, to_tag=CUSTOMER, sdp=sdp
            )
        campaign = self.campaigns.get(call.campaign_id)
        if campaign is None or call.finished:
            return
        at = call.answered_at or self.center.clock.now()
        call.timer = asyncio.get_running_loop().call_later(
            ABANDON_AFTER_S, self._wait_expired, call.contact_id
        )
        self._feed(campaign, CallAnswered(at=at, call_id=call.contact_id))

    def _wait_expired(self, contact_id: str) -> None:
        """2 s after the answer: a call no agent has taken yet is abandoned. One whose
        agent's phone still rings is taken back from that agent first (a phone that slow is
        treated as gone; the agent is taken again at the next round if still there)."""
        call = self.calls.get(contact_id)
        campaign = None if call is None else self.campaigns.get(call.campaign_id)
        if call is None or campaign is None or call.connected or call.finished:
            return
        if call.agent_leg is not None:
            if self._by_leg.pop(call.agent_leg, None) is not None:
                self.center.sip.hang_up(call.agent_leg)
            self._connect_failed(call)
        self._feed(campaign, WaitExpired(at=self.center.clock.now(), call_id=contact_id))

    async def _connect(self, call: DialledCall, agent_id: str) -> None:
        """Ring the chosen agent's phone with the customer's media."""
        center = self.center
        phone = center.phone_of.get(agent_id)
        if phone is None or call.finished:
            self._connect_failed(call)
            return
        try:
            to_agent = await center.media.offer(
                call=call.contact_id, from_tag=CUSTOMER, sdp=call.customer_sdp
            )
        except MediaUnavailable:
            self._connect_failed(call)
            return
        if call.finished:
            return
        leg = f"dl-{next(self._legs)}"
        call.agent_leg = leg
        self._by_leg[leg] = call
        center.sip.dial(leg, contact=phone, caller=call.record.number, sdp=to_agent)

    def _connect_failed(self, call: DialledCall) -> None:
        campaign = self.campaigns.get(call.campaign_id)
        agent_id = call.agent_id
        if call.agent_leg:
            self._by_leg.pop(call.agent_leg, None)
        call.agent_leg = None
        call.agent_id = None
        if campaign is None or call.finished:
            return
        if agent_id is not None:
            # Out of the pool: back to the ACD (taken again next round if still idle there).
            self._hand_back(campaign, agent_id)
        at = self.center.clock.now()
        answered_at = call.answered_at if call.answered_at is not None else at
        # The customer waits again; their 2 s run from the answer (the timer set then).
        self._feed(campaign, ConnectFailed(at=at, call_id=call.contact_id, answered_at=answered_at))

    async def _bridge(self, call: DialledCall, agent_sdp: str) -> None:
        """The agent's phone answered: bridge and record."""
        center = self.center
        if call.finished:
            return
        call.connected = True
        self._cancel_timer(call)
        try:
            await center.media.answer(
                call=call.contact_id, from_tag=CUSTOMER, to_tag=AGENT, sdp=agent_sdp
            )
            await center.media.start_recording(call=call.contact_id)
            call.recording = True
        except MediaUnavailable as exc:
            center.emit(
                EventKind.ALARM,
                contact_id=call.contact_id,
                data={"component": "media", "state": "bridge_failed", "error": str(exc)},
            )
        wait = center.clock.now() - (call.answered_at or call.placed_at)
        call.handover = center.spawn(self._hand_over(call))
        self._emit(EventKind.ANSWERED, call, wait_s=round(wait, 3))
        if call.recording:
            self._emit(EventKind.RECORDING_STARTED, call)

    async def _safe_message(self, call: DialledCall) -> None:
        """Abandoned: the safe message to the customer, then hang up.

        Whatever fails on the way (the agent's leg, the media server refusing the playback)
        or a stop cancelling the task, the call ends here and its end is logged.
        """
        call.abandoned = True
        self._emit(EventKind.ABANDONED, call, reason="no_agent_within_2s", safe_message=True)
        try:
            if call.agent_leg and self._by_leg.pop(call.agent_leg, None) is not None:
                self.center.sip.hang_up(call.agent_leg)
                call.agent_leg = None
            playback = await self.center.media.play(
                call=call.contact_id, tag=CUSTOMER, path=str(self.safe_message)
            )
            await asyncio.sleep((playback.duration_ms or 1000) / 1000)
        except Exception:
            log.exception("dialler: the safe message to %s failed", call.contact_id)
        finally:
            self._finish(call, "abandoned", ContactOutcome.ABANDONED)

    def failed(self, leg: str, code: int) -> None:
        """A leg failed: the customer's number (busy, unanswered, failed) or the agent's phone."""
        call = self._by_leg.pop(leg, None)
        if call is None or call.finished:
            return
        if leg == call.leg:
            self._cancel_timer(call)
            self._not_answered(call, _dial_result(code))
        else:
            self._connect_failed(call)

    def _ring_timeout(self, contact_id: str) -> None:
        call = self.calls.get(contact_id)
        if call is None or call.finished or call.answered_at is not None:
            return
        if self._by_leg.pop(call.leg, None) is not None:
            self.center.sip.hang_up(call.leg)  # CANCEL
        self._not_answered(call, "no_answer")

    def _not_answered(self, call: DialledCall, result: str) -> None:
        self._emit(EventKind.DIALLED, call, number=call.record.number, result=result)
        campaign = self.campaigns.get(call.campaign_id)
        if campaign is not None:
            outcome = {"busy": Outcome.BUSY, "no_answer": Outcome.NO_ANSWER}.get(
                result, Outcome.FAILED
            )
            self._feed(
                campaign,
                CallNotAnswered(
                    at=self.center.clock.now(), call_id=call.contact_id, outcome=outcome
                ),
            )
        self._finish(call, result, ContactOutcome.FAILED)

    def hung_up(self, leg: str) -> None:
        """The customer or the agent hung up."""
        call = self._by_leg.pop(leg, None)
        if call is None or call.finished:
            return
        by = "agent" if leg == call.agent_leg else "customer"
        if by == "agent" and not call.connected:
            self._connect_failed(call)  # the phone gave up before taking the call
            return
        if call.abandoned:
            return  # the safe message is playing; it ends the call
        if call.connected:
            self._emit(EventKind.DISCONNECTED, call, by=by)
            self._finish(call, "completed", ContactOutcome.ANSWERED)
        else:
            # The customer answered and hung up before an agent took the call: not an
            # abandon of ours (they left within 2 s); the attempt failed and may be retried.
            self._emit(EventKind.DISCONNECTED, call, by=by)
            self._finish(call, "failed", ContactOutcome.ABANDONED)

    def _finish(self, call: DialledCall, result: str, outcome: ContactOutcome) -> None:
        """End both legs, tell the book, log ``finished`` and keep the attempt."""
        if call.finished:
            return
        call.finished = True
        self._cancel_timer(call)
        for leg in (call.leg, call.agent_leg):
            if leg and self._by_leg.pop(leg, None) is not None:
                self.center.sip.hang_up(leg)
        campaign = self.campaigns.get(call.campaign_id)
        if campaign is not None and call.answered_at is not None and not call.abandoned:
            self._feed(campaign, CallEnded(at=self.center.clock.now(), call_id=call.contact_id))
        self._emit(EventKind.FINISHED, call, outcome=outcome.value, result=result)
        self.calls.pop(call.contact_id, None)
        self.center.spawn(self._keep(call, result))

    async def _hand_over(self, call: DialledCall) -> bool:
        """Pass the connected call's record to its agent (their desk pops it); false when
        that failed, so the dialler keeps the call's result itself."""
        assert call.agent_id is not None
        try:
            await self.lists.connected(
                record_id=call.record.id,
                holder=self._holder(call.contact_id),
                agent_id=call.agent_id,
                contact_id=call.contact_id,
                now=datetime.now(UTC),
            )
        except Exception:
            log.exception("dialler: handing %s to %s", call.contact_id, call.agent_id)
            return False
        return True

    async def _keep(self, call: DialledCall, result: str) -> None:
        """Free the media and keep the attempt (its retry rules apply), unless the agent
        holds the record now: their disposition is the attempt."""
        with contextlib.suppress(MediaUnavailable):
            if call.recording:
                await self.center.media.stop_recording(call=call.contact_id)
            await self.center.media.delete(call=call.contact_id)
        if call.handover is not None and await call.handover:
            return
        try:
            await self.lists.result(
                record_id=call.record.id,
                holder=self._holder(call.contact_id),
                result=result,
                now=datetime.now(UTC),
                contact_id=call.contact_id,
                answered=call.answered_at is not None,
                connected=call.connected,
            )
        except Exception:
            log.exception("dialler: keeping the result of %s", call.contact_id)

    def _holder(self, contact_id: str) -> str:
        """Who holds a claimed record while its call is in progress: the dialler, per call."""
        return f"{self.holder_prefix}:{contact_id}"

    def _cancel_timer(self, call: DialledCall) -> None:
        if call.timer is not None:
            call.timer.cancel()
            call.timer = None

    def _emit(self, kind: EventKind, call: DialledCall, **data: object) -> None:
        self.center.emit(
            kind,
            contact_id=call.contact_id,
            agent_id=call.agent_id,
            data={"direction": Direction.OUTBOUND.value, "campaign": call.campaign_id, **data},
            unrouted=True,
        )


def _dial_result(code: int) -> str:
    """What a final SIP failure code says about the customer leg.

    >>> _dial_result(486), _dial_result(408), _dial_result(503)
    ('busy', 'no_answer', 'failed')
    """
    if code in (486, 600):
        return "busy"
    if code in (408, 480, 487):
        return "no_answer"
    return "failed"
