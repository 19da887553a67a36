"""A web app with a live routing driver on the test database, for the live API and page tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.center import CenterConfig
from hotline.config.validate import load_center
from hotline.core.clock import Clock
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.live.driver import LiveDriver, attach
from hotline.store.models.core import User
from hotline.web.app import create_app

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
PASSWORD = "correct-horse-9"


def add_users(
    session: Session, users: tuple[tuple[str, list[str], str | None], ...], language: str = "zh-CN"
) -> None:
    """Add and commit ``users`` (username, roles, agent id), each with :data:`PASSWORD`."""
    digest = hash_password(PASSWORD)
    for username, roles, agent_id in users:
        session.add(
            User(
                username=username,
                display_name=username,
                password_hash=digest,
                roles=roles,
                agent_id=agent_id,
                language=language,
                active=True,
            )
        )
    session.commit()


@contextmanager
def live_client(
    *,
    session_factory: sessionmaker[Session],
    db_session: Session,
    home: Path,
    users: tuple[tuple[str, list[str], str | None], ...],
    center: CenterConfig | None = None,
    clock: Clock | None = None,
    prepare: Callable[[Any], object] | None = None,
) -> Iterator[TestClient]:
    """Add ``users`` (username, roles, agent id); run ``center`` (default: the sample) live
    on ``clock`` (the wall clock); ``prepare`` adds parts to the app before it starts."""
    add_users(db_session, users)
    center = center or load_center(SAMPLE)
    app = create_app(
        settings=Settings(home=home, secret_key="test-secret"),
        session_factory=session_factory,
        center=center,
    )
    # The test's sessions share one connection; the event-log writer (another thread) would
    # use it concurrently, so it writes only when the app stops.
    attach(app, LiveDriver(center=center, clock=clock, honour_hours=False, flush_every_s=3600))
    if prepare is not None:
        prepare(app)
    # The pages' scripts post with the session cookie; a browser then sends the page's Origin.
    with TestClient(app, headers={"origin": "http://testserver"}) as test_client:
        yield test_client
