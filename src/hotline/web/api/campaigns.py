"""Campaigns API: supervisors run outbound campaigns, agents work them from the desk.

Supervisors (and managers, admins) create a campaign with its calling hours and retry rules,
fill its list from a CSV file or a query over customers and products, start and pause it,
and keep the do-not-call lists; team leads see the campaigns and their figures. An agent
takes the next record in preview (the record and the script), dials it (the click-to-dial
path, screened against the do-not-call lists), skips it, or records the result, which the
retry rules turn into the next attempt's time. Consent to a callback is recorded with its
evidence by whoever serves the customer.

Example::

    POST /api/campaigns {"name": "installs-dec", "kind": "follow_up", "mode": "preview"}
    POST /api/campaigns/1/list {"file": "dec.csv", "text": "phone,name\\n138...,Ada\\n"}
    POST /api/campaigns/1/state {"state": "running"}
    POST /api/campaigns/1/next                       -> {"record": {...}, "script": "..."}
    POST /api/campaigns/records/7/result {"result": "busy"}
    GET  /api/campaign-calls                          -> {"items": [{"campaign": ..., ...}]}

A progressive or predictive call the dialler connected to an agent pops on the agent's desk
(``GET /api/campaign-calls``: the campaign, the record, the customer behind the dialled number,
the follow-up task and its questions, the earlier attempts); the agent's disposition goes
through the same ``result`` route as a preview's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.orm import Session

from hotline.campaigns import imports as list_imports
from hotline.campaigns import service as campaigns
from hotline.campaigns.rules import CallResult, CampaignKind, DialMode
from hotline.core.errors import Problem, ValidationFailed
from hotline.crm.privacy import mask_name, mask_phone
from hotline.desk import dialled_calls
from hotline.desk.followup_calls import add_due_followups, result_to_followup
from hotline.identity.roles import PersonalField, hidden_fields
from hotline.pacing.state import AbandonCap
from hotline.store.db import utcnow
from hotline.telephony.outbound import OriginationRefused
from hotline.web import jobs
from hotline.web.access import hides_customer_identity, scope_of
from hotline.web.api.customers import ImportJobOut
from hotline.web.api.live.guards import voice_of
from hotline.web.api.live.schemas import PopContact, PopCustomer, PopProduct, PopTicket
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.api.tickets import visible_tickets
from hotline.web.auth import CurrentUser, RoleGuard, current_user, db_session, require_roles

router = APIRouter(prefix="/api", tags=["campaigns"])

#: Who runs campaigns and keeps the do-not-call lists.
CAMPAIGN_MANAGERS = ("supervisor", "manager")
#: Who may see campaigns and their figures.
CAMPAIGN_VIEWERS = (*CAMPAIGN_MANAGERS, "team_lead")
#: Who records a customer's consent to a callback.
CONSENT_TAKERS = (*CAMPAIGN_VIEWERS, "agent")
MAX_ID = 2**63 - 1


class CampaignAgent(RoleGuard):
    """Admits an agent with an agent id of their own (records are held per agent id)."""

    async def __call__(
        self, user: CurrentUser = Depends(current_user, scope="function")
    ) -> CurrentUser:
        admitted = self.admit(user)
        if admitted.agent_id is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "only an agent works campaign records")
        return admitted


AGENT = CampaignAgent(("agent",))
MANAGE = require_roles(*CAMPAIGN_MANAGERS)
VIEW = require_roles(*CAMPAIGN_VIEWERS)
#: Who starts and pauses campaigns: supervisors and managers, and a team lead their teams'.
RUN = require_roles(*CAMPAIGN_VIEWERS)


def _teams_campaign(request: Request, user: CurrentUser, campaign: campaigns.Campaign) -> bool:
    """Whether the campaign is the user's to see: every campaign for the floor's roles; for
    a team lead, one whose reserved agents include an agent of a team they lead."""
    scope = scope_of(request, user)
    return scope.everyone or any(scope.covers(agent) for agent in campaign.agents or ())


def _seen(request: Request, user: CurrentUser, campaign: campaigns.Campaign) -> None:
    if not _teams_campaign(request, user, campaign):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"campaign {campaign.id} is not one of your teams'"
        )


def _run_by(request: Request, user: CurrentUser, campaign: campaigns.Campaign) -> None:
    """A team lead runs only a campaign all of whose reserved agents are in teams they lead."""
    scope = scope_of(request, user)
    agents = campaign.agents or []
    if not scope.everyone and not (agents and all(scope.covers(a) for a in agents)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"campaign {campaign.id} reserves agents outside the teams you lead",
        )


# ----------------------------------------------------------------------------- answers


class DiallerOut(ResponseModel):
    """What the voice server's dialler last saw of the campaign, and when (``at``): calls
    ringing and waiting for an agent (at most 2 s), its agents free, talking and leaving, the
    day's live answers and abandons and the 3 % cap's allowance."""

    at: datetime
    day: str
    dial_level: Number = Field(
        description="Calls in flight (ringing or waiting) per agent the dialler holds."
    )
    ringing: int
    waiting: int
    free_agents: int
    talking_agents: int
    releasing_agents: int
    answered_today: int
    abandoned_today: int
    allowance: int
    budget_used: Number = Field(
        description="Abandons today ÷ the cap's allowance (0 when none is allowed yet)."
    )


class FiguresOut(ResponseModel):
    """Live figures: records by status; attempts, answers, connects, abandons so far."""

    records: dict[str, int]
    attempts: int
    answers: int
    connects: int
    abandons: int
    results: dict[str, int]
    answers_today: int = Field(description="Live answers today, in the campaign's time zone.")
    abandons_today: int
    abandon_budget_left: int = Field(
        description="Abandons the 3 % cap still allows today: ⌊3 % × answers today⌋ − abandons "
        "today (the predictive dialler's budget; it grows with every 34 answers)."
    )
    dialler: DiallerOut | None = Field(
        default=None, description="The live dialler's state (None: no dialler has worked it)."
    )


class CampaignOut(ResponseModel):
    """A campaign with its rules and live figures."""

    id: int
    name: str
    kind: str
    mode: str
    state: str
    calling_hours: dict[str, Any]
    retry: dict[str, Any]
    script: str
    agents: list[str]
    queue: str | None = Field(
        description="The queue whose skill and proficiency rules choose which held agent "
        "takes a connected call."
    )
    created_by: str
    created_at: datetime
    figures: FiguresOut


class CampaignsOut(ResponseModel):
    """Every campaign, newest first."""

    items: list[CampaignOut]


class RecordOut(ResponseModel):
    """One record of a campaign's list, masked by the personal-data policy."""

    id: int
    campaign_id: int
    phone: str
    name: str
    time_zone: str | None
    customer_id: int | None
    data: dict[str, str]
    status: str
    attempts: int
    due_at: datetime | None
    held_by: str | None
    last_result: str | None


