"""send_sms: the do-not-call list and quiet hours honoured, every message kept with its fate,
delivery receipts recorded part by part."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.campaigns import service as campaigns
from hotline.channels.sms import service as sms
from hotline.channels.sms.gateway import FakeGateway
from hotline.channels.sms.text import Receipt
from hotline.store.models.core import AuditEntry

DAYTIME = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NIGHT = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
REMINDER = "您好，您的空调安装预约在明天上午9点至11点，师傅会提前联系您。" * 3


def test_a_reminder_is_sent_and_its_parts_delivery_recorded(db_session: Session) -> None:
    gateway = FakeGateway()
    sent = sms.send_sms(
        session=db_session,
        gateway=gateway,
        to="+8613800138000",
        text=REMINDER,
        purpose="appointment_reminder",
        actor="system",
        now=DAYTIME,
        ticket_id=7,
    )
    assert (sent.status, sent.parts) == ("sent", 2)
    assert gateway.sent == [("+8613800138000", REMINDER)]
    assert sms.note_receipt(db_session, receipt=Receipt("fake-1", "DELIVRD", "000")) == sent.id
    [kept] = sms.messages(db_session, ticket_id=7)
    assert (kept.status, kept.purpose, kept.message_ids) == (
        "delivered",
        "appointment_reminder",
        "fake-1",
    )
    assert sms.note_receipt(db_session, receipt=Receipt("unknown", "DELIVRD", "000")) is None


def test_do_not_call_quiet_hours_and_a_down_gateway_are_refusals_kept_with_the_reason(
    db_session: Session,
) -> None:
    gateway = FakeGateway()
    campaigns.add_do_not_call(db_session, number="+86 139 1234 5678", actor="boss")

    def send(to: str, now: datetime) -> sms.SmsOutcome:
        return sms.send_sms(
            session=db_session, gateway=gateway, to=to, text="回访：请为本次服务打分 https://s.example/1",
            purpose="survey", actor="system", now=now,
        )  # fmt: skip

    listed = send("13912345678", DAYTIME)
    assert listed.status == "refused" and "do-not-call" in listed.reason
    audited = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "campaign.dnc_refused")
    ).all()
    assert len(audited) == 1
    night = send("13800138000", NIGHT)
    assert night.status == "refused" and "quiet hours 21:00–08:00" in night.reason
    gateway.down = True
    down = send("13800138000", DAYTIME)
    assert down.status == "failed" and "down" in down.reason
    assert gateway.sent == []
    assert [m.status for m in sms.messages(db_session)] == ["refused", "refused", "failed"]


def test_bad_requests_name_the_field() -> None:
    with pytest.raises(ValueError, match="purpose"):
        sms.send_sms(
            session=None,  # type: ignore[arg-type]
            gateway=FakeGateway(), to="1", text="x", purpose="spam", actor="a", now=DAYTIME,
        )  # fmt: skip
    with pytest.raises(ValueError, match="text: an SMS needs some text"):
        sms.send_sms(
            session=None,  # type: ignore[arg-type]
            gateway=FakeGateway(), to="1", text="", purpose="survey", actor="a", now=DAYTIME,
        )  # fmt: skip
