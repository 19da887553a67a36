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
from typing import Any, Protocol

from hotline.core.clock import Clock
from hotline.core.events import Event, EventKind
from hotline.ivr.interpreter import Interpreter, IvrState
from hotline.telephony.ports import CallRouter, MediaServer, RoutingDecision, Signalling


@dataclass
class Call:
    """One voice contact as the driver tracks it."""

    contact_id: str
    leg: str
    caller: str
    called: str
    arrived_at: float
    ivr: IvrState | None = None
    queue: str | None = None
    queued_at: float | None = None
    agent_id: str | None = None
    agent_leg: str | None = None
    # More phones of the ringing agent, rung at the same time; the first to answer wins.
    fork_legs: list[str] = field(default_factory=list)
    ringing_agent: str | None = None
    ring_timer: asyncio.TimerHandle | None = None
    answered_at: float | None = None
    agent_sdp: str = ""
    agent_remote_sdp: str = ""  # the SDP of the phone the caller talks to
    # What we last answered each side with: a re-INVITE's answer is this, re-directed.
    local_sdp: dict[str, str] = field(default_factory=dict)
    held_since: float | None = None
    playing: asyncio.Task[None] | None = None
    music: asyncio.Task[None] | None = None
    timers: list[asyncio.TimerHandle] = field(default_factory=list)
    finished: bool = False
    recording: bool = False
    language: str = "zh-CN"
    interpreter: Interpreter | None = None  # the IVR flow of the number called
    # The queue exit the caller is leaving by (closed_message, voicemail, callback), if any.
    released: str | None = None
    voicemail: bool = False  # the caller's message is being recorded


class OutboundSettings(Protocol):
    """The driver's settings as calls out see them."""

    @property
    def trunk(self) -> str | None:
        """The outbound trunk as a SIP URI template (``{number}`` is the dialled number)."""
        ...


class CallControl(Protocol):
    """What consults and outbound calls use of the voice driver.

    Some of these are the driver's private helpers (spawning a task, the signalling port,
    routing decisions): the helpers are the driver's own parts, living in their own files.
    """

    @property
    def settings(self) -> OutboundSettings: ...

    @property
    def media(self) -> MediaServer: ...

    @property
    def router(self) -> CallRouter: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def calls(self) -> dict[str, Call]: ...

    @property
    def _by_leg(self) -> dict[str, Call]: ...

    @property
    def router_logs(self) -> bool: ...

    @property
    def phone_of(self) -> dict[str, str]: ...

    def emit(
        self,
        kind: EventKind,
        *,
        contact_id: str | None = None,
        agent_id: str | None = None,
        queue: str | None = None,
        data: Mapping[str, Any] | None = None,
        unrouted: bool = False,
    ) -> Event: ...

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]: ...

    def _sip(self) -> Signalling: ...

    def _connected(self, contact_id: str) -> Call: ...

    def _stop_playing(self, call: Call) -> None: ...

    async def _music(self, call: Call) -> None: ...

    def _route(self, decisions: Iterable[RoutingDecision]) -> None: ...