class RecordsOut(ResponseModel):
    """A page of a campaign's records."""

    items: list[RecordOut]


class NextOut(ResponseModel):
    """The record handed to the agent (``null``: nothing may be dialled now) and the script."""

    record: RecordOut | None
    script: str
    campaign: str


class ImportedOut(ResponseModel):
    """Records added by a list, blocked by a do-not-call list, or on the list already."""

    added: int
    blocked: int
    already_listed: int


class ListJobOut(ImportJobOut):
    """A list file being imported in the background: its state, progress and, once ended,
    its counts.

    ``state``: queued, staging, publishing, then done or failed. ``result`` of a done job:
    ``added``, ``blocked``, ``already_listed``; of a failed one: ``error``, ``message`` and
    ``added`` 0 (a failed job imports nothing).
    """


class FollowUpListOut(ImportedOut):
    """A list of due follow-ups: what went on it, and the tasks with no number to call."""

    no_phone: int


class DialOut(ResponseModel):
    """The call placed for a record (``contact_id``), or the do-not-call list that refused it."""

    record_id: int
    contact_id: str | None
    refused: str | None


class DoneOut(ResponseModel):
    """The record after the change."""

    record: RecordOut


class AttemptOut(ResponseModel):
    """One earlier attempt on a record: when, by whom, its result."""

    number: int
    at: datetime
    agent_id: str | None
    result: str
    answered: bool
    connected: bool


