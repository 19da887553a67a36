"""Contacts the live engine finished, added to the customers' contact history (CRM).

The live driver calls its ``on_finished`` hooks with a
:class:`~hotline.live.desk_state.FinishedContact` whenever a contact ends (answered, abandoned,
called back…). :class:`ContactHistoryRecorder` is such a hook: it keeps the contact in memory
and writes batches in a worker thread through
:func:`hotline.crm.service.record_finished_contact`, which finds the customer by the key
the contact was attached with, on every channel: a number (call, SMS, a chat visitor's), an
e-mail address (an e-mail's sender, a chat visitor's) or a WeChat follower's openid. The
driver never sees the CRM, and a slow database never stalls routing.

Wiring (``hotline serve`` and ``hotline demo`` do this)::

    history = ContactHistoryRecorder(session_factory=factory)
    driver = LiveDriver(center=center, on_finished=[history])
    attach(app, driver, history)  # started after the driver, stopped (and flushed) before it
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Channel
from hotline.crm import service as crm
from hotline.live.desk_state import FinishedContact
from hotline.store.db import writing

log = logging.getLogger(__name__)

#: Channels on which the center reached out to the customer rather than the other way round.
OUTGOING = frozenset({Channel.OUTBOUND.value, Channel.CALLBACK.value})
#: Finished contacts kept waiting for the database before the oldest are dropped.
MAX_PENDING = 50_000


def summary_of(contact: FinishedContact) -> str:
    """The history line: queue, outcome, disposition and subject when known.

    >>> summary_of(FinishedContact("c1", 0.0, "voice", "repair", "answered", "138", "a001",
    ...                            "fixed", {"subject": "热水器不加热"}))
    'repair · answered · fixed · 热水器不加热'
    """
    parts = [contact.queue or "", contact.outcome, contact.disposition or ""]
    subject = contact.attached.get("subject")
    if subject:
        parts.append(str(subject))
    return " · ".join(p for p in parts if p)


def history_channel(contact: FinishedContact) -> str:
    """The channel the history names: the engine's, but ``wechat`` for a WeChat follower's
    conversation, which the engine routes as a chat (it takes the agent's chat capacity).

    >>> history_channel(FinishedContact("c1", 0.0, "chat", "q", "answered", "wechat:oLVP",
    ...                                 "a001", None, {}))
    'wechat'
    """
    channel = contact.channel or Channel.VOICE.value
    if channel == Channel.CHAT.value and (contact.customer or "").startswith(crm.WECHAT_PREFIX):
        return "wechat"
    return channel


class ContactHistoryRecorder:
    """An ``on_finished`` hook writing finished contacts into the customers' history."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        default_area_code: str | None = None,
        flush_every_s: float = 1.0,
    ) -> None:
        self.session_factory = session_factory
        self.default_area_code = default_area_code
        self.flush_every_s = flush_every_s
        self.recorded = 0
        self.unmatched = 0
        self.dropped = 0
        self.failures = 0
        self._pending: list[FinishedContact] = []
        self._task: asyncio.Task[None] | None = None

    def __call__(self, contact: FinishedContact) -> None:
        """Keep ``contact`` for the next write (contacts without a customer are skipped)."""
        if not contact.customer:
            return
        self._pending.append(contact)
        if len(self._pending) > MAX_PENDING:
            dropped = len(self._pending) - MAX_PENDING
            self.dropped += dropped
            del self._pending[:dropped]

    def write(self, batch: list[FinishedContact]) -> int:
        """Record ``batch`` in one transaction; return how many history rows were added."""
        added = 0
        with writing(self.session_factory()) as session:
            for contact in batch:
                assert contact.customer is not None
                rows = crm.record_finished_contact(
                    session,
                    key=contact.customer,
                    channel=history_channel(contact),
                    at=datetime.fromtimestamp(contact.at, UTC),
                    contact_id=contact.contact_id,
                    direction="outbound" if contact.channel in OUTGOING else "inbound",
                    agent_id=contact.agent_id,
                    summary=summary_of(contact),
                    queue=contact.queue,
                    outcome=contact.outcome,
                    default_area_code=self.default_area_code,
                )
                if not rows:
                    self.unmatched += 1
                added += len(rows)
            session.commit()
        return added

    async def flush(self) -> None:
        """Write what is waiting (in a worker thread); on failure keep it for the next try."""
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            self.recorded += await asyncio.to_thread(self.write, batch)
        except Exception:
            self.failures += 1
            log.exception("contact history: writing %d contacts failed", len(batch))
            self._pending[:0] = batch

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_every_s)
            await self.flush()

    async def start(self) -> None:
        """Start writing batches every ``flush_every_s`` seconds."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="contact-history")

    async def stop(self) -> None:
        """Stop the writer and write what is still waiting."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
