"""The cockpit's alerts on a schedule, on SQLite and PostgreSQL: the alert sweep raises the
day's crossed targets and control limits once each (an in-app notice to every role of
``targets.alert_roles``, an e-mail to ``targets.alert_emails``), says nothing more while
they stay crossed, clears them when the figure recovers, and raises them again when it
crosses again. The figures are the cockpit test's ten days (10 March 2026: service level
20 % against a target of 80 %, beyond the p-chart's lower limit).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import service as email
from hotline.channels.email.settings import MailboxSettings
from hotline.config.targets import MetricTarget
from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.core.settings import Settings
from hotline.identity import service as identity
from hotline.store.models.email import EmailMessage
from hotline.store.models.notifications import Notification
from hotline.store.models.reports import RaisedAlert
from hotline.web.alert_sweep import attach_alert_sweeper, sweep_alerts
from hotline.web.app import create_app
from tests.integration.followup.test_followup_sweeper import start_and_stop
from tests.integration.web.conftest import SAMPLE
from tests.integration.web.test_manager_cockpit_api import ZONE, seed_ten_days

SAMPLE_CENTER = load_center(SAMPLE)
assert SAMPLE_CENTER.targets is not None
CENTER = SAMPLE_CENTER.model_copy(
    update={
        "targets": SAMPLE_CENTER.targets.model_copy(
            update={"alert_roles": ["manager", "supervisor"], "alert_emails": ["boss@example.com"]}
        )
    }
)
EVENING = datetime(2026, 3, 10, 20, 0, tzinfo=ZONE).astimezone(UTC)
SERVICE_LEVEL = ("target:service_level:center:", "control:service_level:center:")


def _notices(session: Session, role: str, *, kind: str = "role") -> list[dict[str, str]]:
    query = select(Notification.params).where(
        Notification.kind == "kpi_alert",
        Notification.addressee_kind == kind,
        Notification.addressee == role,
    )
    return list(session.scalars(query))


def _mails(session: Session) -> int:
    query = select(func.count()).where(EmailMessage.kind == "alert")
    return int(session.scalar(query) or 0)


@pytest.fixture
def seeded(db_session: Session) -> Session:
    seed_ten_days(db_session)
    email.save_mailbox(
        db_session,
        settings=MailboxSettings(address="alerts@example.com"),
        secret=b"s",
        actor="admin",
    )
    db_session.commit()
    return db_session


def test_an_alert_is_raised_once_and_cleared_when_it_recovers(
    seeded: Session, session_factory: sessionmaker[Session]
) -> None:
    first = sweep_alerts(session_factory, center=CENTER, now=EVENING)
    assert set(SERVICE_LEVEL) <= set(first.raised) and first.cleared == []
    notices = _notices(seeded, "manager")
    assert len(notices) == len(first.raised) == len(_notices(seeded, "supervisor"))
    crossed = next(n for n in notices if n["alert"] == "target" and n["metric"] == "service_level")
    assert crossed == {
        "alert": "target",
        "metric": "service_level",
        "where": "center",
        "day": "2026-03-10",
        "value": "0.2",
        "detail": "target at least 0.8",
    }
    assert _mails(seeded) == len(first.raised)

    # Still crossed five minutes later: nothing new is said.
    again = sweep_alerts(session_factory, center=CENTER, now=EVENING.replace(minute=5))
    assert (again.raised, again.cleared) == ([], [])
    assert len(_notices(seeded, "manager")) == len(first.raised)

    # The next day has no calls yet: the service-level alerts are no longer crossed.
    next_day = datetime(2026, 3, 11, 20, 0, tzinfo=ZONE).astimezone(UTC)
    recovered = sweep_alerts(session_factory, center=CENTER, now=next_day)
    assert set(SERVICE_LEVEL) <= set(recovered.cleared)
    cleared = seeded.scalars(select(RaisedAlert).where(RaisedAlert.key == SERVICE_LEVEL[0])).one()
    assert cleared.open_key is None and cleared.cleared_at is not None and cleared.emailed

    # Crossed again (the 10 March figures read again): a new raise, a new notice.
    crossed_again = sweep_alerts(session_factory, center=CENTER, now=EVENING.replace(minute=10))
    assert set(SERVICE_LEVEL) <= set(crossed_again.raised)
    assert len(_notices(seeded, "manager")) == len(first.raised) + len(crossed_again.raised)
    rows = seeded.scalars(select(RaisedAlert).where(RaisedAlert.key == SERVICE_LEVEL[0])).all()
    assert len(rows) == 2


def test_the_app_sweeps_alerts_when_it_starts(
    seeded: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="t"),
        session_factory=session_factory,
        center=SAMPLE_CENTER,
    )
    sweeper = attach_alert_sweeper(app, every_s=3600, clock=ManualClock(EVENING.timestamp()))
    assert sweeper is not None
    start_and_stop(app, sweeper)
    assert sweeper.failures == 0
    # The sample center tells the managers (the default audience) and e-mails nobody.
    assert any(n["metric"] == "service_level" for n in _notices(seeded, "manager"))
    assert _notices(seeded, "supervisor") == [] and _mails(seeded) == 0


def test_a_team_or_agent_alert_goes_to_that_team_lead(
    seeded: Session, session_factory: sessionmaker[Session]
) -> None:
    """The repair team's handle time (360 s on the ten days) and its agent a020's (900 s)
    cross targets of theirs: the repair team's lead (a011) is told of both by name, though
    the center alerts only managers; the care team's lead and a011's plain agent account are
    not, and nobody is told of the center's own alerts by name."""
    assert CENTER.targets is not None
    center = CENTER.model_copy(
        update={
            "targets": CENTER.targets.model_copy(
                update={
                    "alert_roles": ["manager"],
                    "metrics": [
                        *CENTER.targets.metrics,
                        MetricTarget(metric="aht_s", level="team", id="t-repair", at_most=200),
                        MetricTarget(metric="aht_s", level="agent", id="a020", at_most=600),
                    ],
                }
            )
        }
    )
    for username, roles, agent in (
        ("lead-repair", ["team_lead"], "a011"),
        ("lead-care", ["team_lead"], "a021"),
        ("plain-a011", ["agent"], "a011"),
    ):
        identity.create_user(
            seeded, username=username, password="Lead-pass-2026!", roles=roles, agent_id=agent
        )
    seeded.commit()
    done = sweep_alerts(session_factory, center=center, now=EVENING)
    assert {"target:aht_s:team:t-repair", "target:aht_s:agent:a020"} <= set(done.raised)
    told = sorted(n["where"] for n in _notices(seeded, "lead-repair", kind="user"))
    assert told == ["agent a020", "team t-repair"]
    assert _notices(seeded, "lead-care", kind="user") == []
    assert _notices(seeded, "plain-a011", kind="user") == []
    assert len(_notices(seeded, "manager")) == len(done.raised)
