"""The screen pop and the desktop's knowledge search.

When a contact reaches an agent, the desktop looks up the customer behind it: customer(s),
products, recent contacts and the open tickets this agent may open, for the caller's number
(composed above the CRM and the service desk in :mod:`hotline.desk.customers`). Personal data
is masked for roles the policy keeps it from.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from hotline.identity.roles import hidden_fields
from hotline.web.access import hides_customer_identity, mask_personal
from hotline.web.api.live.guards import DESK, OWN_DESK, SUPERVISION, driver_of, holding, own
from hotline.web.api.live.schemas import KnowledgeHit, ScreenPop
from hotline.web.api.responses import errors
from hotline.web.auth import CurrentUser, db_session, require_roles

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
    driver = driver_of(request)
    holding(driver, agent_id, contact_id)
    attached = dict(driver.attached.get(contact_id, {}))
    number = attached.get("customer")
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

        pop = desk.screen_pop(
            session, calling_number=str(number), masked=hides_customer_identity(user.roles)
        )
        body.update(
            customers=pop.customers,
            products=pop.products,
            last_contacts=pop.last_contacts,
            # Only the tickets this agent may open: another queue's subjects stay unseen.
            open_tickets=visible_tickets(driver.center, user, pop.open_tickets),
        )
    return ScreenPop.model_validate(body)


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
