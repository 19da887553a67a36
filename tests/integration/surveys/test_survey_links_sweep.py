"""Survey links sent by the ``surveys.send`` rule, on SQLite and PostgreSQL: after resolved
repairs and finished calls, by the e-mail outbox or through a stand-in SMSC, never to a
do-not-call number, once per customer per period and once per occasion however often swept;
an SMS refused for now (gateway down, quiet hours) tried again with growing waits and a
bounded number of attempts, never sent twice; and the response rates count e-mail and SMS
invitations apart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotline.campaigns import service as campaigns
from hotline.channels.email import service as email
from hotline.channels.email.settings import MailboxSettings
from hotline.channels.sms import service as sms
from hotline.channels.sms.gateway import FakeGateway
from hotline.channels.sms.settings import GatewaySettings
from hotline.channels.sms.smpp import SmppGateway
from hotline.cli.main import app
from hotline.config.surveys import SurveysConfig, SurveySendRule
from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.core.events import Channel, Event, EventKind
from hotline.core.settings import Settings
from hotline.crm import service as crm
from hotline.live.survey_sweep import attach_survey_sweeper, sweep_links
from hotline.store import event_log
from hotline.store.db import make_engine
from hotline.store.migrate import upgrade
from hotline.store.models.email import EmailMessage
from hotline.store.models.surveys import SurveyInvitation
from hotline.surveys import service as surveys
from hotline.surveys.statistics import link_rates
from hotline.tickets import service as tickets
from hotline.web.app import create_app
from tests.integration.channels.test_sms_smpp import StandInSmsc, settings_for
from tests.integration.followup.test_followup_sweeper import start_and_stop

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
runner = CliRunner()
RESOLVED = datetime(2026, 11, 23, 2, tzinfo=UTC)  # Monday 10:00 in Shanghai
LATER = RESOLVED + timedelta(minutes=45)
SECRET = b"survey-secret"
RULE = SurveySendRule(
    after_tickets=["repair"],
    after_contacts=["voice"],
    wait_minutes=30,
    once_per_days=30,
    base_url="https://cc.example.com/",
)


def _config(rule: SurveySendRule = RULE) -> SurveysConfig:
    config = load_center(SAMPLE).surveys
    assert config is not None
    return config.model_copy(update={"send": rule})


def _repair(session: Session, *, name: str, phones: list[str], emails: list[str]) -> int:
    """A customer's repair, resolved at RESOLVED; the customer's id."""
    customer = crm.create_customer(session, name=name, phones=phones, emails=emails, actor="a")
    product = crm.add_product(
        session, customer_id=customer.id, model="JSQ25-13", warranty_until=date(2030, 1, 1)
    )
    ticket = tickets.create_ticket(
        session, type="repair", subject="不加热", product_id=product.id, actor="a",
        now=RESOLVED - timedelta(hours=4),
    )  # fmt: skip
    tickets.act(session, ticket_id=ticket.id, action="dispatch", target="hf-anjia", actor="a")
    tickets.provider_update(
        session, ticket_id=ticket.id, provider="hf-anjia", note="ok", completed=True,
        parts=["加热管"], now=RESOLVED,
    )  # fmt: skip
    return customer.id


@pytest.fixture
def center(db_session: Session) -> dict[str, int]:
    """A mailbox, and customers whose repairs were resolved: one with an address, one with
    only a mobile, one whose mobile is on the do-not-call list; one who called."""
    email.save_mailbox(
        db_session, settings=MailboxSettings(address="help@example.com"), secret=SECRET,
        actor="admin",
    )  # fmt: skip
    tickets.create_provider(db_session, code="hf-anjia", name="安家", actor="admin")
    found = {
        "mail": _repair(db_session, name="张伟", phones=["13812345678"], emails=["zw@example.com"]),
        "text": _repair(db_session, name="李娜", phones=["13900001111"], emails=[]),
        "listed": _repair(db_session, name="王芳", phones=["13700002222"], emails=[]),
    }
    campaigns.add_do_not_call(db_session, number="13700002222", actor="boss")
    caller = crm.create_customer(db_session, name="刘洋", phones=["13600003333"], actor="a")
    crm.record_contact(
        db_session, customer_id=caller.id, channel="voice", at=RESOLVED, contact_id="v-9"
    )
    found["caller"] = caller.id
    db_session.commit()
    return found


def _links(session: Session) -> dict[int | None, str]:
    rows = session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.id))
    return {row.customer_id: row.sent_via for row in rows}


def test_the_sweep_mails_texts_skips_do_not_call_and_sends_once(
    db_session: Session, center: dict[str, int]
) -> None:
    gateway = FakeGateway()

    def sweep(now: datetime, config: SurveysConfig | None = None) -> surveys.LinkSweep:
        return surveys.send_due_links(
            session=db_session, config=config or _config(), secret=SECRET, now=now,
            gateway=gateway,
        )  # fmt: skip

    early = sweep(RESOLVED + timedelta(minutes=10))
    assert (early.emailed, early.texted, early.skipped, _links(db_session)) == ([], [], {}, {})

    done = sweep(LATER)
    assert _links(db_session) == {
        center["mail"]: "email",
        center["text"]: "sms",
        center["caller"]: "sms",
    }
    assert len(done.emailed) == 1 and len(done.texted) == 2
    assert list(done.skipped.values()) == ["the mobile number is on a do-not-call list"]
    [mail] = db_session.scalars(select(EmailMessage).where(EmailMessage.kind == "survey"))
    assert mail.recipients == ["zw@example.com"] and "https://cc.example.com/s/" in mail.body
    numbers = [to for to, _ in gateway.sent]
    assert "+8613700002222" not in numbers and "+8613900001111" in numbers
    [text] = [t for to, t in gateway.sent if to == "+8613900001111"]
    token = text.split("/s/")[1].split("?")[0]
    opened = surveys.open_link(session=db_session, token=token, secret=SECRET, now=LATER)
    assert opened.sent_via == "sms" and opened.occasion is not None

    surveys.answer_link(
        session=db_session, token=token, secret=SECRET, survey=_config().definition(),
        raw={"overall": "4", "agent": "5", "speed": "4", "recommend": "8", "resolved": "yes"},
        now=LATER,
    )  # fmt: skip

    again = sweep(LATER + timedelta(hours=1))
    assert (again.emailed, again.texted) == ([], [])
    assert len(gateway.sent) == len(numbers)
    # The response rates count the links by carrier: two SMS, one answered; one e-mail.
    sent = surveys.invitations(session=db_session, since=RESOLVED, until=LATER + timedelta(1))
    rates = {r.channel: (r.contacts, r.responses) for r in link_rates((v, a) for v, _, a in sent)}
    assert rates == {"link:email": (1, 0), "link:sms": (2, 1)}


def test_a_call_answered_in_the_ivr_gets_no_link_and_one_per_period(
    db_session: Session, center: dict[str, int]
) -> None:
    gateway = FakeGateway()
    rated = crm.create_customer(db_session, name="陈静", phones=["13500004444"], actor="a")
    crm.record_contact(
        db_session, customer_id=rated.id, channel="voice", at=RESOLVED, contact_id="v-8"
    )
    event_log.append(
        db_session,
        [Event(0, RESOLVED.timestamp(), EventKind.SURVEY_ANSWERED, contact_id="v-8",
               channel=Channel.VOICE, data={"score": 5, "scale_max": 5})],
    )  # fmt: skip
    calls = _config(RULE.model_copy(update={"after_tickets": []}))
    sent = surveys.send_due_links(
        session=db_session, config=calls, secret=SECRET, now=LATER, gateway=gateway
    )
    assert _links(db_session) == {center["caller"]: "sms"} and len(sent.texted) == 1
    assert sent.skipped == {"contact:v-8": "answered the survey in the contact itself"}
    # A second call the next week: invited within 30 days, so nothing.
    crm.record_contact(
        db_session, customer_id=center["caller"], channel="voice",
        at=LATER + timedelta(days=7), contact_id="v-10",
    )  # fmt: skip
    week = surveys.send_due_links(
        session=db_session, config=calls, secret=SECRET, now=LATER + timedelta(days=7, hours=1),
        gateway=gateway,
    )  # fmt: skip
    assert week.skipped == {"contact:v-10": "invited in the last 30 days"}
    assert len(gateway.sent) == 1


def test_the_server_sweep_texts_through_a_stand_in_smsc(
    db_session: Session, center: dict[str, int]
) -> None:
    smsc = StandInSmsc()
    try:
        sms.save_gateway(
            db_session,
            settings=settings_for(smsc),
            secret=SECRET,
            actor="admin",
        )  # fmt: skip
        center_file = load_center(SAMPLE).model_copy(update={"surveys": _config()})
        result = sweep_links(db_session, center=center_file, secret=SECRET, now=LATER)
    finally:
        smsc.close()
    assert len(result.emailed) == 1 and len(result.texted) == 2, result
    assert smsc.binds == [("hotline", "secret")]
    # Two UCS-2 parts each (the link alone is some 90 characters); none to the listed number.
    assert len(smsc.submitted) == 4
    kept = [(m.to_number, m.status, m.purpose) for m in sms.messages(db_session)]
    assert sorted(kept) == [
        ("+8613600003333", "sent", "survey"),
        ("+8613900001111", "sent", "survey"),
    ]


def test_the_server_sweep_texts_through_the_session_the_server_keeps_bound(
    db_session: Session, center: dict[str, int]
) -> None:
    # The center's gateway is kept, but the server's own bound session carries the SMS: no
    # second bind (nothing listens on port 9 here; binding it would fail every link).
    sms.save_gateway(
        db_session,
        settings=GatewaySettings(
            host="127.0.0.1", port=9, system_id="hotline", password="secret",
            source_addr="10690000",
        ),
        secret=SECRET,
        actor="admin",
    )  # fmt: skip
    center_file = load_center(SAMPLE).model_copy(update={"surveys": _config()})
    bound = FakeGateway()
    result = sweep_links(db_session, center=center_file, secret=SECRET, now=LATER, gateway=bound)
    assert len(result.texted) == 2 and len(bound.sent) == 2, result


def test_the_command_line_sweep_needs_a_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "cli.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "cli-secret")
    plain = runner.invoke(app, ["surveys", "sweep", "--center", str(SAMPLE)])
    assert plain.exit_code == 1 and "no 'surveys: send:' rule" in plain.output
    text = SAMPLE.read_text(encoding="utf-8").replace(
        "surveys:\n",
        "surveys:\n  send: {after_tickets: [repair], base_url: 'https://cc.example.com'}\n",
    )
    ruled = tmp_path / "center.yaml"
    ruled.write_text(text, encoding="utf-8")
    swept = runner.invoke(app, ["surveys", "sweep", "--center", str(ruled)])
    assert swept.exit_code == 0, swept.output
    assert "0 link(s) e-mailed, 0 texted, 0 SMS refused, 0 occasion(s) skipped" in swept.output


class PowerCut(FakeGateway):
    """A gateway during which the process dies: the SMS may or may not have left."""

    def send(self, *, to: str, text: str) -> list[str]:
        raise KeyboardInterrupt("power cut")


def test_a_crash_while_texting_never_texts_twice(
    db_session: Session, center: dict[str, int]
) -> None:
    calls = _config(RULE.model_copy(update={"after_tickets": []}))
    with pytest.raises(KeyboardInterrupt):
        surveys.send_due_links(
            session=db_session, config=calls, secret=SECRET, now=LATER, gateway=PowerCut()
        )
    db_session.rollback()
    assert _links(db_session) == {center["caller"]: "sms"}  # recorded before the send
    gateway = FakeGateway()
    after = surveys.send_due_links(
        session=db_session, config=calls, secret=SECRET, now=LATER, gateway=gateway
    )
    assert (after.texted, gateway.sent) == ([], [])


def test_the_server_sweeps_links_at_start(
    db_session: Session,
    session_factory: sessionmaker[Session],
    center: dict[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="t"),
        session_factory=session_factory,
        center=load_center(SAMPLE).model_copy(update={"surveys": _config()}),
    )
    sweeper = attach_survey_sweeper(app, every_s=3600, clock=ManualClock(LATER.timestamp()))
    assert sweeper is not None and app.state.survey_sweeper is sweeper

    start_and_stop(app, sweeper)
    assert sweeper.sweeps == 1 and sweeper.failures == 0
    # no SMS gateway configured: only the customer with an address gets a link
    assert _links(db_session) == {center["mail"]: "email"}
    monkeypatch.setenv("HOTLINE_SURVEY_SWEEP_S", "0")
    assert attach_survey_sweeper(create_app(settings=Settings(home=tmp_path))) is None


def _texts(session: Session) -> dict[int | None, tuple[str | None, int, str | None]]:
    rows = session.scalars(select(SurveyInvitation).where(SurveyInvitation.sent_via == "sms"))
    return {row.customer_id: (row.sms_state, row.sms_attempts, row.sms_reason) for row in rows}


CALLS = RULE.model_copy(update={"after_tickets": [], "sms_attempts": 3, "retry_minutes": 5})


def test_a_link_whose_sms_failed_is_texted_later_through_the_stand_in_smsc_once(
    db_session: Session, center: dict[str, int]
) -> None:
    smsc = StandInSmsc()
    try:
        settings = settings_for(smsc)
        sms.save_gateway(db_session, settings=settings, secret=SECRET, actor="admin")
        center_file = load_center(SAMPLE).model_copy(update={"surveys": _config(CALLS)})
        # The server's session is not bound yet: the SMSC refuses at once.
        unbound = SmppGateway.of(settings, on_message=lambda _: None, on_receipt=lambda _: None)
        first = sweep_links(
            db_session, center=center_file, secret=SECRET, now=LATER, gateway=unbound
        )
        [link] = first.retrying
        assert (first.texted, first.refused) == ([], {})
        assert "tried again at" in first.retrying[link]
        state, attempts, reason = _texts(db_session)[center["caller"]]
        assert (state, attempts) == ("pending", 1) and reason and "not connected" in reason
        # Too early for the next try: nothing goes out, nothing binds.
        early = sweep_links(db_session, center=center_file, secret=SECRET, now=LATER)
        assert (early.texted, smsc.binds) == ([], [])
        # Five minutes on, the center's own session binds and the link goes out.
        later = LATER + timedelta(minutes=5)
        second = sweep_links(db_session, center=center_file, secret=SECRET, now=later)
        assert second.texted == [link] and smsc.binds == [("hotline", "secret")]
        assert _texts(db_session)[center["caller"]] == ("sent", 2, None)
        parts = len(smsc.submitted)
        assert parts == 2  # one link, two UCS-2 parts
        # Sent once: however often swept afterwards, nothing more goes out.
        for hours in (1, 5):
            swept = sweep_links(
                db_session, center=center_file, secret=SECRET, now=later + timedelta(hours=hours)
            )
            assert (swept.texted, swept.retrying) == ([], {})
        assert len(smsc.submitted) == parts
    finally:
        smsc.close()
    kept = [(m.status, m.purpose) for m in sms.messages(db_session)]
    assert kept == [("failed", "survey"), ("sent", "survey")]


def test_a_link_refused_in_quiet_hours_goes_out_when_they_end(
    db_session: Session, center: dict[str, int]
) -> None:
    gateway = FakeGateway()
    night = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    crm.record_contact(
        db_session, customer_id=center["text"], channel="voice",
        at=night - timedelta(hours=1), contact_id="v-night",
    )  # fmt: skip

    def sweep(now: datetime) -> surveys.LinkSweep:
        return surveys.send_due_links(
            session=db_session, config=_config(CALLS), secret=SECRET, now=now, gateway=gateway
        )

    first = sweep(night)
    assert len(first.retrying) == 2 and gateway.sent == []  # the caller and the night caller
    assert all("after 08:00" in why for why in first.retrying.values())
    # Every five minutes through the night: no attempt is spent before the quiet hours end.
    for minutes in range(5, 60 * 9, 60):
        assert sweep(night + timedelta(minutes=minutes)).retrying == {}
    morning = datetime(2026, 11, 24, 0, 1, tzinfo=UTC)  # 08:01
    done = sweep(morning)
    assert sorted(done.texted) == sorted(first.retrying) and len(gateway.sent) == 2
    assert {s for s, _, _ in _texts(db_session).values()} == {"sent"}
    [text] = [t for to, t in gateway.sent if to == "+8613900001111"]
    token = text.split("/s/")[1].split("?")[0]
    opened = surveys.open_link(session=db_session, token=token, secret=SECRET, now=morning)
    assert opened.occasion == "contact:v-night"


def test_a_link_is_tried_a_bounded_number_of_times_then_marked_failed(
    db_session: Session, center: dict[str, int]
) -> None:
    gateway = FakeGateway()
    gateway.down = True

    def sweep(now: datetime, with_gateway: FakeGateway = gateway) -> surveys.LinkSweep:
        return surveys.send_due_links(
            session=db_session, config=_config(CALLS), secret=SECRET, now=now,
            gateway=with_gateway,
        )  # fmt: skip

    assert len(sweep(LATER).retrying) == 1
    assert sweep(LATER + timedelta(minutes=4)).retrying == {}  # not due yet
    assert len(sweep(LATER + timedelta(minutes=5)).retrying) == 1  # try 2 of 3
    assert sweep(LATER + timedelta(minutes=19)).refused == {}  # 15 minutes after try 2
    last = sweep(LATER + timedelta(minutes=20))
    [why] = last.refused.values()
    assert why == "the fake gateway is down (gave up after 3 attempt(s))"
    assert _texts(db_session) == {center["caller"]: ("failed", 3, why)}
    gateway.down = False
    assert sweep(LATER + timedelta(days=1)).texted == [] and gateway.sent == []
    statuses = [m.status for m in sms.messages(db_session)]
    assert statuses == ["failed", "failed", "failed"]


def _refused_once(session: Session) -> SurveysConfig:
    """The caller's link tried once while the gateway was down; the rule used."""
    down = FakeGateway()
    down.down = True
    config = _config(CALLS)
    tried = surveys.send_due_links(
        session=session, config=config, secret=SECRET, now=LATER, gateway=down
    )
    assert len(tried.retrying) == 1
    return config


