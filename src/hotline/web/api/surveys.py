"""Surveys API: send a survey link after a contact, read the results with their intervals.

Who may do what:

* **Team leads, supervisors and managers** send a survey link about a contact by e-mail
  (through the e-mail channel's outbox); a team lead only about their own teams' agents'
  contacts. The link itself never comes back to the sender — the customer answers, not the
  staff — and the address is kept only on the outgoing message, not on the link.
* **Managers, supervisors, QA and team leads** read the results: CSAT (top-2-box), DSAT
  (bottom box), resolution and NPS per queue, team, agent, product or channel with their 95 %
  intervals, the response rate per channel and the importance–performance matrix of the
  center's survey. A team lead sees only responses about their teams' agents.

Sending is audited (``survey.link``); answering (on the public page) too (``survey.answer``).

Example::

    POST /api/surveys/links {"contact_id": "v-1", "email": "c@example.com"}
        -> {"invitation_id": 3, "expires_at": "...", "email_id": 12, ...}
    GET  /api/surveys/results?month=2026-12&by=agent
        -> {"overall": {"csat": {"share": 0.8, "low": 0.62, "high": 0.91, "n": 30}, ...}, ...}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.channels.email import service as email
from hotline.config.center import CenterConfig
from hotline.config.surveys import SurveyDefinition, SurveysConfig
from hotline.core.errors import NotFound, Problem, ValidationFailed
from hotline.identity.roles import PersonalField, Role, hidden_fields
from hotline.quality import service as quality
from hotline.surveys import service as surveys
from hotline.surveys.statistics import (
    Dimension,
    GroupFigures,
    NetPromoter,
    Proportion,
    drivers,
    figures,
    group_figures,
    link_rates,
    qa_versus_csat,
    response_rates,
)
from hotline.surveys.verbatims import root_causes
from hotline.surveys.voc import VocReport
from hotline.surveys.voc_export import pdf, workbook
from hotline.web.access import current_center, scope_of
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, read_session, require_roles

router = APIRouter(tags=["surveys"])

Language = Literal["zh-CN", "en"]

SENDERS = (Role.TEAM_LEAD, Role.SUPERVISOR, Role.MANAGER)
READERS = (Role.TEAM_LEAD, Role.SUPERVISOR, Role.MANAGER, Role.QA)
#: The whole floor's report for the product units: not a team lead's (they see their teams').
VOC_READERS = (Role.SUPERVISOR, Role.MANAGER, Role.QA)
CONFIDENCE = 0.95
NPS_METHOD = (
    "normal interval on the mean of the per-answer score (+1 promoter, 0 passive, "
    "-1 detractor): NPS ± z·100·√((p₊ + p₋ − (p₊ − p₋)²)/n)"
)
PROPORTION_METHOD = "Wilson score interval"


class LinkIn(BaseModel):
    """A survey link to e-mail to the customer about one contact."""

    contact_id: str = Field(min_length=1, max_length=128)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    survey_id: str | None = Field(None, max_length=64)
    product: str | None = Field(None, max_length=64)
    ticket_number: str | None = Field(None, max_length=32)
    language: Language = "zh-CN"


class LinkSent(ResponseModel):
    """The link made and the e-mail queued with it (the link itself stays in the e-mail)."""

    invitation_id: int
    contact_id: str
    survey_id: str
    expires_at: datetime
    email_id: int


class ShareOut(ResponseModel):
    """A share with its 95 % Wilson interval; ``share`` is null when nobody answered."""

    share: Number | None
    low: Number | None
    high: Number | None
    n: int


class NpsOut(ResponseModel):
    """NPS in points with its 95 % interval (see ``nps_method``)."""

    score: Number | None
    low: Number | None
    high: Number | None
    n: int


class GroupOut(ResponseModel):
    """The figures of one queue, team, agent, product or channel (or ``all``)."""

    group: str
    responses: int
    csat: ShareOut
    dsat: ShareOut
    nps: NpsOut
    resolved: ShareOut


class RateOut(ResponseModel):
    """Of the contacts handled on a channel, how many answered a survey; on the rows
    ``link:email`` and ``link:sms``, of the survey links sent by that carrier, how many
    were answered (``contacts`` then counts links)."""

    channel: str
    contacts: int
    responses: int
    rate: ShareOut


class DriverOut(ResponseModel):
    """One question in the importance–performance matrix."""

    question: str
    kind: str
    text: str
    importance: Number | None = Field(description="Pearson r with the overall CSAT answer")
    performance: Number | None = Field(description="mean answer on a 0–1 scale")
    n: int


class RootCauseOut(ResponseModel):
    """A group of dissatisfied customers' comments, named by its keywords."""

    keywords: list[str]
    size: int
    example: str = Field(
        description="the group's most typical comment (masked for roles "
        "that may not read customers' words)"
    )


