"""The IMAP poller against Dovecot, a real IMAP server, on 127.0.0.1.

Dovecot runs from a configuration of its own in a temporary folder (plaintext login on
loopback, one user in a passwd file, Maildir), started by the test as root (its master process
changes to the ``dovecot`` user for the mailbox). Messages arrive by IMAP ``APPEND``, as a
mail server's delivery would leave them: a customer's mail, a malformed one and a huge one.
The poller opens a ticket for the first, quarantines the second, and leaves the third on the
server flagged, its size known before download (``RFC822.SIZE``) and only its headers fetched.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it; ``scripts/system-deps.sh mail`` installs
Dovecot).
"""

from __future__ import annotations

import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import poller, service
from hotline.channels.email.settings import MailboxSettings
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from tests.unit.channels.mail_samples import MALFORMED, customer_mail

pytestmark = pytest.mark.e2e
DOVECOT = "/usr/sbin/dovecot"
SECRET = b"dovecot-test-secret"
LIMIT = 256 * 1024
CONFIG = """\
base_dir = {root}/run
state_dir = {root}/run
instance_name = hotline-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def dovecot() -> Iterator[int]:
    if os.environ.get("HOTLINE_E2E") != "1":
        pytest.skip("end-to-end tests with real peers run with HOTLINE_E2E=1 (make test sets it)")
    if not Path(DOVECOT).exists():
        pytest.fail("HOTLINE_E2E=1 but Dovecot is missing: run scripts/system-deps.sh mail")
    if os.geteuid() != 0:
        pytest.fail("Dovecot's master process needs root to serve the mailbox as 'dovecot'")
    root = Path(tempfile.mkdtemp(prefix="hotline-dovecot-"))
    root.chmod(0o755)  # the login and mail processes run as other users
    (root / "run").mkdir()
    (root / "mail").mkdir()
    shutil.chown(root / "mail", "dovecot", "dovecot")
    (root / "passwd").write_text("help:{PLAIN}imap-pass\n", encoding="utf-8")
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port), encoding="utf-8")
    subprocess.run([DOVECOT, "-c", str(config)], check=True, timeout=30)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text(encoding="utf-8", errors="replace")
                pytest.fail(f"Dovecot did not start:\n{log}")
            time.sleep(0.1)
    yield port
    subprocess.run([DOVECOT, "-c", str(config), "stop"], check=False, timeout=30)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('dovecot') / 'hotline.db'}")
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def test_the_poller_reads_a_dovecot_mailbox(dovecot: int, factory: sessionmaker[Session]) -> None:
    address = "help@support.example.com"
    with factory() as session:
        service.save_mailbox(
            session,
            settings=MailboxSettings(
                address=address,
                imap_host="127.0.0.1",
                imap_port=dovecot,
                imap_username="help",
                imap_password="imap-pass",
                max_message_bytes=LIMIT,
            ),
            secret=SECRET,
            actor="test",
        )
        session.commit()
    client = imaplib.IMAP4("127.0.0.1", dovecot, timeout=10)
    client.login("help", "imap-pass")
    huge = customer_mail(message_id="<huge@example.com>", attachment=b"z" * LIMIT)
    for raw in (customer_mail(), MALFORMED, huge):
        status, _ = client.append("INBOX", None, None, raw)
        assert status == "OK"
    first = poller.poll(factory, address=address, secret=SECRET)
    assert first.outcomes == {"opened": 1, "quarantined": 1, "refused": 1}
    assert poller.poll(factory, address=address, secret=SECRET).outcomes == {}
    client.select("INBOX")
    status, data = client.uid("FETCH", "1:*", "(FLAGS)")
    flags = [line for line in data if isinstance(line, bytes)]
    assert all(b"\\Seen" in line for line in flags)
    assert sum(b"\\Flagged" in line for line in flags) == 1  # the huge one, left there
    client.logout()
    with factory() as session:
        refused, malformed = service.list_quarantine(session)
    assert "boundary never occurs" in malformed.reason
    assert malformed.raw.replace(b"\r\n", b"\n") == MALFORMED.replace(b"\r\n", b"\n")
    assert "left on the IMAP server" in refused.reason
    assert b"<huge@example.com>" in refused.raw
    assert len(refused.raw) < 2048  # only its headers came down