def test_a_crash_while_retrying_never_texts_twice(
    db_session: Session, center: dict[str, int]
) -> None:
    config = _refused_once(db_session)
    later = LATER + timedelta(minutes=5)
    with pytest.raises(KeyboardInterrupt):
        surveys.send_due_links(
            session=db_session, config=config, secret=SECRET, now=later, gateway=PowerCut()
        )
    db_session.rollback()
    assert _texts(db_session)[center["caller"]][0] == "sending"  # claimed before the send
    gateway = FakeGateway()
    after = surveys.send_due_links(
        session=db_session, config=config, secret=SECRET, now=later + timedelta(hours=1),
        gateway=gateway,
    )  # fmt: skip
    assert (after.texted, gateway.sent) == ([], [])


def test_a_number_put_on_the_do_not_call_list_meanwhile_is_not_retried(
    db_session: Session, center: dict[str, int]
) -> None:
    config = _refused_once(db_session)
    campaigns.add_do_not_call(db_session, number="13600003333", actor="boss")
    db_session.commit()
    gateway = FakeGateway()
    later = surveys.send_due_links(
        session=db_session, config=config, secret=SECRET, now=LATER + timedelta(minutes=5),
        gateway=gateway,
    )  # fmt: skip
    [why] = later.refused.values()
    assert "do-not-call" in why and gateway.sent == []
    assert _texts(db_session)[center["caller"]][:2] == ("failed", 2)
