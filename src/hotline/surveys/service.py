"""Survey links and responses in the database: send a link, open it, record its answers.

A survey link is ``/s/<token>``: the token is signed (HMAC-SHA256, :mod:`hotline.core.signing`)
over the link's row id and its expiry, so a forged or altered link is refused without
touching the database, an expired one is refused by its own signed date, and one already
answered is refused by its row (``answered_at``, set in the same transaction as the answers
by a conditional update, so two submissions racing each other cannot both count).

The answers go into the contact event log as ``survey_answered`` events — the one store of
survey responses, where the IVR's DTMF answers and web chat's ratings already are — with the
contact's channel, queue and agent from the contact's own events and the product the link
was sent for. Every link sent and every answer is audited.

Example::

    invitation, token = send_link(session=s, survey=center.surveys.definition(),
                                  contact_id="v-1", sent_by="lead1", sent_via="email",
                                  ttl_hours=168, secret=key, now=now)
    answer_link(session=s, token=token, secret=key, survey=definition,
                raw={"overall": "5", "resolved": "yes"}, now=now)
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline.campaigns import service as campaigns
from hotline.channels.email import service as email
from hotline.channels.sms import service as sms
from hotline.config.surveys import SurveyDefinition, SurveysConfig
from hotline.core import signing
from hotline.core.errors import HotlineError, Problem, ValidationFailed
from hotline.core.events import Channel, Event, EventKind
from hotline.crm import service as crm
from hotline.identity import audit
from hotline.store import event_log
from hotline.store.db import writing
from hotline.store.models.core import ContactEventRow
from hotline.store.models.surveys import SurveyInvitation
from hotline.surveys.answers import check_answers
from hotline.surveys.sending import Decision, Occasion, decide, next_try
from hotline.surveys.statistics import Response, responses_from_events
from hotline.surveys.voc import VocReport, build_report
from hotline.tickets import service as tickets

PURPOSE = b"survey-link"
#: Who answers a survey link in the audit log: the customer has no account.
CUSTOMER = "customer"

Refusal = Literal["forged", "expired", "answered"]


@dataclass
class LinkRefused(HotlineError):
    """A survey link that cannot be answered: forged or altered, expired, or already used."""

    reason: Refusal
    expired_at: datetime | None = None

    def __str__(self) -> str:
        if self.reason == "expired" and self.expired_at is not None:
            return f"this survey link expired at {self.expired_at:%Y-%m-%d %H:%M} UTC"
        return {
            "forged": "this survey link is not valid",
            "expired": "this survey link has expired",
            "answered": "this survey has already been answered",
        }[self.reason]


@dataclass(frozen=True)
class ContactFacts:
    """What the event log knows of a contact: its channel, queue and the agent who took it."""

    contact_id: str
    channel: str | None
    queue: str | None
    agent_id: str | None


def contact_facts(session: Session, *, contact_id: str) -> ContactFacts:
    """The contact's channel, queue and agent from its events; :class:`ValidationFailed` when
    the event log has no such contact."""
    rows = session.scalars(
        select(ContactEventRow)
        .where(ContactEventRow.contact_id == contact_id)
        .order_by(ContactEventRow.at, ContactEventRow.seq)
    ).all()
    if not rows:
        raise ValidationFailed(
            [Problem(f"contact {contact_id} is not in the contact event log", field="contact_id")]
        )
    channel = next((r.channel for r in rows if r.channel), None)
    queue = next((r.queue for r in reversed(rows) if r.queue), None)
    agent = next((r.agent_id for r in reversed(rows) if r.kind == "answered" and r.agent_id), None)
    return ContactFacts(contact_id, channel, queue, agent)


def send_link(
    *,
    session: Session,
    survey: SurveyDefinition,
    contact_id: str,
    sent_by: str,
    sent_via: str,
    ttl_hours: int,
    secret: bytes,
    now: datetime,
    product: str | None = None,
    ticket_number: str | None = None,
    facts: ContactFacts | None = None,
    customer_id: int | None = None,
    occasion: str | None = None,
) -> tuple[SurveyInvitation, str]:
    """Make a single-use link to ``survey`` about ``contact_id``; return its row and token.

    ``facts`` default to the contact's own events (:func:`contact_facts`); a link sent by rule
    names the customer and the ``occasion`` it follows (one link per occasion).
    """
    facts = facts or contact_facts(session, contact_id=contact_id)
    invitation = SurveyInvitation(
        survey_id=survey.id,
        contact_id=contact_id,
        channel=facts.channel,
        queue=facts.queue,
        agent_id=facts.agent_id,
        product=product,
        ticket_number=ticket_number,
        sent_by=sent_by,
        sent_via=sent_via,
        created_at=now,
        expires_at=now + timedelta(hours=ttl_hours),
        customer_id=customer_id,
        occasion=occasion,
    )
    session.add(invitation)
    session.flush()
    token = _token(invitation, secret=secret)
    audit.record(
        session,
        actor=sent_by,
        action="survey.link",
        target=f"contact:{contact_id}",
        detail={"invitation": invitation.id, "survey": survey.id, "via": sent_via},
    )
    return invitation, token


def _token(invitation: SurveyInvitation, *, secret: bytes) -> str:
    """The signed token of an invitation's link (the same every time it is asked for)."""
    return signing.sign(
        str(invitation.id),
        purpose=PURPOSE,
        expires_at=invitation.expires_at.timestamp(),
        secret=secret,
    )


