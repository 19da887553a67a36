"""Readiness: whether this server can serve a contact center now, and if not, why.

A load balancer or service manager sends traffic only to a ready server. "The database
answers a SELECT" is not enough: with a full disk or a read-only database every read works
while logins, ticket creation and the contact event log fail. Ready means every part that
serving needs works now:

* ``database``: a committed write (the ``readiness_probes`` row) in one short transaction;
* ``disk``: free space where the database (SQLite) or the server's home lives is above
  :data:`MIN_FREE_DISK_BYTES` (``HOTLINE_MIN_FREE_DISK_MB``), so the next writes fit;
* ``routing``: the live routing engine's task is running (when the server routes);
* ``voice``: the voice server is running (when ``serve --sip`` started one);
* ``stopping``: the server has not been told to stop (a draining server is not ready).

:func:`check` returns each check's result; ``/ready`` answers 503 with the failing ones.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from hotline.store.db import writing
from hotline.store.models.health import ReadinessProbe

#: Free bytes below which the server stops saying it is ready (default 200 MB).
MIN_FREE_DISK_BYTES = 200 * 1024 * 1024

_PROBE_NAME = socket.gethostname()[:40] + f":{os.getpid()}"


def min_free_disk_bytes() -> int:
    """The free-space bound: ``HOTLINE_MIN_FREE_DISK_MB`` when set, else the default."""
    value = os.environ.get("HOTLINE_MIN_FREE_DISK_MB")
    return int(float(value) * 1024 * 1024) if value else MIN_FREE_DISK_BYTES


def probe_database(session_factory: sessionmaker[Session]) -> str | None:
    """Commit one small write; return why it failed, or ``None`` when it worked."""
    try:
        with writing(session_factory()) as session:
            changed = session.execute(
                update(ReadinessProbe)
                .where(ReadinessProbe.name == _PROBE_NAME)
                .values(checked_at=time.time())
            )
            if getattr(changed, "rowcount", 0) == 0:
                session.add(ReadinessProbe(name=_PROBE_NAME, checked_at=time.time()))
            session.commit()
    except Exception as error:  # any failure to write means "not ready", with the reason
        return f"the database refuses writes: {str(error).splitlines()[0][:200]}"
    return None


def data_directory(session_factory: sessionmaker[Session], home: Path) -> Path:
    """Where the data grows: the SQLite file's folder, else the server's home."""
    bind = session_factory.kw["bind"]
    url = bind.engine.url  # an Engine's .engine is itself; a Connection's is its engine
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).resolve().parent
    return Path(home)


def probe_disk(path: Path, *, minimum: int) -> str | None:
    """Whether ``path``'s file system has at least ``minimum`` bytes free."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < minimum:
        megabyte = 1024 * 1024
        return f"only {free // megabyte} MB free at {path} (needs {minimum // megabyte} MB)"
    return None


def check(app: Any) -> dict[str, str]:
    """Run every readiness check for ``app``; return ``{check: problem}`` for those failing."""
    state = app.state
    problems: dict[str, str] = {}
    if getattr(state, "stopping", False):
        problems["stopping"] = "the server is stopping"
    problem = probe_database(state.session_factory)
    if problem:
        problems["database"] = problem
    home = Path(getattr(state.settings, "home", "."))
    problem = probe_disk(data_directory(state.session_factory, home), minimum=min_free_disk_bytes())
    if problem:
        problems["disk"] = problem
    live = getattr(state, "live", None)
    if live is not None and not live.running:
        problems["routing"] = "the live routing engine is not running"
    voice = getattr(state, "voice", None)
    if voice is not None and getattr(voice, "parts", None) is None:
        problems["voice"] = "the voice server is not running"
    return problems