class FollowUpTaskOut(ResponseModel):
    """The follow-up task a follow-up list's record came from, with its script's questions."""

    id: int
    ticket_number: str
    script: str
    questions: list[str]
    state: str


class CampaignCallOut(ResponseModel):
    """A connected progressive or predictive call on the agent's desk: the campaign and its
    script, the record, the customer(s) behind the dialled number with their products, last
    contacts and open tickets, the follow-up task, and the record's earlier attempts."""

    contact_id: str
    campaign_id: int
    campaign: str
    mode: str
    script: str
    record: RecordOut
    customers: list[PopCustomer]
    products: list[PopProduct]
    last_contacts: list[PopContact]
    open_tickets: list[PopTicket]
    followup: FollowUpTaskOut | None
    earlier_attempts: list[AttemptOut]


class CampaignCallsOut(ResponseModel):
    """The agent's connected campaign calls awaiting a disposition, the latest first."""

    items: list[CampaignCallOut]


class DoNotCallOut(ResponseModel):
    """One do-not-call entry (no campaign: center-wide)."""

    id: int
    number: str
    campaign_id: int | None
    reason: str
    added_by: str
    added_at: datetime


class DoNotCallListOut(ResponseModel):
    """A do-not-call list, newest first."""

    items: list[DoNotCallOut]


class ConsentOut(ResponseModel):
    """A callback the customer agreed to, with its evidence and how long it is kept."""

    id: int
    number: str
    customer_id: int | None
    campaign_id: int | None
    callback_at: datetime | None
    evidence: str
    contact_id: str | None
    recorded_by: str
    recorded_at: datetime
    keep_until: datetime


class ConsentsOut(ResponseModel):
    """Consent records, newest first."""

    items: list[ConsentOut]


class RemovedOut(ResponseModel):
    """The entry taken off its list."""

    removed: int


# ----------------------------------------------------------------------------- requests


class CampaignIn(BaseModel):
    """A new campaign: kind, mode, calling hours, retry rules, script, reserved agents."""

    name: str = Field(min_length=1, max_length=128)
    kind: CampaignKind
    mode: DialMode
    calling_hours: dict[str, Any] = Field(default_factory=dict)
    retry: dict[str, Any] = Field(default_factory=dict)
    script: str = Field(default="", max_length=20_000)
    agents: list[str] = Field(default_factory=list, max_length=500)
    queue: str | None = Field(default=None, min_length=1, max_length=64)


class StateIn(BaseModel):
    """The state to move a campaign to."""

    state: str = Field(pattern="^(running|paused|finished)$")


class ListFileIn(BaseModel):
    """A list file: its name (for the problems' locations) and its CSV text."""

    file: str = Field(default="list.csv", min_length=1, max_length=200)
    text: str = Field(min_length=1)


class ListQueryIn(BaseModel):
    """Customers owning products that match (every given field must match)."""

    category: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=64)
    installed_from: date | None = None
    installed_to: date | None = None
    warranty_ends_by: date | None = None


class FollowUpListIn(BaseModel):
    """The open follow-ups due by ``until`` (with its offset), overdue ones included."""

    until: AwareDatetime


class ResultIn(BaseModel):
    """An attempt's result; ``callback_at`` (with its offset) for ``callback_requested``."""

    result: CallResult
    contact_id: str | None = Field(default=None, max_length=64)
    callback_at: datetime | None = None


