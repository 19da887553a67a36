"""SMS notices by rule, on SQLite and PostgreSQL: a reminder before a field-service visit and
a notice before a follow-up (回访) call, through a stand-in SMSC; each occasion texted once
however often swept or however a sweep crashed; quiet hours wait for the morning, a gateway
that is down is tried again until the visit, and a do-not-call number is refused; the server
runs the sweep."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.campaigns import service as campaigns
from hotline.channels.sms import service as sms
from hotline.channels.sms.gateway import FakeGateway
from hotline.config.center import CenterConfig
from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.core.settings import Settings
from hotline.crm import service as crm
from hotline.followup import service as followup
from hotline.live.notice_sweep import NoticeSweep, attach_notice_sweeper, sweep_notices
from hotline.store.models.sms import SmsNotice
from hotline.tickets import field_service
from hotline.tickets import service as tickets
from hotline.web.app import create_app
from tests.integration.channels.test_sms_smpp import StandInSmsc, settings_for
from tests.integration.followup.test_followup_sweeper import start_and_stop
from tests.integration.surveys.test_survey_links_sweep import PowerCut

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
SECRET = b"notice-secret"
MONDAY = datetime(2026, 11, 23, 1, tzinfo=UTC)  # 09:00 in Shanghai
H = timedelta(hours=1)


@pytest.fixture(scope="module")
def center() -> CenterConfig:
    return load_center(SAMPLE)


def _visit(
    session: Session, center: CenterConfig, *, name: str, phone: str, starts: datetime
) -> tuple[int, str]:
    """A customer's repair dispatched with a two-hour window from ``starts``: id, number."""
    customer = crm.create_customer(session, name=name, phones=[phone], actor="a")
    product = crm.add_product(
        session, customer_id=customer.id, model="JSQ25-13", category="water_heater",
        warranty_until=date(2030, 1, 1),
    )  # fmt: skip
    ticket = tickets.create_ticket(
        session, type="repair", subject="不加热", product_id=product.id, actor="a",
        region="hefei", category="water_heater", now=MONDAY - 2 * H,
    )  # fmt: skip
    field_service.dispatch_order(
        session, ticket_id=ticket.id, provider="hf-anjia", providers=center.service_providers,
        appointment_from=starts, appointment_to=starts + 2 * H, actor="disp1", now=MONDAY - H,
    )  # fmt: skip
    session.commit()
    return ticket.id, ticket.number


def _sweep(
    session: Session, center: CenterConfig, now: datetime, gateway: FakeGateway
) -> NoticeSweep:
    return sweep_notices(session, center=center, secret=SECRET, now=now, gateway=gateway)


def _notices(session: Session) -> dict[str, tuple[str, int]]:
    rows = session.scalars(select(SmsNotice).order_by(SmsNotice.id))
    return {row.occasion: (row.state, row.attempts) for row in rows}


def test_a_visit_is_reminded_once_through_the_stand_in_smsc(
    db_session: Session, center: CenterConfig
) -> None:
    visit = MONDAY + 30 * H  # Tuesday 15:00 in Shanghai
    ticket_id, number = _visit(db_session, center, name="张伟", phone="13812345678", starts=visit)
    smsc = StandInSmsc()
    try:
        sms.save_gateway(
            db_session,
            settings=settings_for(smsc),
            secret=SECRET,
            actor="admin",
        )  # fmt: skip
        db_session.commit()
        early = sweep_notices(db_session, center=center, secret=SECRET, now=visit - 25 * H)
        assert early == NoticeSweep() and smsc.binds == []  # the window has not opened
        due = sweep_notices(db_session, center=center, secret=SECRET, now=visit - 23 * H)
        key = f"appointment:{ticket_id}:{int(visit.timestamp())}"
        assert due.sent == [key] and smsc.binds == [("hotline", "secret")]
        for hours in (22, 10, 1):
            again = sweep_notices(db_session, center=center, secret=SECRET, now=visit - hours * H)
            assert again == NoticeSweep()
        parts = len(smsc.submitted)
        assert parts >= 1
    finally:
        smsc.close()
    [message] = sms.messages(db_session, ticket_id=ticket_id)
    assert (message.status, message.purpose, message.to_number) == (
        "sent", "appointment_reminder", "+8613812345678",
    )  # fmt: skip
    assert f"工单{number}已预约11-24 15:00-17:00上门服务" in message.text
    assert _notices(db_session) == {key: ("sent", 1)}


