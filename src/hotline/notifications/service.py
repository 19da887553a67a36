"""Send in-app notifications and read a user's inbox.

Other domains send through :func:`send` in their own transaction: a complaint that needs a
team lead's acknowledgement, a work order dispatched to a provider, a ticket assigned to an
agent, an SLA clock that warns or breaches. A notification addressed to a role reaches
everyone who holds it (and ``admin``, who may do everything); one addressed to a user
reaches that user; one addressed to a service provider waits for that provider's staff.
Read receipts are per user.

Example::

    send(session, to=Addressee.role("team_lead"), kind="complaint_acknowledge",
         ticket_number="20260301000042", params={"level": "2"})
    inbox(session, username="li.na", roles=["team_lead"])
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from hotline.core.errors import NotFound
from hotline.identity.roles import Role
from hotline.store.db import utcnow
from hotline.store.models.notifications import Notification, NotificationRead

#: The kinds of notification and the parameters each carries (the pages render them).
KINDS: dict[str, tuple[str, ...]] = {
    "complaint_acknowledge": ("level", "subject"),  # a complaint waits for this role
    "ticket_escalated": ("subject", "by"),  # a ticket escalated to this role
    "ticket_assigned": ("subject", "by"),  # a ticket assigned to this user
    "work_order_dispatched": ("subject",),  # a work order sent to this provider
    "sla_escalation": ("clock", "stage"),  # an SLA clock warns or breached
    "followup_due_soon": ("task", "due_at"),  # a follow-up (回访) task is due soon
    "followup_overdue": ("task", "due_at"),  # a follow-up task is past its due time
    "kpi_alert": (
        "alert",
        "metric",
        "where",
        "day",
        "value",
        "detail",
    ),  # a target or limit crossed
}
ADDRESSEE_KINDS = ("role", "user", "provider")


@dataclass(frozen=True)
class Addressee:
    """Whom a notification is for: a role, a user (by username) or a service provider."""

    kind: str
    name: str

    @classmethod
    def role(cls, name: str) -> Addressee:
        return cls("role", Role(name).value)

    @classmethod
    def user(cls, name: str) -> Addressee:
        return cls("user", name)

    @classmethod
    def provider(cls, code: str) -> Addressee:
        return cls("provider", code)


def send(
    session: Session,
    *,
    to: Addressee,
    kind: str,
    ticket_number: str | None = None,
    params: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Notification:
    """Write one notification in the caller's transaction; it is delivered when that commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; known: {', '.join(KINDS)}")
    if to.kind not in ADDRESSEE_KINDS or not to.name:
        raise ValueError(f"a notification goes to a role, a user or a provider, not {to}")
    row = Notification(
        created_at=now or utcnow(),
        addressee_kind=to.kind,
        addressee=to.name,
        kind=kind,
        ticket_number=ticket_number,
        params={key: str(value) for key, value in (params or {}).items()},
    )
    session.add(row)
    return row


def was_sent(session: Session, *, to: Addressee, kind: str, params: dict[str, Any]) -> bool:
    """True when a notification of ``kind`` with these ``params`` already went to ``to``
    (so a check run twice sends each alert once)."""
    wanted = {key: str(value) for key, value in params.items()}
    query = select(Notification.params).where(
        Notification.kind == kind,
        Notification.addressee_kind == to.kind,
        Notification.addressee == to.name,
    )
    return any(dict(sent) == wanted for sent in session.scalars(query))


def _reaches(username: str, roles: list[str] | tuple[str, ...], provider: str | None = None) -> Any:
    """The SQL condition "this notification is addressed to this user" (or, for a field
    service provider's staff, to their ``provider``)."""
    mine = Notification.addressee_kind == "user", Notification.addressee == username
    theirs = [and_(*mine)]
    if provider is not None:
        theirs.append(
            and_(Notification.addressee_kind == "provider", Notification.addressee == provider)
        )
    if Role.ADMIN in roles:
        return or_(Notification.addressee_kind == "role", *theirs)
    return or_(
        and_(Notification.addressee_kind == "role", Notification.addressee.in_(list(roles))),
        *theirs,
    )


@dataclass(frozen=True)
class InboxItem:
    """One notification as its reader sees it."""

    id: int
    created_at: datetime
    kind: str
    addressee_kind: str
    addressee: str
    ticket_number: str | None
    params: dict[str, str]
    read: bool


def inbox(
    session: Session,
    *,
    username: str,
    roles: list[str] | tuple[str, ...],
    unread_only: bool = False,
    limit: int = 50,
    provider: str | None = None,
) -> list[InboxItem]:
    """The newest notifications that reach this user, newest first."""
    read = (
        select(NotificationRead.notification_id)
        .where(NotificationRead.username == username)
        .scalar_subquery()
    )
    query = select(Notification, Notification.id.in_(read)).where(
        _reaches(username, roles, provider)
    )
    if unread_only:
        query = query.where(Notification.id.not_in(read))
    rows = session.execute(query.order_by(Notification.id.desc()).limit(limit)).all()
    return [
        InboxItem(
            id=n.id,
            created_at=n.created_at,
            kind=n.kind,
            addressee_kind=n.addressee_kind,
            addressee=n.addressee,
            ticket_number=n.ticket_number,
            params=dict(n.params),
            read=bool(is_read),
        )
        for n, is_read in rows
    ]


def unread_count(
    session: Session,
    *,
    username: str,
    roles: list[str] | tuple[str, ...],
    provider: str | None = None,
) -> int:
    """How many notifications reaching this user are unread."""
    read = select(NotificationRead.notification_id).where(NotificationRead.username == username)
    query = (
        select(func.count())
        .select_from(Notification)
        .where(_reaches(username, roles, provider), Notification.id.not_in(read.scalar_subquery()))
    )
    return int(session.scalar(query) or 0)


def mark_read(
    session: Session,
    *,
    username: str,
    roles: list[str] | tuple[str, ...],
    notification_id: int | None = None,
    now: datetime | None = None,
    provider: str | None = None,
) -> int:
    """Mark one notification (or, with no id, every one) read for this user; return how many.

    A notification that does not reach the user is :class:`NotFound` for them.
    """
    read = select(NotificationRead.notification_id).where(NotificationRead.username == username)
    query = select(Notification.id).where(
        _reaches(username, roles, provider), Notification.id.not_in(read.scalar_subquery())
    )
    if notification_id is not None:
        reaches = session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.id == notification_id, _reaches(username, roles, provider))
        )
        if not reaches:
            raise NotFound(f"notification {notification_id} does not exist")
        query = query.where(Notification.id == notification_id)
    ids = list(session.scalars(query))
    at = now or utcnow()
    session.add_all(NotificationRead(notification_id=i, username=username, read_at=at) for i in ids)
    session.flush()
    return len(ids)