class DoNotCallIn(BaseModel):
    """A number to put on the center-wide list, or on one campaign's."""

    number: str = Field(min_length=3, max_length=40)
    campaign_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    reason: str = Field(default="", max_length=200)


class ConsentIn(BaseModel):
    """A callback the customer agreed to, and the evidence of it."""

    number: str = Field(min_length=3, max_length=40)
    evidence: str = Field(min_length=1, max_length=2000)
    callback_at: datetime | None = None
    customer_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    campaign_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    contact_id: str | None = Field(default=None, max_length=64)
    keep_days: int = Field(default=30, ge=30, le=3650)


# ----------------------------------------------------------------------------- helpers


def _figures(session: Session, campaign: campaigns.Campaign) -> FiguresOut:
    f = campaigns.figures(session, campaign_id=campaign.id)
    zone = ZoneInfo(campaigns.campaign_rules(campaign).hours.time_zone)
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    answers, abandons = campaigns.answers_since(session, campaign_id=campaign.id, since=midnight)
    return FiguresOut(
        records=f.records,
        attempts=f.attempts,
        answers=f.answers,
        connects=f.connects,
        abandons=f.abandons,
        results=f.results,
        answers_today=answers,
        abandons_today=abandons,
        abandon_budget_left=AbandonCap().allowance(answered=answers) - abandons,
        dialler=_dialler(campaigns.pacing_of(session, campaign_id=campaign.id)),
    )


def _dialler(row: campaigns.CampaignPacing | None) -> DiallerOut | None:
    if row is None:
        return None
    agents = row.free_agents + row.talking_agents + row.releasing_agents
    return DiallerOut(
        at=row.at,
        day=row.day,
        dial_level=round((row.ringing + row.waiting) / agents, 2) if agents else 0,
        ringing=row.ringing,
        waiting=row.waiting,
        free_agents=row.free_agents,
        talking_agents=row.talking_agents,
        releasing_agents=row.releasing_agents,
        answered_today=row.answered_today,
        abandoned_today=row.abandoned_today,
        allowance=row.allowance,
        budget_used=round(row.abandoned_today / row.allowance, 3) if row.allowance else 0,
    )


def _campaign(session: Session, campaign: campaigns.Campaign) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        kind=campaign.kind,
        mode=campaign.mode,
        state=campaign.state,
        calling_hours=campaign.calling_hours,
        retry=campaign.retry,
        script=campaign.script,
        agents=campaign.agents,
        queue=campaign.queue,
        created_by=campaign.created_by,
        created_at=campaign.created_at,
        figures=_figures(session, campaign),
    )


def _record(record: campaigns.CampaignRecord, user: CurrentUser) -> RecordOut:
    hidden = hidden_fields(user.roles)
    phone = mask_phone(record.phone) if PersonalField.PHONE in hidden else record.phone
    name = mask_name(record.name) if PersonalField.NAME in hidden and record.name else record.name
    return RecordOut(
        id=record.id,
        campaign_id=record.campaign_id,
        phone=phone,
        name=name,
        time_zone=record.time_zone,
        customer_id=record.customer_id,
        data=record.data,
        status=record.status,
        attempts=record.attempts,
        due_at=record.due_at,
        held_by=record.held_by,
        last_result=record.last_result,
    )


def _agent_id(user: CurrentUser) -> str:
    assert user.agent_id is not None  # CampaignAgent admits agents with an id only
    return user.agent_id


def _entry(entry: campaigns.DoNotCall, user: CurrentUser) -> DoNotCallOut:
    hidden = hidden_fields(user.roles)
    number = mask_phone(entry.number) if PersonalField.PHONE in hidden else entry.number
    return DoNotCallOut(
        id=entry.id,
        number=number,
        campaign_id=entry.campaign_id,
        reason=entry.reason,
        added_by=entry.added_by,
        added_at=entry.added_at,
    )


