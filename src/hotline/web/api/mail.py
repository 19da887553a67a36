"""E-mail API: a ticket's e-mail thread and replies, attachments, mailboxes, the quarantine.

    GET    /api/tickets/7/emails              -> the thread, oldest first (ticket viewers)
    POST   /api/tickets/7/emails              -> queue a reply to the customer (the desk)
    POST   /api/tickets/7/emails/no-reply     -> end the e-mail contact with no reply (the desk)
    GET    /api/email/contacts/email_01..     -> an e-mail contact's thread (QA; audited)
    GET    /api/email/attachments/3           -> one attachment as a file (ticket viewers)
    GET    /api/email/mailboxes               -> the mailboxes, passwords only as "set" (admin)
    PUT    /api/email/mailboxes               -> create or update one, checked first (admin)
    DELETE /api/email/mailboxes/help@x.cn     -> remove one (admin)
    GET    /api/email/quarantine              -> messages that could not be read (admin)

A ticket's mail is seen by those who may see the ticket (``tickets.may_see_ticket``), with
addresses, subjects and text masked by the personal-data policy. A reply or "no reply needed"
ends the ticket's e-mail contact in progress; the live driver's e-mail router
(:mod:`hotline.web.email_relay`) then ends it in the routing engine. An e-mail contact's
thread goes only to the roles that may read the customer's words, and each reading is
audited (``email.contact.read``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.channels.email import service as mail
from hotline.channels.email.settings import MailboxSettings
from hotline.core.errors import NotFound
from hotline.crm.privacy import mask_email
from hotline.identity.audit import record as audit
from hotline.identity.roles import PersonalField, hidden_fields
from hotline.tickets import service as tickets
from hotline.web.api.history import THREAD_READERS
from hotline.web.api.responses import ResponseModel, errors, file_download
from hotline.web.api.tickets import VIEWERS, WORKERS, may_see_ticket
from hotline.web.auth import CurrentUser, db_session, require_roles, writer_session
from hotline.web.email_relay import wake_email_router
from hotline.web.fields import RecordId
from hotline.web.limits import NOTE_LENGTH

router = APIRouter(tags=["email"])
BINARY = {"type": "string", "format": "binary"}


class AttachmentOut(ResponseModel):
    """A file that came with a message (download it from ``/api/email/attachments/{id}``)."""

    id: int
    filename: str
    content_type: str
    size: int


class EmailOut(ResponseModel):
    """One message of a ticket's thread.

    ``direction``: ``in`` or ``out``; ``kind``: ``customer``, ``reply``, ``acknowledgement``
    or ``bounce``; ``status`` of an outgoing one: ``queued`` (waiting for the relay:
    ``attempts`` and ``last_error`` say why), ``sent``, ``failed``, ``bounced``
    (``bounce_reason``)."""

    id: int
    direction: str
    kind: str
    message_id: str | None
    sender: str
    recipients: list[str]
    subject: str
    body: str
    author: str
    status: str
    attempts: int
    last_error: str
    bounce_reason: str
    created_at: datetime
    sent_at: datetime | None
    attachments: list[AttachmentOut]


class ReplyIn(BaseModel):
    """An agent's reply to the customer's latest e-mail on the ticket."""

    text: str = Field(min_length=1, max_length=NOTE_LENGTH)


class MailboxOut(ResponseModel):
    """A mailbox as an administrator sees it (passwords are never shown, only whether set)."""

    address: str
    display_name: str
    queue: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    smtp_password_set: bool
    imap_host: str
    imap_port: int
    imap_security: str
    imap_username: str
    imap_password_set: bool
    imap_folder: str
    max_message_bytes: int
    auto_acknowledge: bool
    first_response_hours: float
    next_update_hours: float
    resolution_hours: float
    active: bool


class QuarantinedOut(ResponseModel):
    """A message that could not be read, kept raw (``preview``: its first 2,000 characters)."""

    id: int
    received_at: datetime
    mailbox: str
    source: str
    envelope_sender: str
    reason: str
    size: int
    preview: str


def _ticket(request: Request, user: CurrentUser, session: Session, ticket_id: int) -> int:
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    center = request.app.state.center
    if not may_see_ticket(center, user, queue=ticket.queue, assignee=ticket.assignee):
        raise HTTPException(404, f"ticket {ticket_id} does not exist")
    return ticket.id


def masked_email(user: CurrentUser, message: dict[str, Any]) -> EmailOut:
    """One message as ``user`` may see it (the personal-data policy's masks)."""
    hidden = hidden_fields(user.roles)
    view = dict(message)
    if PersonalField.EMAIL in hidden:
        view["sender"] = mask_email(str(view["sender"]))
        view["recipients"] = [mask_email(str(a)) for a in view["recipients"]]
    if PersonalField.SUBJECT in hidden:
        view["subject"] = "***"
    if PersonalField.CONTENT in hidden:
        view["body"] = ""
        view["attachments"] = []
    return EmailOut.model_validate(view)


@router.get("/api/tickets/{ticket_id}/emails", responses=errors(404, 422))
def ticket_emails(
    ticket_id: RecordId,
    request: Request,
    user: CurrentUser = Depends(require_roles(*VIEWERS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[EmailOut]:
    """The ticket's e-mail, oldest first, masked by the personal-data policy."""
    _ticket(request, user, session, ticket_id)
    return [masked_email(user, m) for m in mail.thread_of(session, ticket_id=ticket_id)]


@router.post("/api/tickets/{ticket_id}/emails", status_code=201, responses=errors(404, 409, 422))
def reply(
    ticket_id: RecordId,
    body: ReplyIn,
    request: Request,
    background: BackgroundTasks,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> EmailOut:
    """Queue a reply to the customer's latest e-mail (threading headers, the ticket number in
    the subject); it counts as an update to the customer and ends the ticket's e-mail contact
    in progress. 409 when there is no e-mail to answer. The outbox sends it (``hotline mail
    serve``), retrying while the relay is down."""
    _ticket(request, user, session, ticket_id)
    row = mail.queue_reply(session, ticket_id=ticket_id, text=body.text, actor=user.username)
    # After the commit (the session's scope is the handler): the router ends the contact.
    background.add_task(wake_email_router, request.app)
    session.flush()
    (view,) = [m for m in mail.thread_of(session, ticket_id=ticket_id) if m["id"] == row.id]
    return masked_email(user, view)


class ContactEndedOut(ResponseModel):
    """The e-mail contact just ended: ``ended_by`` ``reply`` or ``no_reply``."""

    contact_id: str
    ticket_id: int
    ended_by: str


@router.post(
    "/api/tickets/{ticket_id}/emails/no-reply", status_code=200, responses=errors(404, 409, 422)
)
def no_reply_needed(
    ticket_id: RecordId,
    request: Request,
    background: BackgroundTasks,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ContactEndedOut:
    """End the ticket's e-mail contact without a reply (a thank-you, an out-of-office): the
    handle time stops, the ticket stays as it is. 409 when no e-mail contact is in progress."""
    _ticket(request, user, session, ticket_id)
    contact = mail.close_without_reply(session, ticket_id=ticket_id, actor=user.username)
    background.add_task(wake_email_router, request.app)
    return ContactEndedOut(
        contact_id=contact.contact_id, ticket_id=contact.ticket_id, ended_by=contact.ended_by
    )


class ContactEmailOut(EmailOut):
    """A message of an e-mail contact's thread: ``in_contact`` tells this contact's own mail
    from the ticket's earlier mail, shown for context."""

    in_contact: bool


class ContactThreadOut(ResponseModel):
    """An e-mail contact's thread, oldest first, as the QA workspace shows it."""

    contact_id: str
    ticket_id: int
    ticket_number: str
    queue: str
    state: str
    ended_by: str
    messages: list[ContactEmailOut]


@router.get("/api/email/contacts/{contact_id}", responses=errors(404, 422))
def contact_thread(
    request: Request,
    contact_id: str = Path(max_length=64),
    user: CurrentUser = Depends(require_roles(*THREAD_READERS)),
    session: Session = Depends(writer_session, scope="function"),
) -> ContactThreadOut:
    """An e-mail contact's thread (the messages in and out, in order, with their attachments
    named) for evaluating it; audited. 404 for a contact that is not an e-mail or whose
    ticket the reader may not see."""
    try:
        found = mail.contact_thread(session, contact_id=contact_id)
    except NotFound:
        raise HTTPException(404, f"e-mail contact {contact_id} does not exist") from None
    ticket = tickets.get_ticket(session, ticket_id=found.ticket_id)
    if not may_see_ticket(
        request.app.state.center, user, queue=ticket.queue, assignee=ticket.assignee
    ):
        raise HTTPException(404, f"e-mail contact {contact_id} does not exist")
    audit(session, actor=user.username, action="email.contact.read", target=f"contact:{contact_id}")
    return ContactThreadOut(
        contact_id=found.contact_id,
        ticket_id=found.ticket_id,
        ticket_number=ticket.number,
        queue=found.queue,
        state=found.state,
        ended_by=found.ended_by,
        messages=[
            ContactEmailOut(
                **masked_email(
                    user, {k: v for k, v in m.items() if k != "in_contact"}
                ).model_dump(),
                in_contact=m["in_contact"],
            )
            for m in found.messages
        ],
    )


@router.get(
    "/api/email/attachments/{attachment_id}",
    response_class=Response,
    responses=file_download("The attachment as a file."),
)
def download_attachment(
    attachment_id: RecordId,
    request: Request,
    user: CurrentUser = Depends(require_roles(*VIEWERS)),
    session: Session = Depends(writer_session, scope="function"),
) -> Response:
    """One attachment, for those who may see its ticket and its content; audited."""
    row, ticket_id = mail.attachment(session, attachment_id=attachment_id)
    if ticket_id is None or PersonalField.CONTENT in hidden_fields(user.roles):
        raise HTTPException(404, f"attachment {attachment_id} does not exist")
    _ticket(request, user, session, ticket_id)
    audit(session, actor=user.username, action="email.attachment", target=f"attachment:{row.id}")
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in row.filename) or "attachment"
    return Response(
        row.data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


@router.get("/api/email/mailboxes", responses=errors())
def mailboxes(
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> list[MailboxOut]:
    """The configured mailboxes."""
    return [MailboxOut.model_validate(mail.mailbox_view(m)) for m in mail.list_mailboxes(session)]


@router.put("/api/email/mailboxes", responses=errors(422))
def save_mailbox(
    body: MailboxSettings,
    request: Request,
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> MailboxOut:
    """Create or update (by address) a mailbox; each problem comes back (422) with its field.
    Passwords are stored encrypted; leave one out to keep the stored one."""
    box = mail.save_mailbox(
        session, settings=body, secret=request.app.state.secret, actor=user.username
    )
    return MailboxOut.model_validate(mail.mailbox_view(box))


@router.delete("/api/email/mailboxes/{address}", status_code=204, responses=errors(404, 422))
def delete_mailbox(
    address: str = Path(max_length=254),
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> Response:
    """Remove a mailbox; its messages stay on their tickets."""
    mail.delete_mailbox(session, address=address, actor=user.username)
    return Response(status_code=204)


@router.get("/api/email/quarantine", responses=errors())
def quarantine(
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> list[QuarantinedOut]:
    """Received messages that could not be read, newest first, with the reason."""
    return [
        QuarantinedOut(
            id=q.id,
            received_at=q.received_at,
            mailbox=q.mailbox,
            source=q.source,
            envelope_sender=q.envelope_sender,
            reason=q.reason,
            size=q.size,
            preview=q.raw[:2000].decode("utf-8", "replace"),
        )
        for q in mail.list_quarantine(session)
    ]
