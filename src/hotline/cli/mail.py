"""``hotline mail``: the e-mail channel's mailboxes, its SMTP receiver, IMAP poller and outbox.

``hotline mail serve`` receives mail by SMTP (customers' mail servers, or a front MTA that
forwards to it), polls the mailboxes that have an IMAP host, and sends the outbox, until
stopped (Ctrl-C: the receiver closes and the loop ends within a second).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
import yaml
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import sender, service
from hotline.channels.email.settings import MailboxSettings
from hotline.channels.email.worker import MailWorker, poll_all
from hotline.core.errors import HotlineError
from hotline.core.settings import load_settings
from hotline.store.db import make_engine, make_session_factory
from hotline.web.app import load_secret

Settings = TypeVar("Settings", bound=BaseModel)
console = Console()
error_console = Console(stderr=True)
mail_app = typer.Typer(
    help="E-mail: mailboxes, the SMTP receiver, IMAP polling and the outbox.",
    no_args_is_help=True,
)


@contextmanager
def database() -> Iterator[sessionmaker[Session]]:
    """The configured database's session factory; a Hotline error is printed, exit 1."""
    engine = make_engine(load_settings().resolved_database_url())
    try:
        yield make_session_factory(engine)
    except HotlineError as error:
        error_console.print(f"[red]error[/red] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def server_secret() -> bytes:
    """The server's secret (what stored channel credentials are encrypted with)."""
    return load_secret(load_settings())


def _lines(text: str) -> dict[str, int]:
    """The line of each top-level key of a YAML mapping (for located errors)."""
    node = yaml.compose(text)
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(key.value): key.start_mark.line + 1 for key, _ in node.value}


def read_settings(path: Path, model: type[Settings], what: str) -> Settings:
    """A settings file read as ``model``; :class:`typer.Exit` after printing each problem
    located as ``file:line: field: rule`` (``what`` names the settings in messages)."""
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        error_console.print(f"{path}: not YAML: {error}", highlight=False)
        raise typer.Exit(1) from None
    if not isinstance(data, dict):
        error_console.print(f"{path}: must be a mapping of {what} settings", highlight=False)
        raise typer.Exit(1)
    try:
        return model.model_validate(data)
    except ValidationError as failure:
        lines = _lines(text)
        for problem in failure.errors():
            field = ".".join(str(part) for part in problem["loc"]) or f"({what})"
            line = lines.get(field.split(".", 1)[0])
            where = f"{path}:{line}" if line else str(path)
            error_console.print(
                f"{where}: {field}: {problem['msg']}", highlight=False, soft_wrap=True
            )
        error_console.print("nothing was saved")
        raise typer.Exit(1) from None


def read_mailbox(path: Path) -> MailboxSettings:
    """A mailbox file's settings; :class:`typer.Exit` after printing each located problem."""
    return read_settings(path, MailboxSettings, "mailbox")


@mail_app.command("mailbox")
def mailbox(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="YAML mailbox settings."),
) -> None:
    """Create or update a mailbox from a YAML file (passwords are stored encrypted)."""
    settings = read_mailbox(file)
    with database() as factory, factory() as session:
        box = service.save_mailbox(session, settings=settings, secret=server_secret(), actor="cli")
        session.commit()
        console.print(f"mailbox {box.address} saved")


@mail_app.command("mailboxes")
def mailboxes() -> None:
    """List the mailboxes (passwords only as set or not)."""
    table = Table("address", "queue", "smtp relay", "imap", "limit (MiB)", "active")
    with database() as factory, factory() as session:
        for box in service.list_mailboxes(session):
            table.add_row(
                box.address,
                box.queue or "–",
                f"{box.smtp_host}:{box.smtp_port}" if box.smtp_host else "–",
                f"{box.imap_host}:{box.imap_port}" if box.imap_host else "–",
                f"{box.max_message_bytes / 1024 / 1024:.1f}",
                "yes" if box.active else "no",
            )
    console.print(table)


@mail_app.command("quarantine")
def quarantine() -> None:
    """List the received messages that could not be read, with the reason."""
    table = Table("id", "received", "mailbox", "source", "bytes", "reason")
    with database() as factory, factory() as session:
        for row in service.list_quarantine(session):
            table.add_row(
                str(row.id),
                row.received_at.isoformat(timespec="seconds"),
                row.mailbox,
                row.source,
                str(row.size),
                row.reason,
            )
    console.print(table)


@mail_app.command("poll")
def poll() -> None:
    """Read every active mailbox that has an IMAP host once."""
    with database() as factory:
        for address, outcomes in poll_all(factory, secret=server_secret()).items():
            console.print(f"{address}: {outcomes or 'nothing new'}")


@mail_app.command("send")
def send() -> None:
    """Hand every due message of the outbox to its mailbox's relay once."""
    with database() as factory:
        outcomes = sender.deliver_due(factory, secret=server_secret())
    for outcome in outcomes:
        console.print(f"message {outcome.email_id}: {outcome.status} {outcome.error}".strip())
    console.print(f"{len(outcomes)} message(s) tried")


def parse_address(value: str, *, option: str) -> tuple[str, int]:
    """``host:port`` of an option; :class:`typer.BadParameter` naming the option otherwise."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise typer.BadParameter(f"expected host:port, got {value!r}", param_hint=option)
    return host, int(port)


@mail_app.command("serve")
def serve(
    listen: str = typer.Option("127.0.0.1:2525", "--listen", help="SMTP listen host:port."),
    every: float = typer.Option(30.0, "--every", min=1.0, help="Seconds between IMAP polls."),
) -> None:
    """Receive mail by SMTP, poll the IMAP mailboxes and send the outbox until stopped."""
    host, port = parse_address(listen, option="--listen")
    with database() as factory:
        worker = MailWorker(
            factory, secret=server_secret(), host=host, port=port, poll_every_s=every
        )

        async def run() -> None:
            await worker.start()
            console.print(f"receiving SMTP on {host}:{port}; Ctrl-C stops")
            try:
                await asyncio.Event().wait()
            finally:
                await worker.stop()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run())


def attach(app: Any, listen: str) -> MailWorker:
    """Run the e-mail channel inside the web server (``hotline serve --mail host:port``)."""
    host, port = parse_address(listen, option="--mail")
    worker = MailWorker(app.state.session_factory, secret=app.state.secret, host=host, port=port)
    app.state.mail = worker
    app.state.on_start.append(worker.start)
    app.state.on_stop.append(worker.stop)
    return worker


def register(app: typer.Typer) -> None:
    """Add ``hotline mail`` to the command line."""
    app.add_typer(mail_app, name="mail")
