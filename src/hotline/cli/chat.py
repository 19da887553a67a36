"""``hotline chat``: the web chat's settings kept in the database, not the center file.

``hotline chat login-secret --generate`` (or ``--file PATH``: the secret on the file's first
line) sets the secret the company's web site signs its signed-in customers' chat tokens with
(:mod:`hotline.channels.chat.login`); it is stored encrypted and audited, and a generated one
is printed once, for the site's developers. ``hotline chat login-secret --show`` says whether
one is set, by whom and when — never the secret.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import typer

from hotline.channels.chat import service
from hotline.cli.mail import console, database, error_console, server_secret
from hotline.core.errors import ValidationFailed

chat_app = typer.Typer(help="Web chat: the login secret of signed-in visitors.")


@chat_app.command("login-secret")
def login_secret(
    generate: bool = typer.Option(False, "--generate", help="Make a new random secret."),
    file: Path | None = typer.Option(
        None, "--file", exists=True, dir_okay=False, help="A file whose first line is the secret."
    ),
    show: bool = typer.Option(False, "--show", help="Say whether one is set (not the secret)."),
) -> None:
    """Set the chat login secret (stored encrypted), or show whether one is set."""
    if show:
        with database() as factory, factory() as session:
            row = service.login_secret_set(session=session)
            if row is None:
                console.print("no chat login secret is set: login tokens identify nobody")
            else:
                console.print(f"set by {row.updated_by} at {row.updated_at.isoformat()}")
        return
    if generate == (file is not None):
        error_console.print("give one of --generate or --file PATH (or --show)")
        raise typer.Exit(2)
    if file is not None:
        lines = file.read_text(encoding="utf-8").splitlines()
        secret = lines[0] if lines else ""
    else:
        secret = secrets.token_hex(32)
    with database() as factory, factory() as session:
        try:
            service.set_login_secret(
                session=session, secret=secret, server_secret=server_secret(), actor="cli"
            )
        except ValidationFailed as refused:
            where = f"{file}:1: " if file is not None else ""
            error_console.print(
                f"{where}{refused}; nothing was saved", highlight=False, soft_wrap=True
            )
            raise typer.Exit(1) from None
        session.commit()
    console.print("chat login secret saved (stored encrypted)")
    if generate:
        console.print(
            f"give it to the web site's developers, once: {secret}", highlight=False, soft_wrap=True
        )


def register(app: typer.Typer) -> None:
    """Add ``hotline chat`` to the command line."""
    app.add_typer(chat_app, name="chat")
