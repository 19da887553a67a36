"""Survey pages: the customer's public survey page and the managers' survey results.

``/s/<token>`` is the page a survey link opens. It needs no account — the signed token is the
customer's proof — and answers once: a forged or altered link gets 404, an expired one 410,
one already answered 409, each with a sentence saying so in the page language; the answers
go to :func:`hotline.surveys.service.answer_link`, which checks them against the survey's
questions and writes them to the contact event log. The page is a plain form (no script), so
it works on any phone.

``/surveys`` shows the month's results from ``/api/surveys/results``: CSAT, DSAT, NPS and
resolution with their intervals per queue, team, agent, product or channel, the response
rates per channel, the importance–performance chart, the DSAT root causes, QA against CSAT
and the month's voice-of-the-customer report to download (Excel, PDF).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from hotline.config.surveys import SurveyDefinition
from hotline.core.errors import ValidationFailed
from hotline.surveys import service as surveys
from hotline.web.access import current_center
from hotline.web.api.surveys import READERS, VOC_READERS
from hotline.web.auth import CurrentUser, db_session, read_session, require_roles
from hotline.web.i18n import catalog
from hotline.web.pages.rendering import page_context, render, templates

router = APIRouter(include_in_schema=False)

#: How each refusal of a link answers, in HTTP terms.
REFUSAL_STATUS = {"forged": 404, "expired": 410, "answered": 409}


def _texts(language: str, *prefixes: str) -> dict[str, str]:
    return {k: v for k, v in catalog(language).items() if k.startswith(prefixes)}


def _definition(request: Request, survey_id: str) -> SurveyDefinition | None:
    center = current_center(request)
    if center is None or center.surveys is None:
        return None
    try:
        return center.surveys.definition(survey_id)
    except KeyError:
        return None


def _page(request: Request, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, "survey.html", context, status_code=status_code)
    # A survey link is a secret: keep it out of other sites' Referer headers and of caches.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(request: Request, refusal: surveys.LinkRefused) -> HTMLResponse:
    context = page_context(request, None, refusal=refusal.reason, definition=None)
    return _page(request, context, REFUSAL_STATUS[refusal.reason])


@router.get("/s/{token}", response_class=HTMLResponse)
def survey_page(
    token: str, request: Request, session: Session = Depends(read_session, scope="function")
) -> HTMLResponse:
    """The survey a link opens, or why it cannot be answered."""
    now = datetime.now(UTC)
    try:
        invitation = surveys.open_link(
            session=session, token=token, secret=request.app.state.secret, now=now
        )
    except surveys.LinkRefused as refusal:
        return _refused(request, refusal)
    definition = _definition(request, invitation.survey_id)
    if definition is None:
        return _refused(request, surveys.LinkRefused("forged"))
    context = page_context(
        request, None, refusal=None, definition=definition, answers={}, problems={}, done=False
    )
    return _page(request, context)


@router.post("/s/{token}", response_class=HTMLResponse)
async def answer_survey(
    token: str, request: Request, session: Session = Depends(db_session, scope="function")
) -> HTMLResponse:
    """Record the customer's answers once; show the thanks, or the questions to correct."""
    form = await request.form()
    raw = {k: v for k, v in form.items() if isinstance(v, str)}
    now = datetime.now(UTC)
    try:
        invitation = surveys.open_link(
            session=session, token=token, secret=request.app.state.secret, now=now
        )
        definition = _definition(request, invitation.survey_id)
        if definition is None:
            raise surveys.LinkRefused("forged")
        surveys.answer_link(
            session=session,
            token=token,
            secret=request.app.state.secret,
            survey=definition,
            raw=raw,
            now=now,
        )
    except surveys.LinkRefused as refusal:
        return _refused(request, refusal)
    except ValidationFailed as failed:
        problems = {p.field: p.rule for p in failed.problems}
        context = page_context(
            request,
            None,
            refusal=None,
            definition=definition,
            answers=raw,
            problems=problems,
            done=False,
        )
        return _page(request, context, 422)
    context = page_context(request, None, refusal=None, definition=definition, done=True)
    return _page(request, context)


@router.get("/surveys", response_class=HTMLResponse)
def results_page(
    request: Request, user: CurrentUser = Depends(require_roles(*READERS))
) -> HTMLResponse:
    """The managers' survey results: figures with intervals, response rates, drivers."""
    center = current_center(request)
    zone = ZoneInfo(center.center.timezone if center is not None else "UTC")
    context = page_context(request, user)
    context.update(
        month=datetime.now(zone).strftime("%Y-%m"),
        texts=_texts(context["lang"], "surveys."),
        has_surveys=center is not None and center.surveys is not None,
        may_export=user.has(*VOC_READERS),
    )
    return render(request, "surveys.html", context)
