"""The customer pages: search (phone, name, ticket, serial number) with the duplicates
review, and one customer at a glance (360°).

The pages hold no data of their own: they call the customers API, which shows customers
masked until someone reveals one (audited), and the merge and undo routes for duplicates.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hotline.identity.roles import Role
from hotline.web.api.customers import READERS
from hotline.web.auth import CurrentUser, require_roles
from hotline.web.fields import RecordId
from hotline.web.i18n import catalog
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)


def _texts(language: str) -> dict[str, str]:
    return {
        k: v
        for k, v in catalog(language).items()
        if k.startswith(("cust.", "fu.state.", "channel."))
    }


@router.get("/customers", response_class=HTMLResponse)
def search(request: Request, user: CurrentUser = Depends(require_roles(*READERS))) -> HTMLResponse:
    """Find a customer; supervisors and managers also review likely duplicates here."""
    context = page_context(request, user)
    context.update(
        reviewer=user.has(Role.SUPERVISOR, Role.MANAGER),
        texts=_texts(context["lang"]),
    )
    return render(request, "customers.html", context)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer(
    request: Request,
    customer_id: RecordId,
    user: CurrentUser = Depends(require_roles(*READERS)),
) -> HTMLResponse:
    """One customer: identities, contact points, products, contacts and tickets."""
    context = page_context(request, user)
    context.update(customer_id=customer_id, texts=_texts(context["lang"]))
    return render(request, "customer.html", context)
