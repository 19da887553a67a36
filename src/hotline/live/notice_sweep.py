"""The SMS notice sweep: appointment reminders and follow-up notices by the center's rules.

The center file's ``sms_notices`` (:mod:`hotline.config.sms_notices`) say how long before a
field-service visit the customer is reminded, and how long before a follow-up (回访) call
they are told it is coming. This sweep gathers the visits (``tickets.service.
appointments_between``) and the open follow-up tasks (``followup.service.due_tasks``) whose
window is open (:mod:`hotline.channels.sms.notices`), keeps one notice per occasion and texts
it through ``send_sms`` — so the do-not-call list and quiet hours apply. Each notice is
committed as ``sending`` *before* its SMS goes out, and the occasion is unique, so a crash or
a second sweep never texts an occasion twice; a refusal that passes (quiet hours, the gateway
down) is tried again by later sweeps until the occasion's time comes, then recorded as
refused. It runs when the server starts and every ``HOTLINE_SMS_NOTICE_SWEEP_S`` seconds
(default 300; ``0`` turns it off), through the server's bound SMS session (``app.state.sms``)
or, without one, the center's gateway bound only when a sweep has something to send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from hotline.channels.sms import service as sms
from hotline.channels.sms.gateway import SmsGateway
from hotline.channels.sms.notices import NoticeOccasion, appointment_key, due, render, window
from hotline.config.sms_notices import SmsNoticeRule
from hotline.core.clock import Clock
from hotline.crm import service as crm
from hotline.followup import service as followup
from hotline.live.survey_sweep import center_gateway
from hotline.live.sweeper import Sweeper, attach_sweeper
from hotline.store.db import writing
from hotline.tickets import service as tickets

#: Who sends notices by rule, in the audit log and on the message records.
ACTOR = "notices"


@dataclass
class NoticeSweep:
    """What one sweep did, by occasion key: sent, waiting for another try, refused for good,
    and occasions left alone (no mobile number) with why."""

    sent: list[str] = field(default_factory=list)
    retrying: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def occasions(
    session: Session, *, rules: list[SmsNoticeRule], now: datetime
) -> list[tuple[SmsNoticeRule, NoticeOccasion]]:
    """The visits and follow-up calls whose notice window is open at ``now``."""
    found: list[tuple[SmsNoticeRule, NoticeOccasion]] = []
    for rule in rules:
        ahead = now + timedelta(hours=rule.hours_before)
        if rule.kind == "appointment_reminder":
            for visit in tickets.appointments_between(session, start=now, end=ahead):
                occasion = NoticeOccasion(
                    appointment_key(visit.ticket_id, visit.starts), rule.kind, visit.starts,
                    visit.ticket_id, visit.number, visit.customer_id, visit.ends,
                )  # fmt: skip
                found.append((rule, occasion))
        else:
            for task in followup.due_tasks(session, until=ahead):
                number = tickets.get_ticket(session, ticket_id=task.ticket_id).number
                occasion = NoticeOccasion(
                    f"follow_up:{task.task_id}", rule.kind, task.due_at, task.ticket_id,
                    number, task.customer_id,
                )  # fmt: skip
                found.append((rule, occasion))
    return [(rule, occasion) for rule, occasion in found if due(rule, occasion, now=now)]


def _commit(session: Session) -> None:
    """Commit, and declare the next transaction a writer again (SQLite's write gate)."""
    session.commit()
    writing(session)


def _note(result: NoticeSweep, row: Any) -> None:
    if row.state == "sent":
        result.sent.append(row.occasion)
    elif row.state == "pending":
        result.retrying[row.occasion] = (
            f"{row.reason}; next try {row.next_try_at:%Y-%m-%d %H:%M} UTC"
        )
    else:
        result.refused[row.occasion] = row.reason


def send_due_notices(
    session: Session, *, rules: list[SmsNoticeRule], zone: str, now: datetime, gateway: SmsGateway
) -> NoticeSweep:
    """One sweep on ``session`` (commits after each step): the notices due another try, then
    the occasions whose window opened."""
    result = NoticeSweep()
    for notice_id in sms.due_notices(session, now=now):
        claimed = sms.claim_notice(session, notice_id=notice_id)
        _commit(session)  # claimed before the send: no other sweep sends it too
        if claimed:
            _note(
                result,
                sms.attempt_notice(
                    session, notice_id=notice_id, gateway=gateway, now=now, actor=ACTOR
                ),
            )
            _commit(session)
    found = occasions(session, rules=rules, now=now)
    known = sms.known_notices(session, occasions=[occasion.key for _, occasion in found])
    for rule, occasion in found:
        if occasion.key in known:
            continue
        known.add(occasion.key)
        customer = occasion.customer_id
        mobile = crm.reach(session, customer_id=customer).mobile if customer else None
        if customer is None or mobile is None:
            result.skipped[occasion.key] = "no mobile number for the customer"
            continue
        language = crm.get_customer(session, customer_id=customer).language
        row = sms.record_notice(
            session, occasion=occasion.key, kind=rule.kind, ticket_id=occasion.ticket_id,
            to=mobile, text=render(rule, occasion, language=language, zone=zone),
            closes_at=window(rule, occasion)[1], now=now,
        )  # fmt: skip
        _commit(session)  # the notice first: a crash from here on never texts it twice
        _note(
            result,
            sms.attempt_notice(session, notice_id=row.id, gateway=gateway, now=now, actor=ACTOR),
        )
        _commit(session)
    return result


def sweep_notices(
    session: Session,
    *,
    center: Any,
    secret: bytes,
    now: datetime,
    gateway: SmsGateway | None = None,
) -> NoticeSweep:
    """One notice sweep (commits): through ``gateway`` (the server's bound session) when
    given, else the center's own gateway; nothing without rules or a gateway."""
    rules = list(center.sms_notices) if center is not None else []
    if not rules:
        return NoticeSweep()
    zone = center.center.timezone
    if gateway is not None:
        return send_due_notices(session, rules=rules, zone=zone, now=now, gateway=gateway)
    with center_gateway(session, secret=secret) as own:
        if own is None:
            return NoticeSweep()
        return send_due_notices(session, rules=rules, zone=zone, now=now, gateway=own)


class NoticeSweeper(Sweeper):
    """Runs :func:`sweep_notices` on start and every ``every_s`` seconds."""

    name = "SMS notice sweep"

    def sweep_once(self) -> NoticeSweep:
        """One sweep in its own write transactions; returns what it did."""
        now = datetime.fromtimestamp(self.clock.now(), UTC)
        line = getattr(self.app.state, "sms", None)  # the server's SMS gateway, if it runs one
        bound: SmsGateway | None = getattr(line, "gateway", None)
        with writing(self.session_factory()) as session:
            return sweep_notices(
                session, center=self.app.state.center, secret=self.app.state.secret, now=now,
                gateway=bound,
            )  # fmt: skip


def attach_notice_sweeper(
    app: Any, *, every_s: float | None = None, clock: Clock | None = None
) -> NoticeSweeper | None:
    """Send the rules' SMS notices while ``app`` runs: ``app.state.notice_sweeper``;
    ``every_s`` defaults to ``HOTLINE_SMS_NOTICE_SWEEP_S`` (300 s)."""
    return attach_sweeper(
        app,
        NoticeSweeper,
        attribute="notice_sweeper",
        variable="HOTLINE_SMS_NOTICE_SWEEP_S",
        every_s=every_s,
        clock=clock,
    )
