"""The voice driver's call record and the narrow view of the driver its helpers work through.

:class:`~hotline.telephony.call_center.CallCenter` drives every voice call;
:mod:`~hotline.telephony.consult` (ringing a second agent during a call, warm transfer) and
:mod:`~hotline.telephony.outbound` (calls placed by an agent, callbacks) work beside it. The
helpers depend on this module, not on the driver, so the driver imports them without an import
cycle: :class:`CallControl` names what they use of the driver (mypy checks that the driver
has it where it hands itself over), and :class:`Call` is the record of one call they share.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hotline.config.trunks import OutboundRoute
from hotline.core.clock import Clock
from hotline.core.events import Event, EventKind
from hotline.ivr.interpreter import Interpreter, IvrState
from hotline.telephony.call_state import CallEvent, CallState
from hotline.telephony.ports import (
    CallRouter,
    MediaServer,
    NumberScreen,
    RoutingDecision,
    Signalling,
)


@dataclass
class Call:
    """One voice contact as the driver tracks it: the call's state (:mod:`.call_state`, changed
    only by its transitions) and the driver's handles on the world (legs, SDPs, tasks, timers).
    """

    leg: str
    state: CallState
    ivr: IvrState | None = None
    agent_leg: str | None = None
    # More phones of the ringing agent, rung at the same time; the first to answer wins.
    fork_legs: list[str] = field(default_factory=list)
    answering: str | None = None  # the phone that just answered (it keeps its leg)
    agent_sdp: str = ""
    caller_sdp: str = ""  # the caller's offer: offered again, for a browser, when one rings
    webrtc: bool = False  # agent_sdp is a browser's (ICE, DTLS-SRTP), not a desk phone's
    offered_again: bool = False  # the caller's SDP was offered to the relay a second time
    agent_remote_sdp: str = ""  # the SDP of the phone the caller talks to
    # The SDP each agent leg was rung with, and the legs that ring a browser softphone
    # (WebRTC), with its contact: an agent with a browser and a desk phone is rung on both.
    rung_with: dict[str, str] = field(default_factory=dict)
    browsers: dict[str, str] = field(default_factory=dict)
    # What we last answered each side with: a re-INVITE's answer is this, re-directed.
    local_sdp: dict[str, str] = field(default_factory=dict)
    playing: asyncio.Task[None] | None = None
    music: asyncio.Task[None] | None = None
    timers: list[asyncio.TimerHandle] = field(default_factory=list)
    recording: bool = False
    interpreter: Interpreter | None = None  # the IVR flow of the number called
    voicemail: bool = False  # the caller's message is being recorded
    # A consult relay the caller's relay talks to after a warm transfer to a browser (see
    # :mod:`.consult`): released with the call.
    chained: str | None = None

    # The state's facts, read-only here: only a transition changes them.

    @property
    def on_browser(self) -> bool:
        """Whether the agent's phone on the line (or ringing) is a browser softphone."""
        return self.agent_leg is not None and self.agent_leg in self.browsers

    @property
    def contact_id(self) -> str:
        """The contact id."""
        return self.state.contact_id

    @property
    def caller(self) -> str:
        """The calling number."""
        return self.state.caller

    @property
    def called(self) -> str:
        """The number called."""
        return self.state.called

    @property
    def arrived_at(self) -> float:
        """When the call arrived."""
        return self.state.arrived_at

    @property
    def queue(self) -> str | None:
        """The queue the caller waits in (or waited in)."""
        return self.state.queue

    @property
    def queued_at(self) -> float | None:
        """When the caller (last) joined a queue."""
        return self.state.queued_at

    @property
    def language(self) -> str:
        """The caller's language."""
        return self.state.language

    @property
    def agent_id(self) -> str | None:
        """The agent on the line with the caller."""
        return self.state.agent_id

    @property
    def ringing_agent(self) -> str | None:
        """The agent whose phone rings with the call."""
        return self.state.ringing_agent

    @property
    def answered_at(self) -> float | None:
        """When the agent now on the line answered."""
        return self.state.answered_at

    @property
    def held_since(self) -> float | None:
        """Since when the caller is on hold."""
        return self.state.held_since

    @property
    def released(self) -> str | None:
        """The queue exit the caller is leaving by (closed_message, voicemail, callback)."""
        return self.state.released

    @property
    def finished(self) -> bool:
        """Whether the call has ended."""
        return self.state.finished


