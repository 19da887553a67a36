"""``hotline wechat``: the WeChat official accounts whose followers write to the center.

``hotline wechat account FILE`` creates or updates an account from YAML (``app_id``, ``token``,
``encoding_aes_key``, ``app_secret``, ``queue``; secrets are stored encrypted, a problem is
printed as ``file:line: field: rule`` and nothing is saved); ``hotline wechat accounts`` lists
them with their secrets only as set or not, and the pushes kept per status.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.table import Table

from hotline.channels.wechat import service
from hotline.channels.wechat.settings import WeChatSettings
from hotline.cli.mail import console, database, error_console, read_settings, server_secret

wechat_app = typer.Typer(help="WeChat official accounts: followers' messages as chats.")


@wechat_app.command("account")
def account(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="YAML account settings."),
) -> None:
    """Create or update an official account from a YAML file (secrets stored encrypted)."""
    settings = read_settings(file, WeChatSettings, "WeChat account")
    with database() as factory, factory() as session:
        try:
            saved = service.save_account(
                session, settings=settings, secret=server_secret(), actor="cli"
            )
        except ValueError as problem:
            error_console.print(f"{file}: {problem}; nothing was saved", highlight=False)
            raise typer.Exit(1) from None
        session.commit()
        console.print(f"WeChat account {saved.app_id} saved; push URL: /wechat/push/{saved.app_id}")


@wechat_app.command("accounts")
def accounts() -> None:
    """List the accounts (secrets only as set or not) and the pushes kept, by status."""
    table = Table("AppID", "queue", "safe mode", "secrets set", "active", "pushes")
    with database() as factory, factory() as session:
        kept: dict[str, Counter[str]] = {}
        for push in service.pushes(session):
            kept.setdefault(push.app_id, Counter())[push.status] += 1
        for row in service.list_accounts(session):
            view = service.account_view(row)
            secrets = [
                name
                for name, key in (
                    ("Token", "token_set"),
                    ("EncodingAESKey", "encoding_aes_key_set"),
                    ("AppSecret", "app_secret_set"),
                )
                if view[key]
            ]
            counts = kept.get(row.app_id, Counter())
            table.add_row(
                row.app_id,
                row.queue,
                "yes" if view["safe_mode"] else "no",
                ", ".join(secrets) or "–",
                "yes" if row.active else "no",
                ", ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "–",
            )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``hotline wechat`` to the command line."""
    app.add_typer(wechat_app, name="wechat")
