"""The survey-link sweep: links sent by the ``surveys.send`` rule while the server runs.

After a resolved ticket or a finished voice/chat contact the center's rule may ask for a
survey link by e-mail or SMS once a waiting time has passed
(:func:`hotline.surveys.service.send_due_links`). This sweep runs when the web app starts and
then every ``every_s`` seconds (default 300, ``HOTLINE_SURVEY_SWEEP_S``; ``0`` turns it off)
in a worker thread, like the follow-up sweep. Where the server keeps the SMS gateway bound
(``app.state.sms``, :mod:`hotline.web.sms_bridge`) the links go through that session — an
SMSC may refuse a second bind of the same account; otherwise the SMSC is bound only when a
sweep has an SMS to send, and let go when the sweep ends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.channels.sms import service as sms
from hotline.channels.sms.gateway import SmsGateway
from hotline.channels.sms.settings import GatewaySettings
from hotline.channels.sms.smpp import SmppGateway
from hotline.core.clock import Clock
from hotline.core.errors import NotFound
from hotline.live.sweeper import Sweeper, attach_sweeper
from hotline.store.db import writing
from hotline.surveys import service as surveys

log = logging.getLogger(__name__)

#: How long a sweep waits for the SMSC to bind before it leaves the SMS for the next one.
BIND_TIMEOUT_S = 10.0


class LazySmpp:
    """The center's SMSC gateway, bound on the first message and stopped by :meth:`close`."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self._smpp: SmppGateway | None = None

    def send(self, *, to: str, text: str) -> list[str]:
        """Bind (once) and submit; :class:`GatewayDown` when the SMSC does not bind."""
        if self._smpp is None:
            self._smpp = SmppGateway.of(
                self.settings, on_message=lambda _: None, on_receipt=lambda _: None
            )
            self._smpp.start()
            self._smpp.wait_bound(BIND_TIMEOUT_S)
        return self._smpp.send(to=to, text=text)

    def close(self) -> None:
        """Unbind, if a message was sent."""
        if self._smpp is not None:
            self._smpp.stop()
            self._smpp = None


@contextmanager
def center_gateway(session: Session, *, secret: bytes) -> Iterator[LazySmpp | None]:
    """The active SMS gateway (``None`` when the center has none), closed afterwards."""
    try:
        settings = sms.gateway_settings(session, secret=secret)
    except NotFound:
        yield None
        return
    gateway = LazySmpp(settings)
    try:
        yield gateway
    finally:
        gateway.close()


def sweep_links(
    session: Session,
    *,
    center: Any,
    secret: bytes,
    now: datetime,
    gateway: SmsGateway | None = None,
) -> surveys.LinkSweep:
    """One survey-link sweep on ``session`` (commits): SMS through ``gateway`` when one is
    given (the server's bound session), else through the center's own SMS gateway."""
    config = center.surveys if center is not None else None
    if gateway is not None:
        return surveys.send_due_links(
            session=session, config=config, secret=secret, now=now, gateway=gateway
        )
    with center_gateway(session, secret=secret) as own:
        return surveys.send_due_links(
            session=session, config=config, secret=secret, now=now, gateway=own
        )


class SurveyLinkSweeper(Sweeper):
    """Runs :func:`sweep_links` on start and every ``every_s`` seconds."""

    name = "survey-link sweep"

    def sweep_once(self) -> surveys.LinkSweep:
        """One sweep in its own write transactions; returns what it did."""
        now = datetime.fromtimestamp(self.clock.now(), UTC)
        line = getattr(self.app.state, "sms", None)  # the server's SMS gateway, if it runs one
        bound: SmsGateway | None = getattr(line, "gateway", None)
        with writing(self.session_factory()) as session:
            return sweep_links(
                session,
                center=self.app.state.center,
                secret=self.app.state.secret,
                now=now,
                gateway=bound,
            )


def attach_survey_sweeper(
    app: Any, *, every_s: float | None = None, clock: Clock | None = None
) -> SurveyLinkSweeper | None:
    """Send the rule's survey links while ``app`` runs: ``app.state.survey_sweeper``;
    ``every_s`` defaults to ``HOTLINE_SURVEY_SWEEP_S`` (300 s)."""
    return attach_sweeper(
        app,
        SurveyLinkSweeper,
        attribute="survey_sweeper",
        variable="HOTLINE_SURVEY_SWEEP_S",
        every_s=every_s,
        clock=clock,
    )
