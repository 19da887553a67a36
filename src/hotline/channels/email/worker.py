"""The e-mail channel running beside a server: the SMTP receiver, the outbox, IMAP polls.

One object started and stopped with its host (``hotline serve --mail``, or ``hotline mail
serve`` alone): the receiver listens in aiosmtpd's own thread; a task on the event loop hands
the outbox to the relays every ``send_every_s`` and polls the IMAP mailboxes every
``poll_every_s``, each round in a worker thread. Stopping cancels the task (a round in its
thread finishes its transaction first) and closes the receiver, within a second or two.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import poller, sender, service
from hotline.channels.email.receiver import MailReceiver, largest_limit

log = logging.getLogger(__name__)


def poll_all(factory: sessionmaker[Session], *, secret: bytes) -> dict[str, dict[str, int]]:
    """Poll every active mailbox that has an IMAP host once; outcomes per mailbox.

    A mailbox whose server fails is logged and skipped: the others are still read.
    """
    with factory() as session:
        active = service.list_mailboxes(session, active_only=True)
        boxes = [box.address for box in active if box.imap_host]
    results: dict[str, dict[str, int]] = {}
    for address in boxes:
        try:
            results[address] = poller.poll(factory, address=address, secret=secret).outcomes
        except (OSError, ValueError, imaplib.IMAP4.error) as error:
            log.warning("polling %s failed: %s", address, error)
            results[address] = {"error": 1}
    return results


class MailWorker:
    """Receiver, outbox and polls of one process; ``await start()``, ``await stop()``.

    Example::

        worker = MailWorker(factory, secret=key, host="0.0.0.0", port=2525)
        app.state.on_start.append(worker.start)
        app.state.on_stop.append(worker.stop)
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        secret: bytes,
        host: str = "127.0.0.1",
        port: int = 2525,
        send_every_s: float = 5.0,
        poll_every_s: float = 30.0,
    ) -> None:
        self.factory, self.secret = factory, secret
        self.host, self.port = host, port
        self.send_every_s, self.poll_every_s = send_every_s, poll_every_s
        self.receiver: MailReceiver | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, _: Any = None) -> None:
        """Listen for SMTP and start the outbox and poll rounds."""
        limit = await asyncio.to_thread(largest_limit, self.factory)
        self.receiver = MailReceiver(
            self.factory, host=self.host, port=self.port, max_message_bytes=limit
        )
        await asyncio.to_thread(self.receiver.start)
        self._task = asyncio.create_task(self._rounds(), name="mail-worker")

    async def _rounds(self) -> None:
        next_poll = 0.0
        while True:
            try:
                await asyncio.to_thread(sender.deliver_due, self.factory, secret=self.secret)
                if time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + self.poll_every_s
                    await asyncio.to_thread(poll_all, self.factory, secret=self.secret)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad round must not end the channel; the next one retries
                log.exception("an e-mail round failed")
            await asyncio.sleep(self.send_every_s)

    async def stop(self, _: Any = None) -> None:
        """Stop the rounds and close the receiver."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.receiver is not None:
            await asyncio.to_thread(self.receiver.stop)
            self.receiver = None