class AgentQualityOut(ResponseModel):
    """One agent's mean QA score beside the mean overall CSAT customers gave them."""

    agent: str
    evaluations: int
    qa_mean: Number
    answers: int
    csat_mean: Number


class QaCsatOut(ResponseModel):
    """QA against CSAT: Pearson r across the agents with both (null under 3 agents)."""

    correlation: Number | None
    agents: list[AgentQualityOut]


class ResultsOut(ResponseModel):
    """A month's survey results, grouped ``by`` one attribute, with how they were computed."""

    month: str
    by: str
    confidence: Number
    proportion_method: str
    nps_method: str
    overall: GroupOut
    groups: list[GroupOut]
    response_rates: list[RateOut]
    survey_id: str | None
    drivers: list[DriverOut]
    dissatisfied_comments: int = Field(description="comments of responses with CSAT 1 or 2")
    root_causes: list[RootCauseOut]
    qa_csat: QaCsatOut


def surveys_config(request: Request) -> tuple[CenterConfig | None, SurveysConfig | None]:
    """The center file and its ``surveys`` section (``None`` when it defines none)."""
    center = current_center(request)
    return center, center.surveys if center is not None else None


def survey_definition(config: SurveysConfig | None, survey_id: str | None) -> SurveyDefinition:
    """The survey named ``survey_id`` (the default when ``None``); a located 422 otherwise."""
    if config is None:
        raise ValidationFailed(
            [Problem("the center configuration defines no surveys", field="survey_id")]
        )
    try:
        return config.definition(survey_id)
    except KeyError:
        defined = ", ".join(d.id for d in config.definitions)
        raise ValidationFailed(
            [Problem(f"no survey {survey_id!r} (defined: {defined})", field="survey_id")]
        ) from None


