"""``hotline sms``: the SMSC gateway, sending one SMS, and the messages sent.

``hotline sms gateway FILE`` keeps the gateway's settings from YAML (the password stored
encrypted; problems located as ``file:line: field: rule``, nothing saved); ``hotline sms send
--to N --text T --purpose P`` binds to the SMSC, sends through ``send_sms`` (do-not-call lists
and quiet hours honoured), waits a little for the delivery receipts and records them;
``hotline sms messages`` lists what was sent and what became of it.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from hotline.channels.sms import service
from hotline.channels.sms.rules import PURPOSES
from hotline.channels.sms.settings import GatewaySettings
from hotline.channels.sms.smpp import SmppGateway
from hotline.channels.sms.text import Receipt
from hotline.cli.mail import console, database, error_console, read_settings, server_secret

sms_app = typer.Typer(help="SMS: the SMSC gateway (SMPP 3.4) and the messages sent.")


def _now() -> datetime:
    """The wall clock (quiet hours are judged by it)."""
    return datetime.now(UTC)


@sms_app.command("gateway")
def gateway(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="YAML gateway settings."),
) -> None:
    """Create or update the SMSC gateway from a YAML file (the password stored encrypted)."""
    settings = read_settings(file, GatewaySettings, "SMS gateway")
    with database() as factory, factory() as session:
        row = service.save_gateway(session, settings=settings, secret=server_secret(), actor="cli")
        session.commit()
        console.print(f"SMS gateway {row.name} saved: {row.host}:{row.port} as {row.system_id}")


@sms_app.command("send")
def send(
    to: str = typer.Option(..., help="The customer's mobile number."),
    text: str = typer.Option(..., help="The message (Chinese goes as UCS-2, long ones in parts)."),
    purpose: str = typer.Option("notice", help=f"One of: {', '.join(PURPOSES)}."),
    wait: float = typer.Option(5.0, help="Seconds to wait for the delivery receipts."),
) -> None:
    """Send one SMS through the gateway, honouring do-not-call lists and quiet hours."""
    receipts: list[Receipt] = []
    arrived = threading.Event()

    def on_receipt(receipt: Receipt) -> None:
        receipts.append(receipt)
        arrived.set()

    with database() as factory, factory() as session:
        settings = service.gateway_settings(session, secret=server_secret())
        smpp = SmppGateway.of(settings, on_message=lambda sms: None, on_receipt=on_receipt)
        smpp.start()
        try:
            if not smpp.wait_bound(10):
                error_console.print(f"the SMSC {settings.host}:{settings.port} did not bind")
                raise typer.Exit(1)
            try:
                outcome = service.send_sms(
                    session=session,
                    gateway=smpp,
                    to=to,
                    text=text,
                    purpose=purpose,
                    actor="cli",
                    now=_now(),
                )
            except ValueError as problem:
                error_console.print(str(problem), highlight=False)
                raise typer.Exit(1) from None
            session.commit()
            deadline = time.monotonic() + wait
            while outcome.status == "sent" and len(receipts) < outcome.parts:
                left = deadline - time.monotonic()
                if left <= 0 or not arrived.wait(left):
                    break
                arrived.clear()
        finally:
            smpp.stop()
        for receipt in receipts:
            service.note_receipt(session, receipt=receipt)
        session.commit()
        [kept] = [m for m in service.messages(session) if m.id == outcome.id]
        console.print(f"SMS {kept.id} to {to}: {kept.status} {kept.reason}".rstrip())
        if kept.status in ("refused", "failed"):
            raise typer.Exit(1)


@sms_app.command("messages")
def messages() -> None:
    """The messages sent or refused, oldest first."""
    table = Table("id", "to", "purpose", "status", "reason", "parts")
    with database() as factory, factory() as session:
        for message in service.messages(session):
            parts = len(message.message_ids.split(",")) if message.message_ids else 0
            table.add_row(
                str(message.id),
                message.to_number,
                message.purpose,
                message.status,
                message.reason or "–",
                str(parts),
            )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``hotline sms`` to the command line."""
    app.add_typer(sms_app, name="sms")