class OutboundSettings(Protocol):
    """The driver's settings as calls out see them."""

    @property
    def dials_out(self) -> bool:
        """Whether any call out can be placed (some trunk is configured)."""
        ...

    def route_out(
        self, *, agent_id: str | None = None, queue: str | None = None
    ) -> OutboundRoute | None:
        """The trunk a call out of ``agent_id`` (else of ``queue``) leaves by (its site's,
        else the center's default, else the server's ``--trunk``); ``None``: none at all."""
        ...

    @property
    def do_not_call(self) -> NumberScreen | None:
        """The do-not-call lists every outbound call asks first (``None``: none kept)."""
        ...

    @property
    def forward_fallbacks(self) -> Mapping[str, tuple[str, ...]]:
        """A forwarded number's next numbers, tried in order when it is busy."""
        ...

    @property
    def ringback(self) -> Path | None:
        """One cycle of the ring tone a caller hears while a number dialled out for them
        rings (``None``: silence)."""
        ...


class CallControl(Protocol):
    """The voice driver as consults, transfers, calls out and callbacks use it.

    The small public surface of :class:`~hotline.telephony.call_center.CallCenter` its
    helpers work through; none of them touches the driver's private members (a gate in
    ``tests/unit/gates/`` fails when a module does). A call's state changes only through
    :meth:`step`.
    """

    @property
    def settings(self) -> OutboundSettings:
        """The driver's settings (the outbound trunk)."""
        ...

    @property
    def media(self) -> MediaServer:
        """The media relay."""
        ...

    @property
    def router(self) -> CallRouter:
        """The ACD."""
        ...

    @property
    def clock(self) -> Clock:
        """The driver's clock."""
        ...

    @property
    def sip(self) -> Signalling:
        """The SIP side."""
        ...

    @property
    def calls(self) -> dict[str, Call]:
        """The inbound calls in progress, by contact id."""
        ...

    @property
    def phone_of(self) -> dict[str, str]:
        """One registered phone per agent: where consults and calls out ring."""
        ...

    def emit(
        self,
        kind: EventKind,
        *,
        contact_id: str | None = None,
        agent_id: str | None = None,
        queue: str | None = None,
        data: Mapping[str, Any] | None = None,
        unrouted: bool = False,
    ) -> Event:
        """Append an event to the contact event log (see the driver's ``emit``)."""
        ...

    def step(self, call: Call, event: CallEvent) -> None:
        """Feed ``event`` to the call's state machine and carry out its effects."""
        ...

    def route(self, decisions: Iterable[RoutingDecision]) -> None:
        """Carry out the ACD's decisions."""
        ...

    def spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        """Run ``coroutine`` as one of the driver's tasks."""
        ...

    def connected(self, contact_id: str) -> Call:
        """The connected call ``contact_id``; raises ``TransferRefused`` when it is not."""
        ...

    def stop_playing(self, call: Call) -> None:
        """Cancel the prompts being played to the caller."""
        ...

    async def offer_for(self, call: Call, *, webrtc: bool) -> str | None:
        """The caller relay's offer for a phone of one kind (``webrtc``: a browser); ``None``
        when the relay refused (see the driver's ``offer_for``)."""
        ...

    def start_music(self, call: Call) -> None:
        """Play music on hold to the caller."""
        ...

    def bind_leg(self, leg: str, call: Call) -> None:
        """SIP events of ``leg`` are about ``call`` from now on."""
        ...

    def unbind_leg(self, leg: str) -> None:
        """Forget ``leg``."""
        ...