def _consent(consent: campaigns.Consent, user: CurrentUser) -> ConsentOut:
    hidden = hidden_fields(user.roles)
    number = mask_phone(consent.number) if PersonalField.PHONE in hidden else consent.number
    return ConsentOut(
        id=consent.id,
        number=number,
        customer_id=consent.customer_id,
        campaign_id=consent.campaign_id,
        callback_at=consent.callback_at,
        evidence=consent.evidence,
        contact_id=consent.contact_id,
        recorded_by=consent.recorded_by,
        recorded_at=consent.recorded_at,
        keep_until=consent.keep_until,
    )


CAMPAIGN_ID = Path(ge=1, le=2**31 - 1)
RECORD_ID = Path(ge=1, le=MAX_ID)


# ----------------------------------------------------------------------------- campaigns


@router.get("/campaigns", response_model=CampaignsOut, responses=errors())
def list_all(
    request: Request,
    user: CurrentUser = Depends(VIEW),
    session: Session = Depends(db_session, scope="function"),
) -> CampaignsOut:
    """Every campaign with its live figures, newest first (a team lead: their teams')."""
    return CampaignsOut(
        items=[
            _campaign(session, c)
            for c in campaigns.list_campaigns(session)
            if _teams_campaign(request, user, c)
        ]
    )


@router.post("/campaigns", status_code=201, response_model=CampaignOut, responses=errors(409, 422))
def create(
    body: CampaignIn,
    request: Request,
    user: CurrentUser = Depends(MANAGE),
    session: Session = Depends(db_session, scope="function"),
) -> CampaignOut:
    """Create a campaign (draft); its calling hours and retry rules are checked first, and its
    ``queue`` must be one of the center file's."""
    center = request.app.state.center
    queues = [q.id for q in center.queues] if center is not None else []
    if body.queue is not None and body.queue not in queues:
        raise ValidationFailed(
            [Problem(f"no queue {body.queue!r} in the center file ({queues})", None, None, "queue")]
        )
    campaign = campaigns.create_campaign(
        session,
        name=body.name,
        kind=str(body.kind),
        mode=str(body.mode),
        actor=user.username,
        calling_hours=body.calling_hours,
        retry=body.retry,
        script=body.script,
        agents=body.agents,
        queue=body.queue,
    )
    return _campaign(session, campaign)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut, responses=errors(404, 422))
def one(
    request: Request,
    campaign_id: int = CAMPAIGN_ID,
    user: CurrentUser = Depends(VIEW),
    session: Session = Depends(db_session, scope="function"),
) -> CampaignOut:
    """One campaign with its live figures (a team lead: one of their teams')."""
    campaign = campaigns.get_campaign(session, campaign_id=campaign_id)
    _seen(request, user, campaign)
    return _campaign(session, campaign)


@router.post(
    "/campaigns/{campaign_id}/state", response_model=CampaignOut, responses=errors(404, 409, 422)
)
def change_state(
    body: StateIn,
    request: Request,
    campaign_id: int = CAMPAIGN_ID,
    user: CurrentUser = Depends(RUN),
    session: Session = Depends(db_session, scope="function"),
) -> CampaignOut:
    """Start, pause, resume or finish a campaign (a team lead: one all of whose reserved
    agents are in teams they lead)."""
    _run_by(request, user, campaigns.get_campaign(session, campaign_id=campaign_id))
    campaign = campaigns.set_state(
        session, campaign_id=campaign_id, state=body.state, actor=user.username
    )
    return _campaign(session, campaign)


