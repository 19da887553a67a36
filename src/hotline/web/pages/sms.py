"""The SMS page (``/sms``), for supervisors and administrators.

The SMS line's state (bound / retrying / off and its last error), today's messages in and
out, the message log both ways searched by number, and a form to text one customer. A shell
its script fills from ``/api/sms/*``, so the API's access rules and masking are the page's.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hotline.web.api.sms import FLOOR
from hotline.web.auth import CurrentUser
from hotline.web.i18n import catalog
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)


@router.get("/sms", response_class=HTMLResponse)
def sms_page(request: Request, user: CurrentUser = Depends(FLOOR)) -> HTMLResponse:
    """The SMS line, the message log and the form to send one message."""
    context = page_context(request, user)
    texts = {k: v for k, v in catalog(context["lang"]).items() if k.startswith("sms.")}
    context.update(texts=texts)
    return render(request, "sms.html", context)