@router.post(
    "/api/surveys/links", response_model=LinkSent, status_code=201, responses=errors(404, 409, 422)
)
async def send_link(
    body: LinkIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*SENDERS)),
    session: Session = Depends(db_session, scope="function"),
) -> LinkSent:
    """E-mail the customer a signed, single-use link to the center's survey about a contact."""
    _, config = surveys_config(request)
    definition = survey_definition(config, body.survey_id)
    assert config is not None
    facts = surveys.contact_facts(session, contact_id=body.contact_id)
    if not scope_of(request, user).covers(facts.agent_id):
        # The same answer as a missing contact: a team lead learns nothing of other teams.
        raise NotFound(f"contact {body.contact_id} does not exist")
    now = datetime.now(ZoneInfo("UTC"))
    invitation, token = surveys.send_link(
        session=session,
        survey=definition,
        contact_id=body.contact_id,
        sent_by=user.username,
        sent_via="email",
        ttl_hours=config.link_ttl_hours,
        secret=request.app.state.secret,
        now=now,
        product=body.product,
        ticket_number=body.ticket_number,
    )
    url = f"{str(request.base_url).rstrip('/')}{surveys.link_path(token)}?lang={body.language}"
    mail = email.queue_notice(
        session,
        to=body.email,
        subject=surveys.LINK_SUBJECT[body.language],
        text=surveys.LINK_TEXT[body.language].format(url=url, hours=config.link_ttl_hours),
        kind="survey",
        author=user.username,
        now=now,
    )
    return LinkSent(
        invitation_id=invitation.id,
        contact_id=invitation.contact_id,
        survey_id=definition.id,
        expires_at=invitation.expires_at,
        email_id=mail.id,
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTH = Query(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM (this month)")


def _report_file(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    return {
        **errors(422),
        200: {
            "description": f"The month's voice-of-the-customer report as {what}.",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        },
    }


def _voc(request: Request, session: Session, month: str | None) -> VocReport:
    center, config = surveys_config(request)
    zone = center.center.timezone if center is not None else "UTC"
    month = month or datetime.now(ZoneInfo(zone)).strftime("%Y-%m")
    since, until = quality.month_bounds(month, zone)
    return surveys.monthly_report(
        session=session,
        month=month,
        since=since,
        until=until,
        timezone=zone,
        teams={a.id: a.team for a in center.agents} if center is not None else {},
        definitions=config.definitions if config is not None else [],
    )


@router.get(
    "/api/surveys/voc.xlsx", response_class=Response, responses=_report_file(XLSX, "a workbook")
)
def voc_excel(
    request: Request,
    month: str | None = MONTH,
    user: CurrentUser = Depends(require_roles(*VOC_READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> Response:
    """The month's voice-of-the-customer report per product line, for the product units."""
    report = _voc(request, session, month)
    return Response(
        workbook(report),
        media_type=XLSX,
        headers={"content-disposition": f'attachment; filename="voc-{report.month}.xlsx"'},
    )


@router.get(
    "/api/surveys/voc.pdf",
    response_class=Response,
    responses=_report_file("application/pdf", "a PDF"),
)
def voc_pdf(
    request: Request,
    month: str | None = MONTH,
    user: CurrentUser = Depends(require_roles(*VOC_READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> Response:
    """The month's voice-of-the-customer report per product line, as a PDF."""
    report = _voc(request, session, month)
    return Response(
        pdf(report),
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="voc-{report.month}.pdf"'},
    )


def _share(p: Proportion) -> ShareOut:
    return ShareOut(share=p.share, low=p.low, high=p.high, n=p.n)


def _nps(p: NetPromoter) -> NpsOut:
    return NpsOut(score=p.score, low=p.low, high=p.high, n=p.n)


def _group(g: GroupFigures) -> GroupOut:
    return GroupOut(
        group=g.group,
        responses=g.responses,
        csat=_share(g.csat),
        dsat=_share(g.dsat),
        nps=_nps(g.nps),
        resolved=_share(g.resolved),
    )


@router.get("/api/surveys/results", response_model=ResultsOut, responses=errors(422))
def results(
    request: Request,
    month: str | None = MONTH,
    by: Dimension = Query("queue", description="queue, team, agent, product or channel"),
    language: Language = Query("zh-CN", description="the questions' wording"),
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> ResultsOut:
    """CSAT, DSAT, NPS and resolution with 95 % intervals, response rates and drivers."""
    center, config = surveys_config(request)
    zone = center.center.timezone if center is not None else "UTC"
    if month is None:
        month = datetime.now(ZoneInfo(zone)).strftime("%Y-%m")
    since, until = quality.month_bounds(month, zone)
    teams = {a.id: a.team for a in center.agents} if center is not None else {}
    definitions = config.definitions if config is not None else []
    found = surveys.responses(
        session=session,
        since=since.timestamp(),
        until=until.timestamp(),
        teams=teams,
        definitions=definitions,
    )
    scope = scope_of(request, user)
    handled = surveys.handled_contacts(
        session=session, since=since.timestamp(), until=until.timestamp()
    )
    links = surveys.invitations(session=session, since=since, until=until)
    if not scope.everyone:
        found = [r for r in found if scope.covers(r.agent)]
        handled = {
            channel: {c: agent for c, agent in contacts.items() if scope.covers(agent)}
            for channel, contacts in handled.items()
        }
    definition = config.definition() if config is not None else None
    matrix = drivers(found, definition) if definition is not None else []
    # DSAT root causes: the comments of responses with overall CSAT 1 or 2.
    unhappy = [c for r in found if r.overall is not None and r.overall <= 2 for c in r.comments]
    causes = root_causes(unhappy)
    masked = PersonalField.CONTENT in hidden_fields(user.roles)
    evaluations = quality.list_evaluations(
        session=session,
        agents=None if scope.everyone else scope.agents,
        since=since,
        until=until,
        limit=100_000,
    )
    qa_scores: dict[str, list[float]] = {}
    for evaluation in evaluations:
        qa_scores.setdefault(evaluation.agent_id, []).append(evaluation.score)
    qa_csat = qa_versus_csat(qa_scores, found)
    texts = {q.id: q.text[language] for q in definition.questions} if definition else {}
    return ResultsOut(
        month=month,
        by=by,
        confidence=CONFIDENCE,
        proportion_method=PROPORTION_METHOD,
        nps_method=NPS_METHOD,
        overall=_group(figures(found, CONFIDENCE)),
        groups=[_group(g) for g in group_figures(found, by=by, confidence=CONFIDENCE)],
        response_rates=[
            RateOut(
                channel=r.channel, contacts=r.contacts, responses=r.responses, rate=_share(r.rate)
            )
            for r in response_rates(
                {channel: set(contacts) for channel, contacts in handled.items()},
                found,
                CONFIDENCE,
            )
            + link_rates(
                [(via, answered) for via, agent, answered in links if scope.covers(agent)],
                CONFIDENCE,
            )
        ],
        survey_id=definition.id if definition is not None else None,
        drivers=[
            DriverOut(
                question=d.question,
                kind=d.kind,
                text=texts.get(d.question, d.question),
                importance=d.importance,
                performance=d.performance,
                n=d.n,
            )
            for d in matrix
        ],
        dissatisfied_comments=len(unhappy),
        root_causes=[
            RootCauseOut(
                keywords=list(c.keywords), size=c.size, example="…" if masked else c.example
            )
            for c in causes
        ],
        qa_csat=QaCsatOut(
            correlation=qa_csat.correlation,
            agents=[
                AgentQualityOut(
                    agent=a.agent,
                    evaluations=a.evaluations,
                    qa_mean=a.qa_mean,
                    answers=a.answers,
                    csat_mean=a.csat_mean,
                )
                for a in qa_csat.agents
            ],
        ),
    )
