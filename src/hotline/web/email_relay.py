"""The e-mail router: e-mail contacts into the live routing engine, and their ends.

Receiving mail (the SMTP receiver's thread, an IMAP poll, another process's ``hotline mail
serve``) only writes: an e-mail contact in state ``new`` beside its ticket
(:mod:`hotline.channels.email.service`). This adapter, run with the web app's live driver,
carries such contacts into the one routing engine — :meth:`LiveDriver.offer_digital` with
channel ``email`` in the mailbox's queue when the center file has it as an e-mail queue, else
in the center's first e-mail queue — so they wait, are offered to an agent with the skill and
free e-mail capacity, and are accepted like a call. The agent's reply or "no reply needed"
ends the contact in the database; the router then ends it in the engine
(:meth:`LiveDriver.end_digital`), so its handle time runs from the accept to the reply and
wrap-up follows. The contact event log therefore holds e-mail like calls and chats, and every
report counts it under channel ``email``.

It works in rounds: at start, when woken (a reply was committed: :meth:`wake`), and every
``every_s`` seconds for mail another process received. Because the database holds the state,
a round that fails is simply done again by the next one. The first round also takes back the
contacts a previous run had queued but the engine no longer holds (the stop closed them in
the event log, as it closes calls): each is ended as ``interrupted`` and queued again as a new
contact, so no customer's mail is left waiting for nobody. A partition owner that resumed the
contacts in progress (:mod:`hotline.live.takeover`) holds them, and they are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import service as mail
from hotline.core.events import Channel
from hotline.live.driver import LiveDriver
from hotline.routing.model import RoutingConflict
from hotline.store.db import reading
from hotline.web.chat_relay import in_writer

log = logging.getLogger(__name__)

#: How often mail received by another process is looked for (a reply wakes the router).
EVERY_S = 1.0


class EmailRouter:
    """E-mail contacts between the database and the live routing engine (see the module).

    Example::

        router = EmailRouter(driver=driver, session_factory=factory)
        await router.start()
        await router.route_once()   # queue new contacts, end replied ones
        await router.stop()
    """

    def __init__(
        self,
        *,
        driver: LiveDriver,
        session_factory: sessionmaker[Session],
        every_s: float | None = EVERY_S,
    ) -> None:
        self.driver = driver
        self.session_factory = session_factory
        #: ``None``: no rounds of its own; whoever drives it calls :meth:`route_once`.
        self.every_s = every_s
        self.routed = 0
        self.ended = 0
        self._lock = asyncio.Lock()
        self._recovered = False
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def queue_for(self, mailbox_queue: str) -> str | None:
        """The routing queue of a mailbox's contacts: its own queue when the center file has
        it as an e-mail queue, else the center's first e-mail queue (``None``: there is none)."""
        queues = [q.id for q in self.driver.center.queues if q.channel == Channel.EMAIL.value]
        if mailbox_queue in queues:
            return mailbox_queue
        return queues[0] if queues else None

    def _read(self) -> tuple[list[mail.ContactToRoute], list[str]]:
        with self.session_factory() as session:
            reading(session, purpose="e-mail router")
            return mail.contacts_to_route(session), mail.ends_to_tell(session)

    async def route_once(self) -> tuple[int, int]:
        """One round: queue the new e-mail contacts, end the finished ones in the engine.

        Returns how many were queued and how many ended.
        """
        async with self._lock:
            if not self._recovered:
                await self._take_back_lost()
                self._recovered = True
            pending, ending = await asyncio.to_thread(self._read)
            routed: list[tuple[str, str | None]] = []
            for contact in pending:
                queue = self.queue_for(contact.mailbox_queue)
                if queue is not None:
                    try:
                        await self.driver.offer_digital(
                            queue,
                            channel=Channel.EMAIL,
                            customer=contact.customer,
                            attached={
                                "email": contact.customer,
                                "subject": contact.subject,
                                "ticket_id": contact.ticket_id,
                                "ticket_number": contact.ticket_number,
                            },
                            contact_id=contact.contact_id,
                        )
                    except RoutingConflict:
                        log.exception("e-mail contact %s was not queued", contact.contact_id)
                        continue
                routed.append((contact.contact_id, queue))
            for contact_id in ending:
                await self.driver.end_digital(contact_id)
            if routed or ending:
                await in_writer(self.session_factory, lambda s: self._mark(s, routed, ending))
            self.routed += sum(1 for _, queue in routed if queue is not None)
            self.ended += len(ending)
            return sum(1 for _, queue in routed if queue is not None), len(ending)

    async def _take_back_lost(self) -> None:
        def routed() -> list[str]:
            with self.session_factory() as session:
                reading(session, purpose="e-mail router")
                return mail.routed_contacts(session)

        ids = await asyncio.to_thread(routed)
        if not ids:
            return
        lost: list[str] = await self.driver.run(
            lambda engine, now: ([c for c in ids if engine.contact_stage(c) is None], None)
        )
        if lost:
            log.warning("e-mail router: queueing %d interrupted e-mail contacts again", len(lost))
            await in_writer(
                self.session_factory,
                lambda s: [mail.requeue(s, contact_id=contact_id) for contact_id in lost],
            )

    @staticmethod
    def _mark(session: Session, routed: list[tuple[str, str | None]], ending: list[str]) -> None:
        for contact_id, queue in routed:
            if queue is None:
                mail.mark_unrouted(session, contact_id=contact_id)
            else:
                mail.mark_routed(session, contact_id=contact_id, queue=queue)
        mail.mark_told(session, contact_ids=ending)

    def wake(self) -> None:
        """Run a round now (call on the event loop: a route's background task)."""
        if self._wake is not None:
            self._wake.set()

    async def _rounds(self) -> None:
        assert self._wake is not None and self.every_s is not None
        while True:
            try:
                await self.route_once()
            except Exception:  # a database hiccup: the next round does it again
                log.exception("an e-mail routing round failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.every_s):
                    await self._wake.wait()
            self._wake.clear()

    async def start(self, _: Any = None) -> None:
        """Start the rounds (the first at once)."""
        self._wake = asyncio.Event()
        if self.every_s is not None and self._task is None:
            self._task = asyncio.create_task(self._rounds(), name="email-router")

    async def stop(self, _: Any = None) -> None:
        """Stop the rounds; a round in progress is cancelled between its steps."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def attach_email_router(app: Any, *, every_s: float | None = EVERY_S) -> EmailRouter:
    """Run an :class:`EmailRouter` with ``app``'s live driver (``app.state.email_router``),
    started after the driver and stopped before it; call it after
    :func:`hotline.live.driver.attach`."""
    router = EmailRouter(
        driver=app.state.live, session_factory=app.state.session_factory, every_s=every_s
    )
    app.state.email_router = router
    app.state.on_start.append(router.start)
    app.state.on_stop.insert(0, router.stop)
    return router


def wake_email_router(app: Any) -> None:
    """Wake the app's e-mail router, if it runs one (after a reply is committed)."""
    router: EmailRouter | None = getattr(app.state, "email_router", None)
    if router is not None:
        router.wake()
