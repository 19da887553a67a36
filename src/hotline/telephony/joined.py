"""The voice server joined to the web app's live engine: one engine for desk, wallboard and SIP.

(``hotline serve --sip``, the "joined" server of ``bench/sip_load.py --joined``; named so it
does not repeat the name of the :mod:`hotline.live` driver it joins.)

``hotline serve --sip-port N`` runs the voice server inside the web server's process and
asyncio loop, and joins it to the live driver (:class:`~hotline.live.driver.LiveDriver`):

* :class:`LiveRouter` is the voice driver's :class:`~hotline.telephony.ports.CallRouter`
  backed by the live driver. A caller entering a queue, a phone answering, a caller hanging
  up become commands applied at once (:meth:`LiveDriver.handle_now`), so the SIP side knows
  which phone to ring before it returns. What the engine decides on its own — an agent
  pressing "ready" on the desktop picks a waiting caller, a ring-no-answer or ageing timer
  fires, a callback reaches the head of its queue — reaches the voice driver through the
  driver's listener and is carried out on the next turn of the loop.
* :class:`DriverSink` puts the voice driver's own events (arrivals, IVR steps, recordings,
  surveys, alarms) into the live driver's contact event log, next to the engine's, so the
  wallboard, the desktop and the database see one log.
* :class:`LiveVoice` starts and stops the voice parts with the web app
  (:func:`hotline.live.driver.attach`), and is what the web API's call controls reach:
  ``app.state.voice``. It hears crisis mode's switch (:mod:`hotline.live.crisis`): new
  callers hear the crisis announcement before the menu while the mode is on.

Overload: once a second the voice server's overload state (:mod:`hotline.telephony.overload`)
is published to the screens as a ``voice_load`` message — whether new calls are being refused
with 503 now, why, and how many were refused — and the wallboard shows it.

What an agent's phone registering or going away does to the agent's state is the one policy
of :mod:`hotline.telephony.acd` (:func:`~hotline.telephony.acd.on_phone_registered`), the same
as for the voice server's own engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from hotline.config.center import CenterConfig
from hotline.config.crisis import CrisisConfig
from hotline.core.events import Event
from hotline.identity import audit
from hotline.live.crisis import CrisisState
from hotline.live.driver import LiveDriver
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import Command, RoutingConflict
from hotline.store.db import writing
from hotline.telephony.acd import CommandRouter, voice_decisions
from hotline.telephony.call_center import CallCenter
from hotline.telephony.do_not_call import DatabaseScreen
from hotline.telephony.media.g711 import Mode
from hotline.telephony.ports import RoutingDecision, TransferRefused
from hotline.telephony.server import (
    ServerOptions,
    VoiceParts,
    center_ivr,
    note_overload,
    start_voice,
    stop_voice,
)
from hotline.telephony.supervision import Session

log = logging.getLogger(__name__)


class LiveRouter(CommandRouter):
    """The voice driver's ACD: the live driver's routing engine."""

    def __init__(self, driver: LiveDriver) -> None:
        super().__init__()
        self.driver = driver
        self.center: CallCenter | None = None
        self._applying = False
        driver.add_listener(self._listen)

    def emit_to(self, emit: Callable[[Event], None]) -> None:
        """Nothing to pass on: the live driver writes the engine's events to the log."""

    def attach(self, center: CallCenter) -> None:
        """Carry the engine's own decisions (desk, timers) out on ``center``."""
        self.center = center

    def _engine(self) -> RoutingEngine:
        return self.driver.engine

    def _number_of(self, contact_id: str) -> str | None:
        customer = self.driver.attached.get(contact_id, {}).get("customer")
        return str(customer) if customer else None

    def _listen(self, result: Any) -> None:
        if self._applying or self.center is None:
            return  # our own command: its decisions go back to the caller of _apply
        decisions = voice_decisions(result.effects, self._number_of)
        if decisions:
            # not from inside the engine task's step: on the loop's next turn
            asyncio.get_running_loop().call_soon(self.center.route, decisions)

    def _apply(
        self, at: float, make: Callable[[float], Command], *, refuse: bool = False
    ) -> list[RoutingDecision]:
        # ``at`` is the voice driver's clock; the live engine stamps commands with its own.
        self._applying = True
        try:
            result = self.driver.handle_now(make)
        except RoutingConflict as conflict:
            # Live races (a caller hangs up as the agent answers): the engine is unchanged.
            self.conflicts += 1
            if refuse:
                raise TransferRefused(str(conflict)) from conflict
            log.info("routing conflict: %s", conflict)
            return []
        finally:
            self._applying = False
        return voice_decisions(result.effects, self._number_of)

    def contact_queued(
        self,
        *,
        at: float,
        contact_id: str,
        queue: str,
        priority: int,
        language: str | None,
        data: Mapping[str, str],
    ) -> list[RoutingDecision]:
        """Queue the caller; the desktop's screen pop gets the number and the IVR's data."""
        # ``via: phone`` tells the desktop the call rings on the agent's phone
        self.driver.attached[contact_id] = {"customer": data.get("caller"), "via": "phone", **data}
        return super().contact_queued(
            at=at,
            contact_id=contact_id,
            queue=queue,
            priority=priority,
            language=language,
            data=data,
        )

    def advance(self, *, at: float) -> list[RoutingDecision]:
        """Nothing: the live driver's engine task fires the timers on time itself."""
        return []