@router.post(
    "/campaigns/{campaign_id}/list",
    status_code=202,
    response_model=ListJobOut,
    responses=errors(404, 409, 422),
)
def import_list(
    body: ListFileIn,
    request: Request,
    campaign_id: int = CAMPAIGN_ID,
    user: CurrentUser = Depends(MANAGE),
    session: Session = Depends(db_session, scope="function"),
) -> ListJobOut:
    """Add a CSV list (``phone`` required): checked whole here (a bad row: 422 with file, line
    and field, nothing starts), then written in the background — 202 with the job to follow
    at ``GET /api/campaigns/list-jobs/{job_id}``; all rows become dialable at once, or none."""
    rows = campaigns.check_list(session, campaign_id=campaign_id, text=body.text, file=body.file)
    job = list_imports.create_job(
        session, kind=list_imports.LIST_JOB, file=body.file, actor=user.username
    )
    view = list_imports.job_view(job)
    session.commit()  # the job exists before its worker looks for it
    jobs.background(request.app).submit(
        list_imports.run_list_import,
        request.app.state.session_factory,
        job_id=job.id,
        campaign_id=campaign_id,
        rows=rows,
        file=body.file,
        actor=user.username,
        stop=jobs.stopping(request.app),
    )
    return ListJobOut(**view)


@router.get("/campaigns/list-jobs/{job_id}", response_model=ListJobOut, responses=errors(404, 422))
def list_job(
    job_id: str = Path(min_length=1, max_length=32),
    _: CurrentUser = Depends(MANAGE),
    session: Session = Depends(db_session, scope="function"),
) -> ListJobOut:
    """One list import: state, ``rows_done`` of ``rows_total``, and its counts once ended."""
    job = list_imports.get_job(session, job_id=job_id, kind=list_imports.LIST_JOB)
    return ListJobOut(**list_imports.job_view(job))


@router.post(
    "/campaigns/{campaign_id}/query-list",
    response_model=ImportedOut,
    responses=errors(404, 409, 422),
)
def query_list(
    body: ListQueryIn,
    campaign_id: int = CAMPAIGN_ID,
    user: CurrentUser = Depends(MANAGE),
    session: Session = Depends(db_session, scope="function"),
) -> ImportedOut:
    """Add the customers who own matching products (their first mobile, else landline)."""
    counts = campaigns.add_query_list(
        session,
        campaign_id=campaign_id,
        actor=user.username,
        category=body.category,
        model=body.model,
        installed_from=body.installed_from,
        installed_to=body.installed_to,
        warranty_ends_by=body.warranty_ends_by,
    )
    return ImportedOut(**counts)


@router.post(
    "/campaigns/{campaign_id}/followup-list",
    response_model=FollowUpListOut,
    responses=errors(404, 409, 422),
)
def followup_list(
    body: FollowUpListIn,
    campaign_id: int = CAMPAIGN_ID,
    user: CurrentUser = Depends(MANAGE),
    session: Session = Depends(db_session, scope="function"),
) -> FollowUpListOut:
    """Add the due follow-ups (回访), most urgent first; each call's result goes back to its
    task (busy, no answer, failed, abandoned: a not-reached attempt)."""
    counts = add_due_followups(
        session, campaign_id=campaign_id, until=body.until, actor=user.username
    )
    return FollowUpListOut(**counts)


@router.get(
    "/campaigns/{campaign_id}/records", response_model=RecordsOut, responses=errors(404, 422)
)
def records(
    request: Request,
    campaign_id: int = CAMPAIGN_ID,
    record_status: str | None = Query(
        None, alias="status", pattern="^(waiting|dialling|done|exhausted|blocked)$"
    ),
    limit: int = Query(100, ge=1, le=1000),
    user: CurrentUser = Depends(VIEW),
    session: Session = Depends(db_session, scope="function"),
) -> RecordsOut:
    """A campaign's records, optionally of one status, in list order."""
    _seen(request, user, campaigns.get_campaign(session, campaign_id=campaign_id))
    found = campaigns.records_of(
        session, campaign_id=campaign_id, status=record_status, limit=limit
    )
    return RecordsOut(items=[_record(r, user) for r in found])


# ----------------------------------------------------------------------------- the desk


