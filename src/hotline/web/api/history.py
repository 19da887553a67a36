"""The history entries the ticket page and the customer page share: contacts (with their
recordings, for the roles that may hear them), survey answers and follow-up tasks.

The records come from :mod:`hotline.desk.history`; here they become response models, masked
for the reader: a survey's free-text answers and a contact's summary are the customer's own
words (``PersonalField.CONTENT``), shown as ``***`` to roles that may not read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import Request
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.desk import history as desk
from hotline.identity.roles import RECORDING_ROLES, PersonalField, hidden_fields
from hotline.store.models.telephony import Recording
from hotline.web.access import scope_of
from hotline.web.api.responses import Number, ResponseModel
from hotline.web.auth import CurrentUser

HIDDEN = "***"


class RecordingLinkOut(ResponseModel):
    """A recording of a contact, to play in the browser (the playback is audited)."""

    id: int
    seconds: Number
    audio: str = Field(description="The address of its audio (``GET``, WAV).")


class OverviewContactOut(ResponseModel):
    """One contact with the customer, on any channel (voice, chat, wechat, sms, email…):
    the queue that served it and how it ended (null for one recorded by hand), and ``link``,
    the address of its record where the reader's role may see it (null otherwise): a chat's,
    WeChat's or SMS conversation's transcript, an e-mail's thread, a call's recordings."""

    at: datetime
    channel: str
    direction: str
    contact_id: str | None
    agent_id: str | None
    queue: str | None = None
    outcome: str | None = None
    summary: str
    link: str | None = None


class ContactEntryOut(OverviewContactOut):
    """A contact (call, chat, e-mail…) with the customer; ``recordings`` lists only those the
    reader may hear (none for roles without recordings, a team lead's own teams' only)."""

    recordings: list[RecordingLinkOut]


class SurveyAnswerOut(ResponseModel):
    """One survey response about a contact: the overall ``score`` of ``scale_max`` (null when
    the survey asks none) and every answer (free text masked for roles without it)."""

    at: datetime
    contact_id: str
    survey: str
    channel: str | None
    agent_id: str | None
    score: Number | None
    scale_max: int | None
    answers: dict[str, Any]


class FollowupOut(ResponseModel):
    """A follow-up (回访) task of a ticket: when made and due, its state (open, verified,
    reopened, unreached…), how many calls were tried and, once ended, the answers."""

    id: int
    ticket_id: int
    ticket_number: str | None
    rule: str
    priority: str
    state: str
    created_at: datetime
    due_at: datetime
    finished_at: datetime | None
    attempts: int
    max_attempts: int
    answers: dict[str, Any]
    agent: str | None


class HistoryEntryOut(ResponseModel):
    """One entry of the ticket's whole history, oldest first. ``kind``: ``change`` (a state
    change, response or note: see the ticket's ``history``), ``contact``, ``survey``,
    ``followup`` (a task made) or ``followup_outcome`` (it ended); the field of that name
    holds the record (``change``: its index in ``history``)."""

    at: datetime
    kind: str
    change: int | None = None
    contact: ContactEntryOut | None = None
    survey: SurveyAnswerOut | None = None
    followup: FollowupOut | None = None


def hides_content(user: CurrentUser) -> bool:
    """True when ``user`` may not read the customer's own words."""
    return PersonalField.CONTENT in hidden_fields(user.roles)


#: Channels whose contacts are conversations with a transcript (``/api/chat/conversations``).
CONVERSATION_CHANNELS = frozenset({"chat", "wechat", "sms"})
#: The roles that read any chat transcript; a team lead their teams' agents', an agent their own.
CHAT_OVERSEERS = ("supervisor", "manager", "qa")
#: Who may read an e-mail contact's thread (``GET /api/email/contacts/{id}``): the roles that
#: see the customer's words (the route also hides a ticket the reader may not see).
THREAD_READERS = ("agent", "team_lead", "supervisor", "manager", "qa")


def may_read_chat(request: Request, user: CurrentUser, agent_id: str | None) -> bool:
    """True when ``user`` handled the chat, or oversees its agent (a team lead: their teams)."""
    if user.agent_id is not None and user.agent_id == agent_id:
        return True
    if user.has(*CHAT_OVERSEERS):
        return True
    return user.has("team_lead") and scope_of(request, user).covers(agent_id)


def record_link(
    request: Request,
    user: CurrentUser,
    *,
    channel: str,
    contact_id: str | None,
    agent_id: str | None,
) -> str | None:
    """The address of a contact's record that ``user`` may open, or ``None``: a conversation's
    transcript (chat, WeChat, SMS), an e-mail's thread, a call's recordings (the roles that
    may hear them; a team lead's own teams' only).

    Example: ``record_link(request, user, channel="email", contact_id="L1-7", agent_id=None)``
    is ``"/api/email/contacts/L1-7"`` for an agent.
    """
    if not contact_id:
        return None
    quoted = quote(contact_id, safe="")
    if channel in CONVERSATION_CHANNELS:
        readable = may_read_chat(request, user, agent_id)
        return f"/api/chat/conversations/{quoted}" if readable else None
    if channel == "email":
        return f"/api/email/contacts/{quoted}" if user.has(*THREAD_READERS) else None
    if RECORDING_ROLES & set(user.roles) and scope_of(request, user).covers(agent_id):
        return f"/api/contacts/{quoted}/recordings"
    return None