class DriverSink:
    """The voice driver's :class:`~hotline.telephony.ports.EventSink`: the live driver's log."""

    def __init__(self, driver: LiveDriver) -> None:
        self.driver = driver

    def append(self, event: Event) -> None:
        """Add the event to the live contact event log."""
        self.driver.record(event)


class LiveVoice:
    """The voice server inside the web server, routed by its live driver.

    Pass it to :func:`hotline.live.driver.attach` as an extra part, so it starts after the
    driver and stops before it.
    """

    def __init__(
        self, driver: LiveDriver, options: ServerOptions, *, follow_center: bool = False
    ) -> None:
        self.driver = driver
        self.options = options
        self.router = LiveRouter(driver)
        self.parts: VoiceParts | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._audits: set[asyncio.Task[None]] = set()  # end-of-supervision audit writes
        if follow_center:
            driver.on_reconfigure.append(self.reconfigure)
        driver.crisis.listeners.append(self.crisis_switched)

    def _announcement(self, configured: str | None) -> str | None:
        """The front announcement for new calls: crisis mode's while it is on and has one,
        else the configuration's emergency switch."""
        crisis = self.driver.crisis
        if crisis.on and crisis.config is not None and crisis.config.announcement:
            return crisis.config.announcement
        return configured

    def reconfigure(self, center: CenterConfig) -> None:
        """Answer new calls with the saved configuration's IVR flows and emergency switch."""
        ivr = center_ivr(center)
        if ivr is None or self.parts is None:
            return
        prompt = self._announcement(ivr.emergency_prompt)
        self.parts.center.set_ivr(ivr.flow, by_number=ivr.by_number, emergency_prompt=prompt)
        log.info("voice: IVR flows from the saved configuration (emergency: %s)", prompt)

    def crisis_switched(self, state: CrisisState, config: CrisisConfig) -> None:
        """Crisis mode switched: new callers hear its announcement at the flow's
        ``emergency`` node, before the menu, while it is on; the configured switch after."""
        if self.parts is None:
            return
        ivr = self.driver.center.ivr
        self.parts.center.emergency_prompt = self._announcement(
            ivr.emergency_prompt if ivr is not None else None
        )

    @property
    def center(self) -> CallCenter:
        """The running voice driver (raises when not started)."""
        if self.parts is None:
            raise RuntimeError("the voice server is not running")
        return self.parts.center

    async def start(self) -> None:
        """Start SIP, media control and the registrations' expiry."""
        options = self.options
        factory = self.driver.session_factory
        if options.do_not_call is None and factory is not None:
            # the web app's database: every outbound call asks its do-not-call lists
            options = replace(options, do_not_call=DatabaseScreen(factory))
        self.parts = await start_voice(options, router=self.router, sink=DriverSink(self.driver))
        self.router.attach(self.parts.center)
        self.parts.center.supervisions.listeners.append(self.supervision_ended)
        self.parts.center.supervisions.connected.append(self.coaching_began)
        self.parts.center.supervisions.switched.append(self.coaching_switched)
        self._ticker = asyncio.create_task(self._tick(), name="voice-registrations")

    def coaching_began(self, session: Session) -> None:
        """A supervisor whispers or barges in: the agent's desk is told (``coached``, on)."""
        self._tell_coached(session, on=True)

    def coaching_switched(self, session: Session, previous: Mode) -> None:
        """A connected session changed mode: the agent's desk is told when the supervisor
        starts or stops being heard (listen to whisper or barge and back), or how (whisper
        and barge)."""
        if session.coaching:
            self.driver.publish(self.coached_message(session, on=True))
        elif previous != "listen":
            self.driver.publish(self.coached_message(session, on=False))

    def coached_message(self, session: Session, *, on: bool) -> dict[str, Any]:
        """The live message telling an agent a supervisor whispers or barges in (``on``) or
        has left: about the agent, so it reaches their desk and the screens overseeing them.

        ChanSpy's listen is silent to the agent; whisper and barge are not.
        """
        return {
            "type": "coached",
            "on": on,
            "agent_id": session.agent_id,
            "contact_id": session.contact_id,
            "mode": session.mode,
            "supervisor": session.supervisor,
            "at": self.driver.clock.now(),
        }

    def _tell_coached(self, session: Session, *, on: bool) -> None:
        if session.coaching:
            self.driver.publish(self.coached_message(session, on=on))

    def supervision_ended(self, session: Session, reason: str) -> None:
        """A supervisor's session ended (phone hung up, stopped, call over): audited as
        ``call.<mode>_end`` in its own write transaction, off the loop; a coached agent's
        desk is told (``coached``, off)."""
        if session.answered:
            self._tell_coached(session, on=False)
        factory = self.driver.session_factory
        if factory is None:
            return
        detail = {"agent_id": session.agent_id, "reason": reason}
        if session.stopped_by is not None:
            detail["stopped_by"] = session.stopped_by

        def write() -> None:
            with writing(factory()) as db:
                audit.record(
                    db,
                    actor=session.supervisor,
                    action=f"call.{session.mode}_end",
                    target=session.contact_id,
                    detail=detail,
                )
                db.commit()

        task = asyncio.get_running_loop().create_task(asyncio.to_thread(write))
        self._audits.add(task)
        task.add_done_callback(self._audits.discard)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.tick()

    def tick(self) -> None:
        """Once a second: expire registrations, log overload alarms, show the load."""
        if self.parts is None:
            return
        self.parts.stack.expire_registrations()
        note_overload(self.parts)
        if self.driver.watched():
            self.driver.publish(self.load_message())

    def load_message(self) -> dict[str, Any]:
        """The ``voice_load`` message for screens: overload state and calls refused."""
        if self.parts is None:
            return {"type": "voice_load", "overloaded": False, "refused_total": 0}
        return {
            "type": "voice_load",
            "at": self.parts.center.clock.now(),
            "setup_backlog": self.parts.stack.setup_backlog,
            **self.parts.overload.state.as_dict(),
        }

    async def stop(self) -> None:
        """Stop the SIP side and media control."""
        if self._ticker is not None:
            self._ticker.cancel()
        if self.parts is not None:
            await stop_voice(self.parts)
            self.parts = None
