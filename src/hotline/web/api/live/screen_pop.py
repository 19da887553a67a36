"""The screen pop and the desktop's knowledge search.

When a contact reaches an agent, the desktop looks up the customer behind it: customer(s),
products, recent contacts and the open tickets this agent may open, for the caller's number
(composed above the CRM and the service desk in :mod:`hotline.desk.customers`). Personal data
is masked for roles the policy keeps it from. On a web node without the engine the contact
and its caller's number come from the log (:func:`.guards.held_contact`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hotline.identity.roles import hidden_fields
from hotline.web.access import hides_customer_identity, mask_personal
from hotline.web.api.history import linked_contacts
from hotline.web.api.live.guards import DESK, OWN_DESK, SUPERVISION, held_contact, own
from hotline.web.api.live.schemas import KnowledgeHit, PopIdentity, ScreenPop
from hotline.web.api.responses import errors
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.fields import RecordRef

router = APIRouter(prefix="/api/live", tags=["live"], responses=errors(422))


@router.get("/agents/{agent_id}/contacts/{contact_id}/screen-pop")
def screen_pop(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
    session: Session = Depends(db_session, scope="function"),
) -> ScreenPop:
    """Customer, products, recent contacts and open tickets for the caller's number.

    Falls back to the contact's attached data alone when the number matches no customer.
    """
    own(user, agent_id)
    held = held_contact(request, agent_id, contact_id)
    attached = held.attached
    number = attached.get("customer")
    chat = attached.get("chat") is True  # a web chat or a WeChat follower
    case = attached.get("callback_for")  # a callback: the contact it was promised in
    verified = attached.get("verified")  # a chat visitor's proof: login or code
    attached = mask_personal(attached, hidden_fields(user.roles))
    body: dict[str, Any] = {
        "contact_id": contact_id,
        "attached": attached,
        "customers": [],
        "products": [],
        "last_contacts": [],
        "open_tickets": [],
    }
    if number:
        from hotline.desk import customers as desk
        from hotline.web.api.tickets import visible_tickets

        masked = hides_customer_identity(user.roles)
        pop = desk.screen_pop(session, calling_number=str(number), masked=masked, chat=chat)
        body.update(
            customers=pop.customers,
            products=pop.products,
            last_contacts=linked_contacts(request, user, pop.last_contacts),
            # Only the tickets this agent may open: another queue's subjects stay unseen.
            open_tickets=visible_tickets(held.center, user, pop.open_tickets),
        )
        if chat:
            from hotline.crm import service as crm

            identity = crm.identity_of(str(number))
            if identity is not None:
                linked = crm.identity_linked(session, identity=identity)
                body["identity"] = _identity(linked, masked=masked, verified=verified)
    if case:
        body["case_chat"] = _case_chat(session, str(case))
    return ScreenPop.model_validate(body)


def _case_chat(session: Session, conversation_id: str) -> list[dict[str, Any]] | None:
    """The transcript of the chat a callback was asked for in, or ``None`` (not a chat)."""
    from hotline.channels.chat import service as chat_service
    from hotline.core.errors import NotFound

    try:
        transcript = chat_service.transcript(session=session, conversation_id=conversation_id)
    except NotFound:
        return None
    return [
        {
            "seq": m.seq,
            "at": m.at,
            "sender": m.sender.value,
            "kind": m.kind.value,
            "body": m.body,
        }
        for m in transcript.messages
    ]


class IdentityLink(BaseModel):
    """The customer a chat's or a WeChat follower's identity is to be linked to."""

    customer_id: RecordRef


def _identity(identity: Any, *, masked: bool, verified: Any = None) -> PopIdentity:
    return PopIdentity(
        kind=identity.kind,
        shown=identity.shown(masked=masked),
        customer_id=identity.customer_id,
        verified=verified if verified in ("login", "code") else None,
        matched=_MATCHED.get(identity.linked_by or "", "agent") if identity.linked_by else None,
    )


#: The links the customer's own proof made (``web.chat_identity``'s actors); others: agents'.
_MATCHED = {"chat-login": "login", "chat-code": "code"}


def _held_chat_identity(request: Request, user: CurrentUser, agent_id: str, contact_id: str) -> Any:
    """The channel identity of the chat ``contact_id`` the agent holds (403 for another
    agent's id; 409 for a contact not in their hands, a call, or a chat with no identity)."""
    from hotline.crm import service as crm

    own(user, agent_id)
    attached = held_contact(request, agent_id, contact_id).attached
    key = attached.get("customer")
    identity = crm.identity_of(str(key)) if key and attached.get("chat") is True else None
    if identity is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"{contact_id} is not a chat with a WeChat id, e-mail address or number to link",
        )
    return identity


@router.put("/agents/{agent_id}/contacts/{contact_id}/identity", responses=errors(404, 409))
def link_identity(
    agent_id: str,
    contact_id: str,
    body: IdentityLink,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
    session: Session = Depends(db_session, scope="function"),
) -> PopIdentity:
    """Link the chat's (or WeChat follower's) identity to a customer the agent matched.

    The next chat or WeChat message from that identity pops the customer and their open
    tickets. An identity belongs to one customer: linked to another, it is refused (409)
    until unlinked. Audited.
    """
    from hotline.crm import service as crm

    identity = _held_chat_identity(request, user, agent_id, contact_id)
    linked = crm.link_identity(
        session, customer_id=body.customer_id, identity=identity, actor=user.username
    )
    session.commit()
    return _identity(linked, masked=hides_customer_identity(user.roles))


@router.delete("/agents/{agent_id}/contacts/{contact_id}/identity", responses=errors(404, 409))
def unlink_identity(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
    session: Session = Depends(db_session, scope="function"),
) -> PopIdentity:
    """Unlink the chat's (or WeChat follower's) identity from its customer. Audited."""
    from hotline.crm import service as crm

    identity = _held_chat_identity(request, user, agent_id, contact_id)
    unlinked = crm.unlink_identity(session, identity=identity, actor=user.username)
    session.commit()
    return _identity(unlinked, masked=hides_customer_identity(user.roles))


@router.get("/knowledge")
def knowledge(
    q: str,
    user: CurrentUser = Depends(require_roles(*DESK, *SUPERVISION)),
    session: Session = Depends(db_session, scope="function"),
) -> list[KnowledgeHit]:
    """Search published knowledge articles (Chinese or English) from the desktop."""
    from hotline.kb import service as kb

    hits = kb.search(session, query=q[:200], limit=8)
    return [
        KnowledgeHit(article_id=h.article_id, title=h.title, score=h.score, version=h.version)
        for h in hits
    ]
