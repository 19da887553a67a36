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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline.config.surveys import SurveyDefinition
from hotline.core import signing
from hotline.core.errors import HotlineError, Problem, ValidationFailed
from hotline.core.events import Channel, Event, EventKind
from hotline.identity import audit
from hotline.store import event_log
from hotline.store.models.core import ContactEventRow
from hotline.store.models.surveys import SurveyInvitation
from hotline.surveys.answers import check_answers
from hotline.surveys.statistics import Response, responses_from_events
from hotline.surveys.voc import VocReport, build_report

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
) -> tuple[SurveyInvitation, str]:
    """Make a single-use link to ``survey`` about ``contact_id``; return its row and token."""
    facts = contact_facts(session, contact_id=contact_id)
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
    )
    session.add(invitation)
    session.flush()
    token = signing.sign(
        str(invitation.id),
        purpose=PURPOSE,
        expires_at=invitation.expires_at.timestamp(),
        secret=secret,
    )
    audit.record(
        session,
        actor=sent_by,
        action="survey.link",
        target=f"contact:{contact_id}",
        detail={"invitation": invitation.id, "survey": survey.id, "via": sent_via},
    )
    return invitation, token


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