@router.post(
    "/campaigns/{campaign_id}/next", response_model=NextOut, responses=errors(404, 409, 422)
)
def next_record(
    campaign_id: int = CAMPAIGN_ID,
    user: CurrentUser = Depends(AGENT),
    session: Session = Depends(db_session, scope="function"),
) -> NextOut:
    """Preview: the next record the agent may dial now (the one they hold, if any)."""
    campaign = campaigns.get_campaign(session, campaign_id=campaign_id)
    record = campaigns.claim_next(
        session, campaign_id=campaign_id, agent_id=_agent_id(user), now=utcnow()
    )
    return NextOut(
        record=_record(record, user) if record is not None else None,
        script=campaign.script,
        campaign=campaign.name,
    )


@router.post(
    "/campaigns/records/{record_id}/skip", response_model=DoneOut, responses=errors(404, 409, 422)
)
def skip(
    record_id: int = RECORD_ID,
    user: CurrentUser = Depends(AGENT),
    session: Session = Depends(db_session, scope="function"),
) -> DoneOut:
    """Give a previewed record back undialled."""
    campaigns.skip_record(session, record_id=record_id, agent_id=_agent_id(user), now=utcnow())
    return DoneOut(record=_record(campaigns.get_record(session, record_id=record_id), user))


@router.post(
    "/campaigns/records/{record_id}/result",
    response_model=DoneOut,
    responses=errors(404, 409, 422),
)
def result(
    body: ResultIn,
    record_id: int = RECORD_ID,
    user: CurrentUser = Depends(AGENT),
    session: Session = Depends(db_session, scope="function"),
) -> DoneOut:
    """Record an attempt's result; the retry rules set when the record comes back, and a
    follow-up's record carries it to its task."""
    now = utcnow()
    record = campaigns.record_result(
        session,
        record_id=record_id,
        agent_id=_agent_id(user),
        result=str(body.result),
        now=now,
        contact_id=body.contact_id,
        callback_at=body.callback_at,
    )
    result_to_followup(
        session, record=record, result=str(body.result), actor=user.username, now=now
    )
    return DoneOut(record=_record(record, user))


@router.get("/campaign-calls", response_model=CampaignCallsOut, responses=errors())
def campaign_calls(
    request: Request,
    user: CurrentUser = Depends(AGENT),
    session: Session = Depends(db_session, scope="function"),
) -> CampaignCallsOut:
    """The progressive and predictive calls the dialler connected to this agent that wait for
    the agent's disposition (``POST /api/campaigns/records/{id}/result``), the latest first."""
    calls = dialled_calls.calls_of(
        session, agent_id=_agent_id(user), masked=hides_customer_identity(user.roles)
    )
    return CampaignCallsOut(
        items=[
            CampaignCallOut(
                contact_id=call.record.contact_id or "",
                campaign_id=call.campaign.id,
                campaign=call.campaign.name,
                mode=call.campaign.mode,
                script=call.campaign.script,
                record=_record(call.record, user),
                customers=[PopCustomer.model_validate(c) for c in call.pop.customers],
                products=[PopProduct.model_validate(p) for p in call.pop.products],
                last_contacts=[PopContact.model_validate(c) for c in call.pop.last_contacts],
                open_tickets=[
                    PopTicket.model_validate(t)
                    for t in visible_tickets(request.app.state.center, user, call.pop.open_tickets)
                ],
                followup=FollowUpTaskOut(**call.followup) if call.followup else None,
                earlier_attempts=[
                    AttemptOut(
                        number=a.number,
                        at=a.at,
                        agent_id=a.agent_id,
                        result=a.result,
                        answered=a.answered,
                        connected=a.connected,
                    )
                    for a in call.earlier
                ],
            )
            for call in calls
        ]
    )


