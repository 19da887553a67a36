"""Notifications API: the signed-in user's inbox, and marking notifications read.

Every signed-in role has an inbox: a team lead sees the complaints that wait for a team
lead's acknowledgement, an agent the tickets assigned to them, a supervisor the SLA clocks
that breach, a field-service provider's staff the work orders dispatched to their provider.
The pages show the unread count in the top bar and the list under it.

Example::

    GET  /api/notifications?unread=true     -> {"unread": 2, "items": [{"id": 9, ...}]}
    POST /api/notifications/9/read          -> {"marked": 1, "unread": 1}
    POST /api/notifications/read            -> {"marked": 1, "unread": 0}
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session

from hotline.identity.roles import ALL_ROLES
from hotline.notifications import service as notifications
from hotline.web.api.provider_portal import staff_of
from hotline.web.api.responses import ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, require_roles

router = APIRouter(prefix="/api/notifications", tags=["notifications"])

#: The largest id a notification can have (a signed 64-bit integer in the database).
MAX_ID = 2**63 - 1


class NotificationOut(ResponseModel):
    """One notification as its reader sees it; ``kind`` and ``params`` render the text."""

    id: int
    created_at: datetime
    kind: str
    addressee_kind: str
    addressee: str
    ticket_number: str | None
    params: dict[str, str]
    read: bool


class InboxOut(ResponseModel):
    """The caller's unread count and newest notifications, newest first."""

    unread: int
    items: list[NotificationOut]


class MarkedOut(ResponseModel):
    """How many notifications were marked read now, and how many are left unread."""

    marked: int
    unread: int


@router.get("", response_model=InboxOut, responses=errors(422))
def inbox(
    request: Request,
    unread: bool = Query(False, description="only the notifications not read yet"),
    limit: int = Query(50, ge=1, le=200),
    user: CurrentUser = Depends(require_roles(*ALL_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> InboxOut:
    """The caller's notifications: addressed to them or to a role they hold."""
    items = notifications.inbox(
        session,
        username=user.username,
        roles=user.roles,
        provider=staff_of(request, user),
        unread_only=unread,
        limit=limit,
    )
    return InboxOut(
        unread=notifications.unread_count(
            session, username=user.username, roles=user.roles, provider=staff_of(request, user)
        ),
        items=[NotificationOut.model_validate(item, from_attributes=True) for item in items],
    )


@router.post("/read", response_model=MarkedOut, responses=errors())
def read_all(
    request: Request,
    user: CurrentUser = Depends(require_roles(*ALL_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> MarkedOut:
    """Mark every notification that reaches the caller read."""
    marked = notifications.mark_read(
        session, username=user.username, roles=user.roles, provider=staff_of(request, user)
    )
    return MarkedOut(marked=marked, unread=0)


@router.post("/{notification_id}/read", response_model=MarkedOut, responses=errors(404, 422))
def read_one(
    request: Request,
    notification_id: int = Path(ge=1, le=MAX_ID),
    user: CurrentUser = Depends(require_roles(*ALL_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> MarkedOut:
    """Mark one notification read; 404 when it does not reach the caller."""
    marked = notifications.mark_read(
        session,
        username=user.username,
        roles=user.roles,
        provider=staff_of(request, user),
        notification_id=notification_id,
    )
    left = notifications.unread_count(
        session, username=user.username, roles=user.roles, provider=staff_of(request, user)
    )
    return MarkedOut(marked=marked, unread=left)