def test_a_follow_up_call_is_announced_before_it_is_due(
    db_session: Session, center: CenterConfig
) -> None:
    ticket_id, number = _visit(
        db_session, center, name="李娜", phone="13900001111", starts=MONDAY + 2 * H
    )
    tickets.provider_update(
        db_session, ticket_id=ticket_id, provider="hf-anjia", note="ok", completed=True,
        parts=["加热管"], now=MONDAY + 3 * H,
    )  # fmt: skip
    task = followup.generate_for_ticket(
        db_session, ticket_id=ticket_id, center=center, now=MONDAY + 3 * H
    )
    assert task is not None
    db_session.commit()
    gateway = FakeGateway()
    assert _sweep(db_session, center, task.due_at - 3 * H, gateway).sent == []
    done = _sweep(db_session, center, task.due_at - H, gateway)
    assert done.sent == [f"follow_up:{task.id}"]
    [(to, text)] = gateway.sent
    assert to == "+8613900001111" and f"回访工单{number}" in text
    assert _sweep(db_session, center, task.due_at - H / 2, gateway).sent == []
    assert len(gateway.sent) == 1


def test_quiet_hours_wait_for_the_morning_and_a_gateway_down_until_the_visit(
    db_session: Session, center: CenterConfig
) -> None:
    night = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    morning_visit = datetime(2026, 11, 24, 2, tzinfo=UTC)  # 10:00
    _visit(db_session, center, name="王芳", phone="13700002222", starts=morning_visit)
    gateway = FakeGateway()
    first = _sweep(db_session, center, night, gateway)
    [(key, why)] = first.retrying.items()
    assert "quiet hours" in why and "2026-11-24 00:00 UTC" in why and gateway.sent == []
    assert _sweep(db_session, center, night + 5 * H, gateway) == NoticeSweep()
    sent = _sweep(db_session, center, morning_visit - 2 * H + timedelta(minutes=1), gateway)
    assert sent.sent == [key] and len(gateway.sent) == 1
    assert _notices(db_session)[key] == ("sent", 2)

    # A gateway that stays down: tried every few minutes until the visit, then refused.
    later = morning_visit + 30 * H  # Wednesday 16:00
    _visit(db_session, center, name="赵敏", phone="13500004444", starts=later)
    gateway.down = True
    opened = _sweep(db_session, center, later - 3 * H, gateway)
    [(late_key, _)] = opened.retrying.items()
    assert _sweep(db_session, center, later - 3 * H + timedelta(minutes=5), gateway).retrying
    final = _sweep(db_session, center, later + timedelta(minutes=1), gateway)
    assert final.refused == {
        late_key: "its time came before it could be sent (last try: the fake gateway is down)"
    }
    assert _notices(db_session)[late_key][0] == "refused"
    gateway.down = False
    assert _sweep(db_session, center, later + 2 * H, gateway) == NoticeSweep()
    assert len(gateway.sent) == 1


def test_a_do_not_call_number_is_refused_and_a_crash_never_texts_twice(
    db_session: Session, center: CenterConfig
) -> None:
    visit = MONDAY + 30 * H
    listed, _ = _visit(db_session, center, name="陈静", phone="13600003333", starts=visit)
    campaigns.add_do_not_call(db_session, number="13600003333", actor="boss")
    crashed, _ = _visit(db_session, center, name="刘洋", phone="13300005555", starts=visit + H)
    db_session.commit()
    with pytest.raises(KeyboardInterrupt):
        _sweep(db_session, center, visit - 20 * H, PowerCut())
    db_session.rollback()
    gateway = FakeGateway()
    after = _sweep(db_session, center, visit - 19 * H, gateway)
    assert gateway.sent == [] and after.sent == []
    states = {key.split(":")[1]: state for key, (state, _) in _notices(db_session).items()}
    # The listed number was refused before the crash; the crashed one stays unsent.
    assert states == {str(listed): "refused", str(crashed): "sending"}
    [refusal] = [m for m in sms.messages(db_session) if m.ticket_id == listed]
    assert "do-not-call" in refusal.reason


def test_the_server_sweeps_notices_at_start(
    db_session: Session,
    session_factory: sessionmaker[Session],
    center: CenterConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    visit = MONDAY + 30 * H
    _visit(db_session, center, name="周杰", phone="13200006666", starts=visit)
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="t"),
        session_factory=session_factory,
        center=center,
    )
    bound = FakeGateway()
    app.state.sms = SimpleNamespace(gateway=bound)  # the server's bound SMS session
    sweeper = attach_notice_sweeper(
        app, every_s=3600, clock=ManualClock((visit - 5 * H).timestamp())
    )
    assert sweeper is not None and app.state.notice_sweeper is sweeper
    start_and_stop(app, sweeper)
    assert (sweeper.sweeps, sweeper.failures) == (1, 0)
    assert [to for to, _ in bound.sent] == ["+8613200006666"]
    monkeypatch.setenv("HOTLINE_SMS_NOTICE_SWEEP_S", "0")
    assert attach_notice_sweeper(create_app(settings=Settings(home=tmp_path))) is None