@router.post(
    "/campaigns/records/{record_id}/dial",
    status_code=201,
    response_model=DialOut,
    responses=errors(404, 409, 422, 503),
)
async def dial(
    request: Request,
    record_id: int = RECORD_ID,
    user: CurrentUser = Depends(AGENT),
    session: Session = Depends(db_session, scope="function"),
) -> DialOut:
    """Preview dialling: ring the agent's phone, then the record's number via the trunk.

    The campaign's own do-not-call list and the center's are asked first: a listed number
    is not dialled, the record is blocked and the refusal audited (``refused`` names the
    list). 503 when this server takes no phone calls; 409 when the call cannot be placed.
    """
    agent_id = _agent_id(user)
    refused = campaigns.block_if_listed(
        session, record_id=record_id, agent_id=agent_id, now=utcnow()
    )
    if refused is not None:
        return DialOut(record_id=record_id, contact_id=None, refused=refused)
    record = campaigns.get_record(session, record_id=record_id)
    center = voice_of(request)
    if center is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "this server takes no phone calls")
    try:
        contact_id = await center.originate(
            agent_id=agent_id, number=record.phone, reason="campaign"
        )
    except OriginationRefused as refusal:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refusal)) from None
    campaigns.note_dialled(session, record_id=record_id, agent_id=agent_id, contact_id=contact_id)
    return DialOut(record_id=record_id, contact_id=contact_id, refused=None)


# ----------------------------------------------------------------------- do-not-call lists


@router.get("/do-not-call", response_model=DoNotCallListOut, responses=errors(422))
def do_not_call_list(
    campaign_id: int | None = Query(None, ge=1, le=2**31 - 1),
    user: CurrentUser = Depends(MANAGE),
    session: Session = Depends(db_session, scope="function"),
) -> DoNotCallListOut:
    """The center-wide list, or one campaign's own list."""
    entries = campaigns.do_not_call_entries(session, campaign_id=campaign_id)
    return DoNotCallListOut(items=[_entry(e, user) for e in entries])


@router.post(
    "/do-not-call", status_code=201, response_model=DoNotCallOut, responses=errors(404, 409, 422)
)
def do_not_call_add(
    body: DoNotCallIn,
    user: CurrentUser = Depends(MANAGE),
    session: Session = Depends(db_session, scope="function"),
) -> DoNotCallOut:
    """Put a number on a list; its records not yet finished are blocked at once."""
    entry = campaigns.add_do_not_call(
        session,
        number=body.number,
        actor=user.username,
        campaign_id=body.campaign_id,
        reason=body.reason,
    )
    return _entry(entry, user)


@router.delete("/do-not-call/{entry_id}", response_model=RemovedOut, responses=errors(404, 422))
def do_not_call_remove(
    entry_id: int = Path(ge=1, le=2**31 - 1),
    user: CurrentUser = Depends(MANAGE),
    session: Session = Depends(db_session, scope="function"),
) -> RemovedOut:
    """Take a number off its list (audited)."""
    campaigns.remove_do_not_call(session, entry_id=entry_id, actor=user.username)
    return RemovedOut(removed=entry_id)


# --------------------------------------------------------------------------------- consent


@router.post("/consents", status_code=201, response_model=ConsentOut, responses=errors(404, 422))
def consent_add(
    body: ConsentIn,
    user: CurrentUser = Depends(require_roles(*CONSENT_TAKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ConsentOut:
    """Keep a callback the customer agreed to, with its evidence (kept ≥ 30 days)."""
    consent = campaigns.record_consent(
        session,
        number=body.number,
        evidence=body.evidence,
        actor=user.username,
        callback_at=body.callback_at,
        customer_id=body.customer_id,
        campaign_id=body.campaign_id,
        contact_id=body.contact_id,
        keep_days=body.keep_days,
    )
    return _consent(consent, user)


@router.get("/consents", response_model=ConsentsOut, responses=errors(422))
def consent_list(
    number: str | None = Query(None, min_length=3, max_length=40),
    user: CurrentUser = Depends(MANAGE),
    session: Session = Depends(db_session, scope="function"),
) -> ConsentsOut:
    """Consent records, newest first; of one number when given."""
    return ConsentsOut(
        items=[_consent(c, user) for c in campaigns.consents(session, number=number)]
    )
