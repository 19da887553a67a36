"""The e-mail channel against real servers on 127.0.0.1: Hotline's SMTP receiver (aiosmtpd)
fed by smtplib, an aiosmtpd relay the outbox sends through (with SMTP AUTH, so the
encrypted password is really used), and aioimaplib's IMAP test server that the poller reads.

Receive, thread, reply, bounce, malformed MIME, a huge attachment, a relay that is down."""

from __future__ import annotations

import asyncio
import email
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aioimaplib.imap_testing_server import Mail, MockImapServer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import poller, sender, service
from hotline.channels.email.receiver import MailReceiver
from hotline.channels.email.settings import MailboxSettings
from hotline.cli import mail as mail_cli
from hotline.core.settings import Settings
from hotline.store.db import make_engine, make_session_factory, utcnow
from hotline.store.migrate import upgrade
from hotline.store.models.email import EmailMessage
from hotline.tickets import service as tickets
from hotline.web.app import create_app
from tests.unit.channels.mail_samples import MALFORMED, bounce_of, customer_mail

SECRET = b"server-test-secret"
LIMIT = 256 * 1024


def free_port() -> int:
    """A port the kernel says is free now (the servers bind it right after)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Relay:
    """The relay's handler: keeps what it was given and who logged in."""

    received: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 OK queued"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"relay-pass"
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    path: Path = tmp_path_factory.mktemp("mail") / "hotline.db"
    engine: Engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def relay() -> Iterator[tuple[Relay, int]]:
    handler, port = Relay(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=handler.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield handler, port
    controller.stop()


def _mailbox(factory: sessionmaker[Session], address: str, **changes: Any) -> None:
    settings = MailboxSettings.model_validate(
        {
            "address": address,
            "display_name": "客服中心",
            "queue": "email",
            "smtp_host": "127.0.0.1",
            "smtp_username": "hotline",
            "smtp_password": "relay-pass",
            "max_message_bytes": LIMIT,
        }
        | changes
    )
    with factory() as session:
        service.save_mailbox(session, settings=settings, secret=SECRET, actor="admin")
        session.commit()


@pytest.fixture(scope="module")
def receiver(
    factory: sessionmaker[Session], relay: tuple[Relay, int]
) -> Iterator[tuple[int, Relay]]:
    _mailbox(factory, "help@support.example.com", smtp_port=relay[1])
    port = free_port()
    server = MailReceiver(factory, host="127.0.0.1", port=port, max_message_bytes=LIMIT)
    server.start()
    yield port, relay[0]
    server.stop()


def _smtp(
    port: int,
    raw: bytes,
    *,
    mail_from: str = "li.lei@example.com",
    to: str = "help@support.example.com",
) -> tuple[int, str]:
    """Deliver ``raw`` as a mail server would; the reply to DATA (or to RCPT if refused)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("mx.example.com")
        client.mail(mail_from)
        code, reply = client.rcpt(to)
        if code >= 400:
            return code, reply.decode()
        code, reply = client.data(raw)
        return code, reply.decode()


def _sent(relay: Relay, message_id: str | None) -> email.message.EmailMessage:
    for envelope in relay.received:
        parsed = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        if parsed["Message-ID"] == message_id:
            return parsed
    raise AssertionError(f"the relay never got {message_id}")


def test_receive_acknowledge_reply_thread_and_bounce_over_smtp(
    factory: sessionmaker[Session], receiver: tuple[int, Relay]
) -> None:
    port, relay = receiver
    code, reply = _smtp(port, customer_mail(attachment=b"photo"))
    assert code == 250
    number = reply.rsplit(" ", 1)[-1]
    with factory() as session:
        ticket = tickets.ticket_by_number(session, number=number)
        ticket_id = ticket.id
    # the acknowledgement leaves through the relay, authenticated with the stored password
    outcomes = sender.deliver_due(factory, secret=SECRET)
    assert [o.status for o in outcomes] == ["sent"]
    assert relay.logins == ["hotline"]
    ack = relay.received[-1]
    assert ack.rcpt_tos == ["li.lei@example.com"]
    parsed = email.message_from_bytes(ack.original_content or b"", policy=email.policy.default)
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["In-Reply-To"] == "<c1@example.com>"
    assert number in parsed["Subject"]
    # the agent's reply carries the threading headers
    with factory() as session:
        queued = service.queue_reply(
            session, ticket_id=ticket_id, text="请提供购买日期。", actor="agent7"
        )
        session.commit()
    assert [o.status for o in sender.deliver_due(factory, secret=SECRET)] == ["sent"]
    out = _sent(relay, queued.message_id)
    assert out["In-Reply-To"] == "<c1@example.com>"
    assert out["References"] == "<c1@example.com>"
    assert out["Subject"] == f"Re: 热水器不加热 [#{number}]"
    # the customer's answer to it threads back by its References
    answer = customer_mail(
        subject="日期", message_id="<c2@example.com>", in_reply_to=queued.message_id
    )
    assert _smtp(port, answer) == (250, f"OK: ticket {number}")
    # the customer's server bounces a later reply: a DSN from <>
    with factory() as session:
        later = service.queue_reply(session, ticket_id=ticket_id, text="收到", actor="agent7")
        session.commit()
    sender.deliver_due(factory, secret=SECRET)
    assert later.message_id is not None
    assert _smtp(port, bounce_of(later.message_id), mail_from="")[0] == 250
    with factory() as session:
        bounced = session.get(EmailMessage, later.id)
        assert bounced is not None
        assert bounced.status == "bounced"
        thread = service.thread_of(session, ticket_id=ticket_id)
    assert [(m["kind"], m["status"]) for m in thread] == [
        ("customer", "received"),
        ("acknowledgement", "sent"),
        ("reply", "sent"),
        ("customer", "received"),
        ("reply", "bounced"),
        ("bounce", "received"),
    ]
    assert thread[0]["attachments"][0]["filename"] == "fault.jpg"


def test_malformed_huge_and_unknown_recipients_are_refused_clearly(
    factory: sessionmaker[Session], receiver: tuple[int, Relay]
) -> None:
    port, _ = receiver
    code, reply = _smtp(port, MALFORMED)
    assert code == 554
    assert "boundary never occurs" in reply
    with factory() as session:
        kept = service.list_quarantine(session)[0]
        assert kept.raw.replace(b"\r\n", b"\n") == MALFORMED.replace(b"\r\n", b"\n")
        before = session.scalars(select(EmailMessage.id)).all()
    code, reply = _smtp(port, customer_mail(attachment=b"x" * LIMIT, message_id="<big@x>"))
    assert code == 552
    assert "0.2 MiB at most per message" in reply
    with factory() as session:
        assert session.scalars(select(EmailMessage.id)).all() == before
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("mx.example.com")
        client.mail("li.lei@example.com")
        code, text = client.rcpt("someone@elsewhere.example.com")
    assert code == 550
    assert b"no such mailbox" in text


def test_the_outbox_keeps_mail_while_the_relay_is_down(
    factory: sessionmaker[Session], relay: tuple[Relay, int]
) -> None:
    down = free_port()  # nothing listens here
    _mailbox(factory, "down@support.example.com", smtp_port=down)
    with factory() as session:
        box = service.get_mailbox(session, address="down@support.example.com")
        opened = service.receive(
            session,
            raw=customer_mail(to="down@support.example.com", message_id="<d1@example.com>"),
            mailbox=box,
            source="smtp",
        )
        session.commit()
    (outcome,) = [o for o in sender.deliver_due(factory, secret=SECRET) if o.status != "sent"]
    assert outcome.status == "queued"
    assert "Connection" in outcome.error
    # the relay is back: the next attempt, when due, goes out
    _mailbox(factory, "down@support.example.com", smtp_port=relay[1])
    later = utcnow() + timedelta(minutes=2)
    assert [o.status for o in sender.deliver_due(factory, secret=SECRET, now=later)] == ["sent"]
    with factory() as session:
        assert opened.ticket_id is not None
        kinds = [
            (m["kind"], m["status"], m["attempts"])
            for m in service.thread_of(session, ticket_id=opened.ticket_id)
        ]
    assert kinds == [("customer", "received", 0), ("acknowledgement", "sent", 2)]


@pytest.fixture
def imap_server() -> Iterator[tuple[MockImapServer, int]]:
    loop = asyncio.new_event_loop()
    server = MockImapServer(loop=loop)
    port = free_port()
    started = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        holder["server"] = loop.run_until_complete(server.run_server(port=port))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    yield server, port

    async def close() -> None:
        holder["server"].close()
        await holder["server"].wait_closed()

    asyncio.run_coroutine_threadsafe(close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def _deliver(server: MockImapServer, raw: bytes) -> None:
    server.receive(Mail(email.message_from_bytes(raw)), imap_user="help-imap")


def test_the_poller_reads_an_imap_mailbox_once(
    factory: sessionmaker[Session], imap_server: tuple[MockImapServer, int]
) -> None:
    server, port = imap_server
    _mailbox(
        factory,
        "imap@support.example.com",
        imap_host="127.0.0.1",
        imap_port=port,
        imap_username="help-imap",
        imap_password="imap-pass",
    )
    to = "imap@support.example.com"
    _deliver(server, customer_mail(to=to, message_id="<i1@example.com>", sender="zhao@example.com"))
    _deliver(server, MALFORMED.replace(b"help@", b"imap@"))
    _deliver(server, customer_mail(to=to, message_id="<i2@x>", attachment=b"y" * LIMIT))
    first = poller.poll(factory, address=to, secret=SECRET)
    assert first.outcomes == {"opened": 1, "quarantined": 1, "refused": 1}
    again = poller.poll(factory, address=to, secret=SECRET)
    assert again.outcomes == {}  # all three are \Seen now: nothing read twice
    with factory() as session:
        latest = service.list_quarantine(session)[0]
    assert latest.source == "imap"
    assert "left on the IMAP server" in latest.reason
    assert b"<i2@x>" in latest.raw
    assert len(latest.raw) < 4096  # only the headers of the huge one


def test_the_web_server_runs_the_channel_and_stops_it(
    factory: sessionmaker[Session], relay: tuple[Relay, int], tmp_path: Path
) -> None:
    """``hotline serve --mail``: the receiver and the outbox live and die with the app."""
    handler, relay_port = relay
    _mailbox(factory, "web@support.example.com", smtp_port=relay_port)
    settings = Settings(home=tmp_path, secret_key=SECRET.decode())
    app = create_app(settings=settings, session_factory=factory)
    port = free_port()
    worker = mail_cli.attach(app, f"127.0.0.1:{port}")
    worker.send_every_s = 0.1
    before = len(handler.received)
    with TestClient(app):
        raw = customer_mail(to="web@support.example.com", message_id="<w1@example.com>")
        code, reply = _smtp(port, raw, to="web@support.example.com")
        assert code == 250, reply
        deadline = time.monotonic() + 10
        while len(handler.received) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [e.rcpt_tos for e in handler.received[before:]] == [["li.lei@example.com"]]
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass
