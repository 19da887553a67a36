"""A PostgreSQL primary and its streaming-replication standby on loopback, run by Patroni.

The disaster-recovery site of issue #20 in miniature, for the primary-kill fault test and
``bench/db_failover.py``: one etcd (Patroni's consensus store: who leads is a key with a
time to live, so two members can never both believe they lead) and two Patroni-managed
PostgreSQL members on 127.0.0.1, ports from the kernel, data under one folder. Patroni
initialises the first member, the second clones it with ``pg_basebackup`` and follows it by
streaming replication. Nothing here decides who is primary: Patroni does, and this module only
starts the processes, waits on Patroni's REST API (``/primary``, ``/replica``, ``/sync``)
and hands out the libpq multi-host URL the product connects with.

With ``synchronous=True`` Patroni's ``synchronous_mode`` names the standby in
``synchronous_standby_names``: a commit returns only once the standby has flushed it, and
Patroni promotes only that synchronous standby, so a committed row survives the primary's
death. Without it (asynchronous) a commit returns at once; what the primary had committed but
not yet streamed when it died is lost on promotion — at most ``maximum_lag_on_failover``
bytes of WAL (Patroni refuses to promote a standby further behind), in practice the last few
milliseconds of commits.

``primary_start_timeout: 0`` makes Patroni fail over as soon as it finds its PostgreSQL
crashed instead of restarting it in place (its default waits 300 s for the old primary to
recover); the old member then rejoins as a standby, rewound with ``pg_rewind`` where its
timeline diverged.

    with PostgresCluster() as cluster:
        url = cluster.url("hotline")   # postgresql+psycopg://hotline@127.0.0.1:p1,127.0.0.1:p2/…
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

#: The database superuser Patroni creates (trust authentication on loopback only).
SUPERUSER = "hotline"


def free_port() -> int:
    """A TCP port on 127.0.0.1 the kernel says is free now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_bin() -> Path:
    """Debian's newest PostgreSQL server programs (``/usr/lib/postgresql/<version>/bin``)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda path: int(path.parent.parent.name),
    )
    if not found:
        raise FileNotFoundError("PostgreSQL is not installed (scripts/system-deps.sh postgres)")
    return found[-1].parent


def missing_programs() -> list[str]:
    """The programs this cluster needs that are not installed (empty when all are)."""
    wanted = ["patroni", "etcd"]
    absent = [name for name in wanted if shutil.which(name) is None]
    if not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        absent.append("postgresql")
    return absent


def multi_host_url(ports: list[int], database: str, *, user: str = SUPERUSER) -> str:
    """The database URL that reaches whichever of ``ports`` is the primary now.

    libpq tries the hosts in order and, with ``target_session_attrs=read-write``, keeps the
    first one that accepts writes: after a promotion a new connection lands on the new
    primary without anyone changing the configuration (``HOTLINE_DATABASE_URL`` takes this
    form; :func:`hotline.store.db.sqlalchemy_url` spells it SQLAlchemy's way).

    >>> multi_host_url([5432, 5433], "hotline")
    'postgresql+psycopg://hotline@127.0.0.1:5432,127.0.0.1:5433/hotline?target_session_attrs=read-write'
    """
    hosts = ",".join(f"127.0.0.1:{port}" for port in ports)
    return f"postgresql+psycopg://{user}@{hosts}/{database}?target_session_attrs=read-write"


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run as the ``postgres`` system user when we are."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _get(url: str, *, timeout_s: float = 1.0) -> tuple[int, dict[str, Any]]:
    """GET a Patroni or etcd REST endpoint: (status, JSON body); (0, {}) when unreachable."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as refused:  # Patroni answers 503 for "not that role"
        try:
            body = json.loads(refused.read() or b"{}")
        except ValueError:
            body = {}
        return refused.code, body
    except (OSError, ValueError):
        return 0, {}


def wait_for(
    check: Callable[[], Any],
    *,
    timeout_s: float,
    every_s: float = 0.02,
    what: str = "",
    describe: Callable[[], str] | None = None,
) -> Any:
    """Poll ``check`` until it returns something true; ``TimeoutError`` after ``timeout_s``
    (its message ends with ``describe()``: what the processes looked like then)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            state = f"; {describe()}" if describe is not None else ""
            raise TimeoutError(f"waited {timeout_s:g} s for {what or check}{state}")
        time.sleep(every_s)


@dataclass
class Member:
    """One Patroni-managed PostgreSQL member."""

    name: str
    port: int
    rest_port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = field(default=None, repr=False)

    def role(self) -> str:
        """``primary``, ``replica`` or ``down`` as Patroni's REST API reports it now."""
        status, body = _get(f"http://127.0.0.1:{self.rest_port}/patroni")
        if status == 0 or body.get("state") != "running":
            return "down"
        return "primary" if body.get("role") in ("master", "primary") else "replica"

    def answers(self, endpoint: str) -> bool:
        """Whether Patroni answers 200 on ``endpoint`` (``/primary``, ``/replica``, ``/sync``…)."""
        return _get(f"http://127.0.0.1:{self.rest_port}{endpoint}")[0] == 200

    def postmaster_pid(self) -> int:
        """The PostgreSQL server's process id (``postmaster.pid``'s first line)."""
        return int((self.folder / "data/postmaster.pid").read_text().split()[0])


class PostgresCluster:
    """etcd and two Patroni members on loopback; see the module's docstring."""

    def __init__(self, *, synchronous: bool = True, ttl_s: int = 10) -> None:
        # Its own folder under /tmp, as scripts/postgres.sh does: run as root, the members
        # run as ``postgres``, who cannot enter a test's private tmp_path.
        self.home = Path(tempfile.mkdtemp(prefix="hotline-pgcluster."))
        self.synchronous = synchronous
        self.ttl_s = ttl_s
        self.scope = f"hotline-{os.getpid()}-{free_port()}"
        self.etcd_port = free_port()
        self.etcd_peer_port = free_port()
        self.members = [
            Member(
                name=f"site{n}",
                port=free_port(),
                rest_port=free_port(),
                folder=self.home / f"site{n}",
            )
            for n in (1, 2)
        ]
        self._etcd: subprocess.Popen[bytes] | None = None
        self._etcd_log: IO[bytes] | None = None

    def __enter__(self) -> PostgresCluster:
        try:
            self.start()
        except BaseException:
            self.stop(keep_logs=True)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        # After a failure the folder (Patroni's, PostgreSQL's and etcd's logs) stays.
        self.stop(keep_logs=kind is not None)

    def url(self, database: str) -> str:
        """The multi-host URL of ``database`` (see :func:`multi_host_url`)."""
        return multi_host_url([member.port for member in self.members], database)

    def start(self, *, timeout_s: float = 60.0) -> None:
        """Start etcd and both members; return once one is primary (it takes writes).

        The other is still cloning it meanwhile: :meth:`wait_streaming` waits for it to
        follow (a caller sets its database up in the meantime). Until it does, a synchronous
        primary commits alone (Patroni's ``synchronous_mode``, not ``_strict``); the clone
        and the stream then carry those commits over before Patroni names it synchronous.
        """
        absent = missing_programs()
        if absent:
            raise FileNotFoundError(
                f"not installed: {', '.join(absent)} (scripts/system-deps.sh replication)"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            subprocess.run(["chown", "postgres", str(self.home)], check=True)
        self._start_etcd(timeout_s=timeout_s)
        for member in self.members:
            self.start_member(member)
        self.wait_primary(timeout_s=timeout_s)

    def _start_etcd(self, *, timeout_s: float) -> None:
        folder = self.home / "etcd"
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        client = f"http://127.0.0.1:{self.etcd_port}"
        self._etcd_log = (self.home / "etcd.log").open("wb")
        self._etcd = subprocess.Popen(
            [
                "etcd",
                "--name=dcs",
                f"--data-dir={folder}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=dcs={peer}",
                "--initial-cluster-state=new",
                # Patroni keeps a handful of keys; the default 2 GiB quota is for real clusters.
                "--quota-backend-bytes=67108864",
            ],
            stdout=self._etcd_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(
            lambda: _get(f"{client}/health")[1].get("health") == "true",
            timeout_s=timeout_s,
            what=f"etcd on {client} (log: {self.home / 'etcd.log'})",
        )

    def _config(self, member: Member) -> dict[str, Any]:
        bootstrap_dcs: dict[str, Any] = {
            "ttl": self.ttl_s,
            "loop_wait": 1,
            "retry_timeout": 3,
            "maximum_lag_on_failover": 1048576,
            "primary_start_timeout": 0,
            "synchronous_mode": self.synchronous,
            "postgresql": {
                "use_pg_rewind": True,
                "use_slots": True,
                "parameters": {
                    "wal_level": "replica",
                    "hot_standby": "on",
                    "wal_log_hints": "on",  # pg_rewind needs it (or data checksums)
                    "max_wal_senders": 5,
                    "max_replication_slots": 5,
                    "max_connections": 100,
                    # A test machine: the operating system survives a kill -9 of PostgreSQL,
                    # so its page cache keeps what fsync would have forced to disk.
                    "fsync": "off",
                    "full_page_writes": "on",
                },
            },
        }
        return {
            "scope": self.scope,
            "name": member.name,
            "log": {"level": "INFO", "dir": str(member.folder), "file_num": 1},
            "restapi": {
                "listen": f"127.0.0.1:{member.rest_port}",
                "connect_address": f"127.0.0.1:{member.rest_port}",
            },
            "etcd3": {"hosts": [f"127.0.0.1:{self.etcd_port}"]},
            "bootstrap": {
                "dcs": bootstrap_dcs,
                "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{member.port}",
                "connect_address": f"127.0.0.1:{member.port}",
                "data_dir": str(member.folder / "data"),
                "bin_dir": str(postgres_bin()),
                "pgpass": str(member.folder / "pgpass"),
                "authentication": {
                    "superuser": {"username": SUPERUSER, "password": "loopback-trust"},
                    "replication": {"username": "replicator", "password": "loopback-trust"},
                },
                "pg_hba": [
                    "local all all trust",
                    "host all all 127.0.0.1/32 trust",
                    "host replication all 127.0.0.1/32 trust",
                ],
                "parameters": {"unix_socket_directories": str(member.folder)},
                # pg_basebackup's default waits for a *spread* checkpoint: minutes when the
                # primary has just been migrated (many dirty pages) while the standby clones.
                "basebackup": {"checkpoint": "fast"},
            },
        }

    def start_member(self, member: Member) -> None:
        """Start (or restart) ``member``'s Patroni, which starts its PostgreSQL."""
        member.folder.mkdir(parents=True, exist_ok=True)
        config = member.folder / "patroni.yml"
        # JSON is YAML: no YAML writer needed in the project's environment.
        config.write_text(json.dumps(self._config(member), indent=2))
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres", str(member.folder)], check=True)
            os.chmod(member.folder, 0o700)
        if member.log is not None:
            member.log.close()
        member.log = (member.folder / "patroni.out").open("ab")
        member.process = subprocess.Popen(
            _as_postgres(["patroni", str(config)]),
            stdout=member.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def primary(self) -> Member | None:
        """The member Patroni's REST API names primary now, if any."""
        return next((m for m in self.members if m.answers("/primary")), None)

    def wait_primary(self, *, timeout_s: float = 60.0, other_than: Member | None = None) -> Member:
        """Wait until a member (not ``other_than``) is primary; return it."""

        def found() -> Member | None:
            leader = self.primary()
            return leader if leader is not None and leader is not other_than else None

        result: Member = wait_for(
            found, timeout_s=timeout_s, every_s=0.05, what="a primary", describe=self.describe
        )
        return result

    def wait_streaming(self, *, timeout_s: float = 60.0) -> Member:
        """Wait until one member is primary and every other streams from it (and is its
        synchronous standby in synchronous mode); return the primary.

        Patroni's ``/replica`` says only that a member runs as a replica: one just rewound
        may not have connected its stream yet (over a slow link, seconds), so the primary's
        own view (``pg_stat_replication`` in its ``/patroni``) must show it streaming too.
        """
        follow = "/sync" if self.synchronous else "/replica"

        def ready() -> Member | None:
            leader = self.primary()
            if leader is None:
                return None
            others = [m for m in self.members if m is not leader]
            if not all(m.answers(follow) for m in others):
                return None
            streaming = {
                r.get("application_name")
                for r in _get(f"http://127.0.0.1:{leader.rest_port}/patroni")[1].get(
                    "replication", []
                )
                if r.get("state") == "streaming"
            }
            return leader if all(m.name in streaming for m in others) else None

        result: Member = wait_for(
            ready,
            timeout_s=timeout_s,
            every_s=0.05,
            what=f"a primary and a {follow} standby",
            describe=self.describe,
        )
        return result

    def describe(self) -> str:
        """Each member's role now and the end of its Patroni log (for a failure's message)."""
        roles = ", ".join(f"{m.name}={m.role()}" for m in self.members)
        tails = "".join(
            f"\n--- {m.name}:\n{_tail(m.folder / 'patroni.log')}{_tail(m.folder / 'patroni.out')}"
            for m in self.members
        )
        return f"{roles}; logs under {self.home}{tails}"

    def kill_postmaster(self, member: Member) -> int:
        """``kill -9`` ``member``'s PostgreSQL server (Patroni stays up); return its pid."""
        pid = member.postmaster_pid()
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_site(self, member: Member) -> int:
        """``kill -9`` ``member``'s Patroni *and* its PostgreSQL together, as when the whole
        site (its machine, its power, its link) is lost; return the postmaster's pid.

        With its Patroni dead nobody releases or renews the leader key: the standby's Patroni
        promotes only once the key's time to live (``ttl_s``) has run out. Patroni starts
        PostgreSQL in a session of its own (so it may outlive Patroni), hence two kills.
        :meth:`start_member` brings the site back; it rejoins as a standby.
        """
        pid = member.postmaster_pid()
        if member.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(member.process.pid, signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)
        if member.process is not None:
            member.process.wait(timeout=10)
        return pid

    def stop(self, *, keep_logs: bool = False) -> None:
        """Stop every member and etcd (kill their process groups); remove the folder unless
        ``keep_logs``."""
        for member in self.members:
            if member.process is not None and member.process.poll() is None:
                _kill_group(member.process)
            self._kill_postgres(member)
            if member.log is not None:
                member.log.close()
                member.log = None
        if self._etcd is not None and self._etcd.poll() is None:
            _kill_group(self._etcd)
        if self._etcd_log is not None:
            self._etcd_log.close()
            self._etcd_log = None
        if not keep_logs:
            shutil.rmtree(self.home, ignore_errors=True)

    def _kill_postgres(self, member: Member) -> None:
        """PostgreSQL runs in Patroni's session but may outlive it: stop it by its pid file."""
        try:
            pid = member.postmaster_pid()
        except (OSError, ValueError, IndexError):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a log file ("" when there is none)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process started in its own session, with its children, and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