def link_path(token: str) -> str:
    """The survey page's path for ``token``, for whatever carries the link (e-mail, SMS).

    >>> link_path("7.1767225600.sig")
    '/s/7.1767225600.sig'
    """
    return f"/s/{token}"


def open_link(*, session: Session, token: str, secret: bytes, now: datetime) -> SurveyInvitation:
    """The link's row if it may still be answered; :class:`LinkRefused` says why not."""
    signed = signing.read(token, purpose=PURPOSE, secret=secret, now=now.timestamp())
    row = None
    if signed is not None and signed.subject.isdigit():
        row = session.get(SurveyInvitation, int(signed.subject))
    if signed is None or row is None:
        raise LinkRefused("forged")
    if not signed.valid:
        raise LinkRefused("expired", datetime.fromtimestamp(signed.expires_at, UTC))
    if row.answered_at is not None:
        raise LinkRefused("answered")
    return row


def answer_link(
    *,
    session: Session,
    token: str,
    secret: bytes,
    survey: SurveyDefinition,
    raw: Mapping[str, str],
    now: datetime,
) -> SurveyInvitation:
    """Record the answers given on a link, once: the link is used up in the same transaction.

    :class:`LinkRefused` for a forged, expired or used link; :class:`ValidationFailed`
    naming each question whose answer breaks its scale.
    """
    invitation = open_link(session=session, token=token, secret=secret, now=now)
    answers = check_answers(survey, raw)
    used = session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation.id, SurveyInvitation.answered_at.is_(None))
        .values(answered_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(used, "rowcount", 0) != 1:
        raise LinkRefused("answered")
    event_log.append(session, answer_events(invitation, survey, answers, at=now.timestamp()))
    audit.record(
        session,
        actor=CUSTOMER,
        action="survey.answer",
        target=f"contact:{invitation.contact_id}",
        detail={"invitation": invitation.id, "survey": survey.id},
    )
    session.refresh(invitation)
    return invitation


def answer_events(
    invitation: SurveyInvitation,
    survey: SurveyDefinition,
    answers: Mapping[str, Any],
    *,
    at: float,
) -> list[Event]:
    """The ``survey_answered`` events of one response: one holding every answer (and, as
    ``score`` of ``scale_max`` 5, the overall CSAT that METRICS.md's ``csat`` counts), and
    one per NPS answer (``score`` of ``scale_max`` 10)."""
    channel = Channel(invitation.channel) if invitation.channel in _CHANNELS else None
    common = {
        "survey": survey.id,
        "response": invitation.id,
        "product": invitation.product,
    }
    whole: dict[str, Any] = {**common, "answers": dict(answers)}
    overall = survey.overall_question()
    if overall is not None and overall in answers:
        whole.update(score=answers[overall], scale_max=5, question=overall)

    def event(data: Mapping[str, Any]) -> Event:
        return Event(
            0,
            at,
            EventKind.SURVEY_ANSWERED,
            contact_id=invitation.contact_id,
            agent_id=invitation.agent_id,
            queue=invitation.queue,
            channel=channel,
            data=data,
        )

    events = [event(whole)]
    for question in survey.questions:
        if question.kind == "nps" and question.id in answers:
            events.append(
                event(
                    {
                        **common,
                        "score": answers[question.id],
                        "scale_max": 10,
                        "question": question.id,
                    }
                )
            )
    return events


_CHANNELS = {c.value for c in Channel}


def responses(
    *,
    session: Session,
    since: float,
    until: float,
    teams: Mapping[str, str],
    definitions: Sequence[SurveyDefinition] = (),
) -> list[Response]:
    """Every survey response answered in ``[since, until)`` (Unix seconds), from any channel."""
    rows = session.scalars(
        select(ContactEventRow)
        .where(
            ContactEventRow.kind == EventKind.SURVEY_ANSWERED.value,
            ContactEventRow.at >= since,
            ContactEventRow.at < until,
        )
        .order_by(ContactEventRow.at, ContactEventRow.seq, ContactEventRow.id)
    )
    return responses_from_events(
        (event_log.event_of(row) for row in rows), teams=teams, definitions=definitions
    )


def monthly_report(
    *,
    session: Session,
    month: str,
    since: datetime,
    until: datetime,
    timezone: str,
    teams: Mapping[str, str],
    definitions: Sequence[SurveyDefinition] = (),
) -> VocReport:
    """The voice-of-the-customer report of ``month`` (``[since, until)``), by product line."""
    found = responses(
        session=session,
        since=since.timestamp(),
        until=until.timestamp(),
        teams=teams,
        definitions=definitions,
    )
    return build_report(found, month=month, timezone=timezone)


def handled_contacts(
    *, session: Session, since: float, until: float
) -> dict[str, dict[str, str | None]]:
    """The contacts an agent answered in ``[since, until)``, by channel, each with the agent
    who answered it: the base of the response rates."""
    rows = session.execute(
        select(ContactEventRow.channel, ContactEventRow.contact_id, ContactEventRow.agent_id).where(
            ContactEventRow.kind == EventKind.ANSWERED.value,
            ContactEventRow.at >= since,
            ContactEventRow.at < until,
            ContactEventRow.contact_id.is_not(None),
        )
    )
    handled: dict[str, dict[str, str | None]] = {}
    for channel, contact_id, agent_id in rows:
        handled.setdefault(channel or "unknown", {})[str(contact_id)] = agent_id
    return handled


@dataclass(frozen=True)
class ContactAnswer:
    """One survey response given about a contact, as a customer's or a ticket's history
    shows it: the overall score (``score`` of ``scale_max``, when the survey has an overall
    question) and every answer."""

    contact_id: str
    at: datetime
    survey: str
    channel: str | None
    agent_id: str | None
    score: float | None
    scale_max: int | None
    answers: dict[str, Any]


def answers_of_contacts(
    *, session: Session, contact_ids: Sequence[str], limit: int = 100
) -> list[ContactAnswer]:
    """The survey responses given about ``contact_ids``, oldest first, at most ``limit``.

    A response is one ``survey_answered`` event holding every answer; the extra per-question
    NPS events of the same response (:func:`answer_events`) are not listed again.
    """
    wanted = sorted({c for c in contact_ids if c})
    if not wanted:
        return []
    rows = session.scalars(
        select(ContactEventRow)
        .where(
            ContactEventRow.kind == EventKind.SURVEY_ANSWERED.value,
            ContactEventRow.contact_id.in_(wanted),
        )
        .order_by(ContactEventRow.at, ContactEventRow.seq, ContactEventRow.id)
    )
    found: list[ContactAnswer] = []
    for row in rows:
        data = row.data or {}
        if "answers" not in data or row.contact_id is None:
            continue
        found.append(
            ContactAnswer(
                contact_id=row.contact_id,
                at=datetime.fromtimestamp(row.at, UTC),
                survey=str(data.get("survey", "")),
                channel=row.channel,
                agent_id=row.agent_id,
                score=data.get("score"),
                scale_max=data.get("scale_max"),
                answers=dict(data["answers"]),
            )
        )
    return found[-limit:]


def invitations(
    *, session: Session, since: datetime, until: datetime
) -> list[tuple[str, str | None, bool]]:
    """The survey links sent in ``[since, until)``: each one's carrier (``email``, ``sms``),
    the agent of its contact and whether it was answered — the links' response rates."""
    rows = session.execute(
        select(
            SurveyInvitation.sent_via, SurveyInvitation.agent_id, SurveyInvitation.answered_at
        ).where(SurveyInvitation.created_at >= since, SurveyInvitation.created_at < until)
    )
    return [(via, agent, answered is not None) for via, agent, answered in rows]


# --------------------------------------------------------------------------- links by rule

#: Who sends the links the ``surveys.send`` rule asks for, in the audit log.
SWEEP_ACTOR = "surveys"
#: How far back the sweep looks for resolved tickets and finished contacts.
SWEEP_LOOKBACK = timedelta(days=3)

LINK_TEXT = {
    "zh-CN": "您好，感谢您联系我们。请花一分钟评价本次服务：\n{url}\n"
    "链接 {hours} 小时内有效，仅可使用一次。\n",
    "en": "Hello, thank you for contacting us. Please take a minute to rate our service:\n"
    "{url}\nThe link works once, for {hours} hours.\n",
}
LINK_SUBJECT = {"zh-CN": "服务满意度调查", "en": "How did we do?"}
SMS_TEXT = {
    "zh-CN": "感谢您联系我们，请为本次服务评分：{url}（{hours}小时内有效）",
    "en": "Thank you for contacting us. Please rate our service: {url} (valid {hours} h)",
}


def link_language(language: str | None) -> Literal["zh-CN", "en"]:
    """The survey page's language for a customer's ``language`` (zh-CN unless English)."""
    return "en" if (language or "").lower().startswith("en") else "zh-CN"


@dataclass
class LinkSweep:
    """What one sweep did: links sent by carrier, occasions skipped with why, SMS refused
    for good (``refused``) and SMS refused for now, to be tried again (``retrying``)."""

    emailed: list[int]
    texted: list[int]
    skipped: dict[str, str]
    refused: dict[int, str]
    retrying: dict[int, str] = field(default_factory=dict)


def send_due_links(
    *,
    session: Session,
    config: SurveysConfig | None,
    secret: bytes,
    now: datetime,
    gateway: sms.SmsGateway | None = None,
    lookback: timedelta = SWEEP_LOOKBACK,
) -> LinkSweep:
    """Send the survey links the center's ``surveys.send`` rule asks for now.

    Each link is recorded (its row holds the occasion, unique) and committed *before* its SMS
    goes out, so a crash between the two leaves the link unsent rather than sent twice; an
    e-mail is queued in the same transaction as its link (the outbox sends it later). An
    occasion still in its waiting time is left for a later sweep; one decided against is not
    recorded and is looked at again until it falls out of ``lookback``. A link whose SMS was
    refused for now (the gateway down, quiet hours) is tried again by later sweeps, with
    growing waits, until the rule's ``sms_attempts`` are spent or the link expires; then it
    is marked failed with the reason. Commits.
    """
    result = LinkSweep([], [], {}, {})
    rule = config.send if config is not None else None
    if config is None or rule is None:
        return result
    survey = config.definition(rule.survey)
    if gateway is not None:
        _retry_texts(session, config=config, secret=secret, now=now, gateway=gateway, into=result)
    mailbox = any(True for _ in email.list_mailboxes(session, active_only=True))
    invited: set[int] = set()  # customers sent a link by this sweep
    for found, facts in _occasions(session, config=config, since=now - lookback):
        occasion = found
        if occasion.customer_id in invited:
            occasion = replace(occasion, last_invited=now)
        decision: Decision = decide(
            rule, occasion, now=now, sms_gateway=gateway is not None, mailbox=mailbox
        )
        if decision.action == "wait":
            continue
        if decision.action == "skip":
            result.skipped[occasion.key] = decision.reason
            continue
        assert occasion.customer_id is not None
        invited.add(occasion.customer_id)
        invitation, token = send_link(
            session=session,
            survey=survey,
            contact_id=facts.contact_id,
            sent_by=SWEEP_ACTOR,
            sent_via=decision.action,
            ttl_hours=config.link_ttl_hours,
            secret=secret,
            now=now,
            ticket_number=occasion.key.removeprefix("ticket:")
            if occasion.kind == "ticket"
            else None,
            facts=facts,
            customer_id=occasion.customer_id,
            occasion=occasion.key,
        )
        language, url = _link_url(
            session, customer_id=occasion.customer_id, base_url=rule.base_url, token=token
        )
        if decision.action == "email":
            assert occasion.email is not None
            email.queue_notice(
                session,
                to=occasion.email,
                subject=LINK_SUBJECT[language],
                text=LINK_TEXT[language].format(url=url, hours=config.link_ttl_hours),
                kind="survey",
                author=SWEEP_ACTOR,
                now=now,
            )
            _commit(session)
            result.emailed.append(invitation.id)
            continue
        assert occasion.mobile is not None and gateway is not None
        invitation.sms_state = "sending"
        _commit(session)  # the link first: a crash from here on never sends it twice
        _text_link(
            session, invitation, config=config, to=occasion.mobile,
            text=SMS_TEXT[language].format(url=url, hours=config.link_ttl_hours),
            now=now, gateway=gateway, into=result,
        )  # fmt: skip
    return result


def _link_url(
    session: Session, *, customer_id: int, base_url: str, token: str
) -> tuple[Literal["zh-CN", "en"], str]:
    """The customer's language and the link to the survey page in it."""
    language = link_language(crm.get_customer(session, customer_id=customer_id).language)
    return language, f"{base_url.rstrip('/')}{link_path(token)}?lang={language}"


def _text_link(
    session: Session,
    invitation: SurveyInvitation,
    *,
    config: SurveysConfig,
    to: str,
    text: str,
    now: datetime,
    gateway: sms.SmsGateway,
    into: LinkSweep,
) -> None:
    """One attempt at a link's SMS (its row already committed as ``sending``), and what
    became of it: sent, pending a later try, or failed for good. Commits."""
    assert config.send is not None
    outcome = sms.send_sms(
        session=session, gateway=gateway, to=to, text=text, purpose="survey",
        actor=SWEEP_ACTOR, now=now,
    )  # fmt: skip
    invitation.sms_attempts += 1
    invitation.sms_next_try_at = None
    if outcome.status == "sent":
        invitation.sms_state, invitation.sms_reason = "sent", None
        into.texted.append(invitation.id)
        _commit(session)
        return
    again = (
        next_try(
            config.send, attempts=invitation.sms_attempts, now=now, not_before=outcome.retry_at
        )
        if outcome.retryable
        else None
    )
    if again is not None and again < invitation.expires_at:
        invitation.sms_state, invitation.sms_next_try_at = "pending", again
        invitation.sms_reason = outcome.reason[:255]
        into.retrying[invitation.id] = (
            f"{outcome.reason}; tried again at {again:%Y-%m-%d %H:%M} UTC"
        )
    else:
        why = outcome.reason
        if outcome.retryable:
            why = f"{why} (gave up after {invitation.sms_attempts} attempt(s))"
        invitation.sms_state, invitation.sms_reason = "failed", why[:255]
        into.refused[invitation.id] = why
    _commit(session)


def _retry_texts(
    session: Session,
    *,
    config: SurveysConfig,
    secret: bytes,
    now: datetime,
    gateway: sms.SmsGateway,
    into: LinkSweep,
) -> None:
    """Try again the links whose SMS is due another attempt. Each is claimed (``pending`` to
    ``sending``, committed) before its SMS goes out, so two sweeps never both send it and a
    crash mid-send leaves it unsent rather than sent twice. Commits."""
    assert config.send is not None
    due = session.scalars(
        select(SurveyInvitation.id)
        .where(SurveyInvitation.sms_state == "pending", SurveyInvitation.sms_next_try_at <= now)
        .order_by(SurveyInvitation.id)
    ).all()
    for invitation_id in due:
        claimed = session.execute(
            update(SurveyInvitation)
            .where(SurveyInvitation.id == invitation_id, SurveyInvitation.sms_state == "pending")
            .values(sms_state="sending")
        )
        _commit(session)
        invitation = session.get(SurveyInvitation, invitation_id)
        if getattr(claimed, "rowcount", 0) != 1 or invitation is None:
            continue  # another sweep has it
        session.refresh(invitation)
        mobile = None
        if invitation.customer_id is not None:
            mobile = crm.reach(session, customer_id=invitation.customer_id).mobile
        why = ""
        if now >= invitation.expires_at:
            why = "the link expired before its SMS could go out"
        elif invitation.customer_id is None or mobile is None:
            why = "the customer has no mobile number any more"
        if why or invitation.customer_id is None or mobile is None:
            invitation.sms_state, invitation.sms_reason = "failed", why
            into.refused[invitation.id] = why
            _commit(session)
            continue
        token = _token(invitation, secret=secret)
        language, url = _link_url(
            session, customer_id=invitation.customer_id, base_url=config.send.base_url, token=token
        )
        _text_link(
            session, invitation, config=config, to=mobile,
            text=SMS_TEXT[language].format(url=url, hours=config.link_ttl_hours),
            now=now, gateway=gateway, into=into,
        )  # fmt: skip


def _commit(session: Session) -> None:
    """Commit, and declare the next transaction a writer again (SQLite's write gate)."""
    session.commit()
    writing(session)


def _occasions(
    session: Session, *, config: SurveysConfig, since: datetime
) -> list[tuple[Occasion, ContactFacts]]:
    """The resolved tickets and finished contacts the rule may follow that have no link yet,
    with what the survey's answers will be counted under."""
    rule = config.send
    assert rule is not None
    found: list[tuple[str, str, str, datetime, int | None, ContactFacts]] = []
    if rule.after_tickets:
        for ticket in tickets.resolved_since(session, since=since, types=rule.after_tickets):
            facts = ContactFacts(
                ticket.contact_id or f"ticket:{ticket.number}", None, ticket.queue, ticket.assignee
            )
            if ticket.contact_id is not None:
                # A contact the event log does not hold keeps the ticket's own queue.
                with contextlib.suppress(ValidationFailed):
                    facts = contact_facts(session, contact_id=ticket.contact_id)
            found.append(
                (f"ticket:{ticket.number}", "ticket", ticket.type, ticket.resolved_at,
                 ticket.customer_id, facts)
            )  # fmt: skip
    if rule.after_contacts:
        for contact in crm.contacts_since(session, since=since, channels=rule.after_contacts):
            assert contact.contact_id is not None
            facts = ContactFacts(contact.contact_id, contact.channel, None, contact.agent_id)
            with_events = session.scalar(
                select(func.count()).where(ContactEventRow.contact_id == contact.contact_id)
            )
            if with_events:
                facts = contact_facts(session, contact_id=contact.contact_id)
            found.append(
                (f"contact:{contact.contact_id}", "contact", contact.channel, contact.at,
                 contact.customer_id, facts)
            )  # fmt: skip
    keys = [key for key, *_ in found]
    sent = set(
        session.scalars(select(SurveyInvitation.occasion).where(SurveyInvitation.occasion.in_(keys)))
    ) if keys else set()  # fmt: skip
    occasions = []
    seen: set[str] = set()
    for key, kind, what, ended, customer_id, facts in found:
        if key in sent or key in seen:
            continue
        seen.add(key)
        reach = crm.reach(session, customer_id=customer_id) if customer_id else None
        mobile = reach.mobile if reach else None
        occasion = Occasion(
            key,
            "ticket" if kind == "ticket" else "contact",
            what,
            ended,
            customer_id,
            email=reach.email if reach else None,
            mobile=mobile,
            last_invited=_last_invited(session, customer_id) if customer_id else None,
            answered_in_channel=kind == "contact" and _answered(session, facts.contact_id),
            do_not_call=mobile is not None
            and campaigns.listing(session, number=mobile) is not None,
        )
        occasions.append((occasion, facts))
    return occasions


def _last_invited(session: Session, customer_id: int) -> datetime | None:
    """When the customer was last sent a link by rule."""
    return session.scalar(
        select(func.max(SurveyInvitation.created_at)).where(
            SurveyInvitation.customer_id == customer_id
        )
    )


def _answered(session: Session, contact_id: str) -> bool:
    """Whether the contact already holds a survey answer (the IVR's, chat's, a link's)."""
    return bool(
        session.scalar(
            select(func.count()).where(
                ContactEventRow.contact_id == contact_id,
                ContactEventRow.kind == EventKind.SURVEY_ANSWERED.value,
            )
        )
    )
