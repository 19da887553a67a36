"""More than one node and the system of record's safety: ``node``, ``backup``, ``restore``.

Start the same command on several machines (or several times on one) against the same
PostgreSQL: one node owns the partition and routes, the others stand by and take over within
a lease (``--lease-s``) when it dies or is cut off. Run ``hotline init`` once first: nodes do
not migrate the schema, so two of them starting together never race on it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from hotline.cli.platform import center_path
from hotline.core.settings import load_settings
from hotline.store.db import make_engine, make_session_factory

error_console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add the cluster commands to the ``hotline`` command."""
    app.command("node")(node)
    app.command("backup")(backup)
    app.command("restore")(restore)


def backup(
    path: Path = typer.Argument(..., help="File to write (pg_dump custom format, or SQLite)."),
) -> None:
    """Back up the database (HOTLINE_DATABASE_URL) while the center keeps working."""
    from hotline.store import backup as backups

    url = load_settings().resolved_database_url()
    try:
        done = backups.backup(url, path)
    except backups.BackupFailed as error:
        error_console.print(f"[red]error[/red] {error}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from error
    print(f"backed up {done.tables} tables ({done.kind}) to {done.path}: {done.size_bytes} bytes")


def restore(
    path: Path = typer.Argument(..., help="A file written by `hotline backup`."),
) -> None:
    """Restore a backup into the (empty) database HOTLINE_DATABASE_URL names."""
    from hotline.store import backup as backups

    url = load_settings().resolved_database_url()
    try:
        done = backups.restore(url, path)
    except backups.BackupFailed as error:
        error_console.print(f"[red]error[/red] {error}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from error
    print(f"restored {done.tables} tables ({done.kind}) from {done.path}")


def node(
    partition: str = typer.Option(..., "--partition", help="The site this node routes."),
    name: str = typer.Option(
        "", "--name", help="This node's name in the lease (default: host name and process id)."
    ),
    center: Path | None = typer.Option(None, "--center", help="Center configuration (YAML)."),
    lease_s: float = typer.Option(
        2.0, "--lease-s", help="How long a lease lasts unrenewed: the longest takeover wait."
    ),
    poll_s: float = typer.Option(
        0.05, "--poll-s", help="How often the owner reads its inbox and writes its events."
    ),
    inbox_keep_s: float = typer.Option(
        300.0,
        "--inbox-keep-s",
        help="How long the owner keeps inbox rows it has applied before deleting them.",
    ),
) -> None:
    """Route one partition while this node holds its lease; stand by otherwise.

    Prints one JSON line each time the node's role changes (standby, owner, stepped_down,
    stopped). SIGTERM or SIGINT hands the partition over at once.
    """
    from hotline.config.validate import load_center
    from hotline.live.ownership import PartitionNode

    settings = load_settings()
    url = settings.resolved_database_url()
    path = center_path(settings.home, center)
    try:
        center_config = load_center(path)
    except Exception as error:
        error_console.print(f"[red]error[/red] center configuration {path} is not valid:\n{error}")
        raise typer.Exit(1) from error
    engine = make_engine(url)
    name = name or f"{socket.gethostname()}-{os.getpid()}"

    def tell(state: str, details: dict[str, Any]) -> None:
        print(json.dumps({"node": name, "state": state, **details}), flush=True)

    try:
        runner = PartitionNode(
            center=center_config,
            partition=partition,
            name=name,
            session_factory=make_session_factory(engine),
            lease_s=lease_s,
            poll_s=poll_s,
            on_state=tell,
            inbox_keep_s=inbox_keep_s,
        )
    except ValueError as error:  # a partition that is no site, a lease too short
        error_console.print(f"[red]error[/red] {error}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await runner.run(stop)

    asyncio.run(main())
    engine.dispose()
