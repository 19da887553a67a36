"""Backups of the system of record: ``pg_dump``/``pg_restore``, or SQLite's online backup.

PostgreSQL is backed up with its own tools, in ``pg_dump``'s custom format (compressed, one
consistent snapshot taken while the center keeps working) and restored with ``pg_restore``
into an *empty* database. An embedded SQLite database is copied with SQLite's online backup
API, page by page, consistent even while the server writes. Neither is home-made: both are the
engines' documented ways.

Restoring refuses a database that already has tables: a restore is for a fresh database (a
new machine, a disaster-recovery site), never a way to overwrite the live one by accident.

>>> import tempfile, pathlib
>>> from hotline.store.db import libpq_url, make_engine, sqlalchemy_url
>>> from hotline.store.migrate import upgrade
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> upgrade(make_engine(f"sqlite:///{folder}/live.db"))
>>> backup(f"sqlite:///{folder}/live.db", folder / "copy.db").kind
'sqlite'
>>> restore(f"sqlite:///{folder}/fresh.db", folder / "copy.db").tables > 10
True
"""

from __future__ import annotations

import glob
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, make_url

from hotline.store.db import libpq_url, make_engine, sqlalchemy_url


class BackupFailed(RuntimeError):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    """What was backed up or restored, and where."""

    kind: str
    path: Path
    tables: int
    size_bytes: int


def _tool(name: str) -> str:
    """The newest installed PostgreSQL client program ``name`` (pg_dump must not be older)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path is None:
        raise BackupFailed(f"{name} is not installed (scripts/system-deps.sh postgres)")
    return on_path


def _libpq(url: str) -> str:
    """The URL as libpq reads it (no SQLAlchemy driver suffix; several hosts in the authority)."""
    return libpq_url(url)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupFailed("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _tables(url: str) -> int:
    engine = make_engine(url)
    try:
        return len(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def backup(url: str, path: Path) -> BackupResult:
    """Write a consistent backup of the database at ``url`` to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    name = make_url(sqlalchemy_url(url)).get_backend_name()
    if name == "postgresql":
        done = subprocess.run(
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(path), _libpq(url)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BackupFailed(f"pg_dump failed: {done.stderr.strip()}")
        return BackupResult("postgresql", path, _tables(url), path.stat().st_size)
    if name == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupFailed(f"{source}: no such database file")
        with sqlite3.connect(source) as live, sqlite3.connect(path) as copy:
            live.backup(copy)
        return BackupResult("sqlite", path, _tables(url), path.stat().st_size)
    raise BackupFailed(f"cannot back up a {name} database (PostgreSQL or SQLite)")


def restore(url: str, path: Path) -> BackupResult:
    """Restore the backup at ``path`` into the empty database at ``url``."""
    path = Path(path)
    if not path.exists():
        raise BackupFailed(f"{path}: no such backup file")
    name = make_url(sqlalchemy_url(url)).get_backend_name()
    if name == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
    present = _tables(url)
    if present:
        shown = make_url(sqlalchemy_url(url)).render_as_string(hide_password=True)
        raise BackupFailed(
            f"the database at {shown} already has {present} tables: restore into an empty database"
        )
    if name == "postgresql":
        done = subprocess.run(
            [
                _tool("pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                _libpq(url),
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BackupFailed(f"pg_restore failed: {done.stderr.strip()}")
        return BackupResult("postgresql", path, _tables(url), path.stat().st_size)
    if name == "sqlite":
        try:
            with sqlite3.connect(path) as copy, sqlite3.connect(target) as fresh:
                copy.execute("PRAGMA schema_version").fetchone()  # refuses a non-SQLite file
                copy.backup(fresh)
        except sqlite3.DatabaseError as error:
            raise BackupFailed(f"{path} is not a SQLite backup: {error}") from None
        return BackupResult("sqlite", path, _tables(url), path.stat().st_size)
    raise BackupFailed(f"cannot restore into a {name} database (PostgreSQL or SQLite)")