def linked_contacts(
    request: Request, user: CurrentUser, contacts: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """A screen pop's last contacts, each with the link to its record ``user`` may open."""
    return [
        {
            **c,
            "link": record_link(
                request,
                user,
                channel=c["channel"],
                contact_id=c.get("contact_id"),
                agent_id=c.get("agent_id"),
            ),
        }
        for c in contacts
    ]


def recordings_of(
    request: Request, user: CurrentUser, session: Session, contact_ids: Iterable[str | None]
) -> dict[str, list[RecordingLinkOut]]:
    """The recordings of ``contact_ids`` the reader may hear, by contact id."""
    wanted = sorted({c for c in contact_ids if c})
    if not wanted or not RECORDING_ROLES & set(user.roles):
        return {}
    scope = scope_of(request, user)
    found: dict[str, list[RecordingLinkOut]] = {}
    query = (
        select(Recording)
        .where(Recording.contact_id.in_(wanted))
        .order_by(Recording.recorded_at, Recording.id)
    )
    for recording in session.scalars(query):
        if scope.covers(recording.agent_id):
            found.setdefault(recording.contact_id, []).append(
                RecordingLinkOut(
                    id=recording.id,
                    seconds=recording.seconds,
                    audio=f"/api/recordings/{recording.id}/audio",
                )
            )
    return found


def contact_out(
    request: Request,
    user: CurrentUser,
    contact: Any,
    *,
    recordings: Mapping[str, list[RecordingLinkOut]],
) -> ContactEntryOut:
    """A CRM contact record as the pages show it to ``user`` (the summary masked for roles
    without the customer's words; the link to its record where their role may open it)."""
    return ContactEntryOut(
        at=contact.at,
        channel=contact.channel,
        direction=contact.direction,
        contact_id=contact.contact_id,
        agent_id=contact.agent_id,
        queue=contact.queue,
        outcome=contact.outcome,
        summary=HIDDEN if hides_content(user) and contact.summary else contact.summary,
        link=record_link(
            request,
            user,
            channel=contact.channel,
            contact_id=contact.contact_id,
            agent_id=contact.agent_id,
        ),
        recordings=recordings.get(contact.contact_id or "", []),
    )


def survey_out(answer: Any, *, masked: bool) -> SurveyAnswerOut:
    """A survey response as the pages show it (free-text answers hidden when ``masked``)."""
    answers = {
        key: HIDDEN if masked and isinstance(value, str) and value else value
        for key, value in answer.answers.items()
    }
    return SurveyAnswerOut(
        at=answer.at,
        contact_id=answer.contact_id,
        survey=answer.survey,
        channel=answer.channel,
        agent_id=answer.agent_id,
        score=answer.score,
        scale_max=answer.scale_max,
        answers=answers,
    )


def followup_out(task: Any, *, numbers: Mapping[int, str], masked: bool) -> FollowupOut:
    """A follow-up task as the pages show it (the customer's comment hidden when ``masked``)."""
    answers = {
        key: HIDDEN if masked and isinstance(value, str) and value else value
        for key, value in dict(task.answers).items()
    }
    return FollowupOut(
        id=task.id,
        ticket_id=task.ticket_id,
        ticket_number=numbers.get(task.ticket_id),
        rule=task.rule,
        priority=task.priority,
        state=task.state,
        created_at=task.created_at,
        due_at=task.due_at,
        finished_at=task.finished_at,
        attempts=task.attempts,
        max_attempts=task.max_attempts,
        answers=answers,
        agent=task.agent,
    )


def timeline_out(
    request: Request,
    user: CurrentUser,
    session: Session,
    entries: list[desk.Entry],
    *,
    number: str,
) -> list[HistoryEntryOut]:
    """The ticket's whole history as the page shows it; ``change`` entries point into the
    ticket's ``history`` (its changes, in the same order)."""
    masked = hides_content(user)
    contacts = [e.item for e in entries if e.kind == "contact"]
    recordings = recordings_of(request, user, session, (c.contact_id for c in contacts))
    # the ticket's ``history`` lists its changes in the order they were made (by id)
    position = {
        change_id: index
        for index, change_id in enumerate(sorted(e.item.id for e in entries if e.kind == "change"))
    }
    shown: list[HistoryEntryOut] = []
    for entry in entries:
        item: Any = entry.item
        fields: dict[str, Any] = {}
        if entry.kind == "change":
            fields["change"] = position[item.id]
        elif entry.kind == "contact":
            fields["contact"] = contact_out(request, user, item, recordings=recordings)
        elif entry.kind == "survey":
            fields["survey"] = survey_out(item, masked=masked)
        else:
            fields["followup"] = followup_out(item, numbers={item.ticket_id: number}, masked=masked)
        shown.append(HistoryEntryOut(at=entry.at, kind=entry.kind, **fields))
    return shown
