"""Customers API: screen pop, customer records, CSV import, duplicates, merge and undo.

Personal data (names, phones, e-mails, addresses) is masked by the one policy,
:data:`hotline.identity.roles.PERSONAL_DATA_POLICY`. The screen pop lists only the open
tickets the caller of the route may see (an agent: their queues' and their own).

The customer page (360°) searches and shows customers masked for everyone, so that a name
or number is on screen only when someone needs it: ``POST /api/customers/{id}/reveal``
shows one customer in full, to the roles the policy lets see it, and every reveal is
audited (``customer.reveal``).

Example::

    GET  /api/customers?q=13812345678         -> [{"id": 7, "name": "张*", ...}]
    GET  /api/customers/7/overview            -> identities, products, contacts, tickets
    POST /api/customers/7/reveal              -> the customer unmasked (audited)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi import Path as Path_
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.campaigns import service as campaigns
from hotline.crm import imports, rules
from hotline.crm import service as crm
from hotline.desk import customers as desk
from hotline.desk import history
from hotline.identity.audit import record as audit
from hotline.store.models.tickets import Ticket
from hotline.tickets import service as tickets
from hotline.web import jobs
from hotline.web.access import current_center, hides_customer_identity
from hotline.web.api.history import (
    ContactEntryOut,
    FollowupOut,
    SurveyAnswerOut,
    contact_out,
    followup_out,
    hides_content,
    linked_contacts,
    recordings_of,
    survey_out,
)
from hotline.web.api.responses import (
    IsoText,
    Number,
    ResponseModel,
    errors,
)
from hotline.web.api.tickets import visible_tickets
from hotline.web.auth import CurrentUser, db_session, read_session, require_roles
from hotline.web.fields import RecordId
from hotline.web.limits import MAX_UPLOAD_BYTES, NAME_LENGTH, NOTE_LENGTH

router = APIRouter(prefix="/api/customers", tags=["customers"])

SERVICE = ("agent", "team_lead", "supervisor", "manager")
READERS = (*SERVICE, "qa")
MERGERS = ("team_lead", "supervisor", "manager")


def masked_for(user: CurrentUser) -> bool:
    """True when ``user`` may not see customers' personal data unmasked."""
    return hides_customer_identity(user.roles)


class CustomerIn(BaseModel):
    """A new customer (the field rules are :mod:`hotline.crm.rules`, shared with the import)."""

    name: str = Field(min_length=1, max_length=rules.NAME_LENGTH)
    phones: list[str] = Field(default_factory=list, max_length=rules.MAX_ENTRIES)
    emails: list[str] = Field(default_factory=list, max_length=rules.MAX_ENTRIES)
    addresses: list[Annotated[str, Field(max_length=rules.ADDRESS_LENGTH)]] = Field(
        default_factory=list, max_length=rules.MAX_ENTRIES
    )
    site: str | None = Field(None, max_length=rules.SITE_LENGTH)
    vip_level: int = Field(0, ge=rules.VIP_MIN, le=rules.VIP_MAX)
    default_area_code: str | None = Field(None, max_length=8)


class ProductIn(BaseModel):
    """A product the customer owns."""

    model: str = Field(min_length=1, max_length=rules.MODEL_LENGTH)
    serial_number: str | None = Field(None, max_length=rules.SERIAL_LENGTH)
    category: str = Field("", max_length=rules.CATEGORY_LENGTH)
    purchased_on: date | None = None
    installed_on: date | None = None
    warranty_until: date | None = None


class PhoneIn(BaseModel):
    """Another phone number of a customer."""

    number: str = Field(min_length=3, max_length=rules.PHONE_LENGTH)
    label: str = Field("", max_length=rules.LABEL_LENGTH)
    default_area_code: str | None = Field(None, max_length=8)


class ContactIn(BaseModel):
    """A contact with the customer on any channel."""

    channel: str = Field(pattern="^(voice|chat|email|sms|app|video|callback|outbound)$")
    direction: str = Field("inbound", pattern="^(inbound|outbound)$")
    contact_id: str | None = Field(None, max_length=64)
    summary: str = Field("", max_length=NOTE_LENGTH)


class CsvIn(BaseModel):
    """A CSV file's text."""

    text: str = Field(max_length=MAX_UPLOAD_BYTES)
    file: str = Field("upload.csv", max_length=NAME_LENGTH)
    default_area_code: str | None = Field(None, max_length=8)


class PopCustomerOut(ResponseModel):
    """A customer behind the calling number (name masked for roles without personal data)."""

    id: int
    name: str
    vip_level: int
    site: str | None


class PopProductOut(ResponseModel):
    """A product one of those customers owns."""

    id: int
    customer_id: int
    model: str
    serial_number: str | None
    warranty_until: str | None = Field(description="ISO 8601 date, or null.")


class PopContactOut(ResponseModel):
    """One of their last contacts on any channel, newest first (queue and outcome null for
    one recorded by hand; ``link``: its record, where the caller's role may open it)."""

    at: IsoText
    channel: str
    direction: str
    contact_id: str | None
    agent_id: str | None
    queue: str | None
    outcome: str | None
    summary: str
    link: str | None


class PopTicketOut(ResponseModel):
    """An open ticket of theirs that the caller of the route may see."""

    id: int
    number: str
    type: str
    state: str
    subject: str
    due_at: str | None = Field(description="ISO 8601 date and time, or null.")
    queue: str | None
    assignee: str | None


class ScreenPopOut(ResponseModel):
    """What the desk shows when a call arrives: the customer(s) behind the number, their
    products, last contacts and open tickets (``e164`` null when the number is not one)."""

    calling_number: str
    e164: str | None
    customers: list[PopCustomerOut]
    products: list[PopProductOut]
    last_contacts: list[PopContactOut]
    open_tickets: list[PopTicketOut]


class CustomerPhoneOut(ResponseModel):
    """A phone number of a customer (masked for roles without personal data)."""

    e164: str
    kind: str


class CustomerProductOut(ResponseModel):
    """A product the customer owns."""

    id: int
    model: str
    serial_number: str | None
    warranty_until: str | None = Field(description="ISO 8601 date, or null.")


class CustomerOut(ResponseModel):
    """A customer with phones, e-mails, addresses and products (masked per the personal-data
    policy); ``merged_into_id`` names the survivor of a merge."""

    id: int
    name: str
    vip_level: int
    site: str | None
    merged_into_id: int | None
    phones: list[CustomerPhoneOut]
    emails: list[str]
    addresses: list[str]
    products: list[CustomerProductOut]


class PossibleDuplicateOut(ResponseModel):
    """An existing customer who is probably the same person, and the evidence."""

    customer_id: int
    score: Number
    reasons: list[str]


class CreatedCustomerOut(CustomerOut):
    """A new customer, with the existing customers who are probably the same person."""

    possible_duplicates: list[PossibleDuplicateOut]


class DuplicatePairOut(ResponseModel):
    """Two customers who are probably one person, with the evidence."""

    left: int
    right: int
    score: Number
    reasons: list[str]


class DuplicatesOut(ResponseModel):
    """Likely duplicates among active customers: clusters of ids, scored pairs, and the
    duplication rate; ``skipped_blocks`` counts blocks too common to compare pairwise."""

    customers: int
    duplication_rate: Number
    clusters: list[list[int]]
    pairs: list[DuplicatePairOut]
    skipped_blocks: int


class ProductOut(ResponseModel):
    """A product just recorded."""

    id: int
    customer_id: int
    model: str


class PhoneOut(ResponseModel):
    """A phone number just added, normalised (``kind``: mobile, fixed…)."""

    id: int
    e164: str
    kind: str


class ContactOut(ResponseModel):
    """A contact just added to the customer's history."""

    id: int
    at: datetime


class ImportedProductsOut(ResponseModel):
    """How many products the CSV import stored, and their ids."""

    imported: int
    ids: list[int]


class MergeOut(ResponseModel):
    """A merge done: its id (to undo it) and how many records moved to the survivor."""

    merge_id: int
    moved: dict[str, list[int]]


class UndoneMergeOut(ResponseModel):
    """A merge undone, and when."""

    merge_id: int
    undone_at: datetime | None


@router.get("/pop", responses=errors(422))
def screen_pop(
    request: Request,
    number: str = Query(
        ...,
        description="Calling number as caller ID shows it, an e-mail address, or wechat:<openid>.",
    ),
    area_code: str | None = Query(None, description="Area code for local numbers."),
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ScreenPopOut:
    """Screen pop: the customer(s) behind a calling number (or an e-mail address, or a
    WeChat follower's ``wechat:<openid>``), products, contacts on every channel, open tickets."""
    pop = desk.screen_pop(
        session, calling_number=number, default_area_code=area_code, masked=masked_for(user)
    )
    pop.open_tickets = visible_tickets(current_center(request), user, pop.open_tickets)
    pop.last_contacts = linked_contacts(request, user, pop.last_contacts)
    return ScreenPopOut.model_validate(pop.__dict__)


@router.post("", status_code=201, responses=errors(422))
def create_customer(
    body: CustomerIn,
    user: CurrentUser = Depends(require_roles(*SERVICE)),
    session: Session = Depends(db_session, scope="function"),
) -> CreatedCustomerOut:
    """Create a customer (phones normalised; bad ones reported, nothing saved).

    The answer lists ``possible_duplicates``: existing customers who are probably the same
    person, with the evidence.
    """
    customer = crm.create_customer(
        session,
        name=body.name,
        phones=body.phones,
        emails=body.emails,
        addresses=body.addresses,
        site=body.site,
        vip_level=body.vip_level,
        default_area_code=body.default_area_code,
        actor=user.username,
    )
    # Caught now, the duplicate never collects its own history; the agent decides.
    possible = crm.likely_duplicates_of(session, customer_id=customer.id)
    view = crm.customer_view(session, customer=customer, masked=masked_for(user))
    return CreatedCustomerOut.model_validate(
        view
        | {
            "possible_duplicates": [
                {
                    "customer_id": p.right if p.left == customer.id else p.left,
                    "score": p.score,
                    "reasons": list(p.reasons),
                }
                for p in possible
            ]
        }
    )


@router.get("/duplicates", responses=errors())
def duplicates(
    user: CurrentUser = Depends(require_roles("supervisor", "manager")),
    session: Session = Depends(read_session, scope="function"),
) -> DuplicatesOut:
    """Likely duplicate customers, the evidence for each pair, and the duplication rate.

    It reads every active customer (seconds with a million): a reader's session, so the
    writers' turn is not held meanwhile, and the page asks for it only when told to."""
    report = crm.duplicate_report(session)
    return DuplicatesOut.model_validate(
        {
            "customers": report.customers,
            "duplication_rate": report.duplication_rate,
            "clusters": report.clusters,
            "pairs": [
                {"left": p.left, "right": p.right, "score": p.score, "reasons": list(p.reasons)}
                for p in report.pairs
            ],
            "skipped_blocks": len(report.skipped_blocks),
        }
    )


@router.get("/{customer_id}", responses=errors(404, 422))
def get_customer(
    customer_id: RecordId,
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(db_session, scope="function"),
) -> CustomerOut:
    """A customer with phones, e-mails, addresses and products (merged ids lead to the survivor)."""
    customer = crm.get_customer(session, customer_id=customer_id)
    return CustomerOut.model_validate(
        crm.customer_view(session, customer=customer, masked=masked_for(user))
    )


@router.post("/{customer_id}/products", status_code=201, responses=errors(404, 422))
def add_product(
    customer_id: RecordId,
    body: ProductIn,
    user: CurrentUser = Depends(require_roles(*SERVICE)),
    session: Session = Depends(db_session, scope="function"),
) -> ProductOut:
    """Record a product the customer owns."""
    product = crm.add_product(
        session, customer_id=customer_id, actor=user.username, **body.model_dump()
    )
    return ProductOut(id=product.id, customer_id=product.customer_id, model=product.model)


@router.post("/{customer_id}/phones", status_code=201, responses=errors(404, 422))
def add_phone(
    customer_id: RecordId,
    body: PhoneIn,
    user: CurrentUser = Depends(require_roles(*SERVICE)),
    session: Session = Depends(db_session, scope="function"),
) -> PhoneOut:
    """Add a phone number (normalised to E.164; 422 if it is not a phone number)."""
    customer = crm.get_customer(session, customer_id=customer_id)
    phone = crm.add_phone(
        session,
        customer_id=customer.id,
        raw=body.number,
        label=body.label,
        default_area_code=body.default_area_code,
    )
    audit(
        session, actor=user.username, action="customer.phone_add", target=f"customer:{customer.id}"
    )
    session.flush()
    return PhoneOut(id=phone.id, e164=phone.e164, kind=phone.kind)


@router.post("/{customer_id}/contacts", status_code=201, responses=errors(404, 422))
def add_contact(
    customer_id: RecordId,
    body: ContactIn,
    user: CurrentUser = Depends(require_roles(*SERVICE)),
    session: Session = Depends(db_session, scope="function"),
) -> ContactOut:
    """Add a contact to the customer's history (the agent handling it is the caller)."""
    customer = crm.get_customer(session, customer_id=customer_id)
    contact = crm.record_contact(
        session,
        customer_id=customer.id,
        channel=body.channel,
        direction=body.direction,
        contact_id=body.contact_id,
        agent_id=user.agent_id or user.username,
        summary=body.summary,
    )
    session.flush()
    return ContactOut(id=contact.id, at=contact.at)


class ImportJobOut(ResponseModel):
    """A background import: its state, progress and, once ended, its result.

    ``state``: queued, checking, staging, publishing, then done or failed. ``result`` of a
    done job: ``imported``, ``first_id``, ``last_id`` (the new ids are consecutive); of a
    failed one: ``error`` (``invalid_file`` with ``problems`` — file, line, field, problem —
    or ``failed`` with ``message``) and ``imported`` 0: a failed job imports nothing.
    """

    job_id: str
    kind: str
    file: str
    state: str
    rows_total: int
    rows_done: int
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    result: dict[str, Any]


@router.post("/import", status_code=202, response_model=ImportJobOut, responses=errors(422))
def import_customers(
    body: CsvIn,
    request: Request,
    user: CurrentUser = Depends(require_roles("supervisor", "manager")),
    session: Session = Depends(db_session, scope="function"),
) -> ImportJobOut:
    """Start importing customers from CSV text in the background; 202 with the job to follow.

    ``GET /api/customers/imports/{job_id}`` shows progress and the result. Any bad row
    fails the job with line and rule, and imports nothing; the center keeps working meanwhile.
    """
    job = imports.create_job(session, kind="customers", file=body.file, actor=user.username)
    audit(session, actor=user.username, action="customer.import_started", target=job.id)
    view = imports.job_view(job)
    session.commit()  # the job exists before its worker looks for it
    factory = request.app.state.session_factory
    jobs.background(request.app).submit(
        imports.run_customer_import,
        factory,
        job_id=job.id,
        text=body.text,
        file=body.file,
        actor=user.username,
        default_area_code=body.default_area_code,
        stop=jobs.stopping(request.app),
    )
    return ImportJobOut(**view)


@router.get("/imports/{job_id}", response_model=ImportJobOut, responses=errors(404, 422))
def import_job(
    job_id: str = Path_(max_length=32),
    _: CurrentUser = Depends(require_roles("supervisor", "manager")),
    session: Session = Depends(db_session, scope="function"),
) -> ImportJobOut:
    """One import job: state, ``rows_done`` of ``rows_total``, and its result once ended."""
    job = imports.get_job(session, job_id=job_id, kind="customers")
    return ImportJobOut(**imports.job_view(job))


@router.post("/import-products", status_code=201, responses=errors(422))
def import_products(
    body: CsvIn,
    user: CurrentUser = Depends(require_roles("supervisor", "manager")),
    session: Session = Depends(db_session, scope="function"),
) -> ImportedProductsOut:
    """Import products from CSV text (matched to customers by phone); all or nothing."""
    ids = crm.import_products_csv(
        session,
        text=body.text,
        file=body.file,
        default_area_code=body.default_area_code,
        actor=user.username,
    )
    return ImportedProductsOut(imported=len(ids), ids=ids)


@router.post("/{survivor_id}/merge/{merged_id}", responses=errors(404, 409, 422))
def merge(
    survivor_id: RecordId,
    merged_id: RecordId,
    user: CurrentUser = Depends(require_roles(*MERGERS)),
    session: Session = Depends(db_session, scope="function"),
) -> MergeOut:
    """Merge ``merged_id`` into ``survivor_id`` keeping all history; returns the merge id."""
    done = desk.merge_customers(
        session, survivor_id=survivor_id, merged_id=merged_id, actor=user.username
    )
    return MergeOut(merge_id=done.id, moved=done.moved)


@router.post("/merges/{merge_id}/undo", responses=errors(404, 409, 422))
def undo_merge(
    merge_id: RecordId,
    user: CurrentUser = Depends(require_roles(*MERGERS)),
    session: Session = Depends(db_session, scope="function"),
) -> UndoneMergeOut:
    """Undo a merge: everything moves back and the merged customer is active again."""
    undone = desk.undo_merge(session, merge_id=merge_id, actor=user.username)
    return UndoneMergeOut(merge_id=undone.id, undone_at=undone.undone_at)


# ---------------------------------------------------------------- the customer page (360°)


class FoundCustomerOut(ResponseModel):
    """A customer a search found, masked (reveal one to see it in full)."""

    id: int
    name: str
    vip_level: int
    site: str | None
    phones: list[str]
    products: list[str] = Field(description="Model and serial number of each product.")


class OverviewTicketOut(ResponseModel):
    """One of the customer's tickets that the caller of the route may see."""

    id: int
    number: str
    type: str
    state: str
    subject: str
    created_at: str = Field(description="ISO 8601 date and time.")
    queue: str | None
    assignee: str | None


class CallingFlagsOut(ResponseModel):
    """One of the customer's numbers (masked as the page shows it): the do-not-call lists
    holding it (``center`` or ``campaign:<id>``) and how many callback consents are kept."""

    phone: str
    do_not_call: list[str]
    consents: int


class OverviewOut(ResponseModel):
    """A customer at a glance: identities and contact points (masked), products, every
    contact on every channel, tickets, the survey answers about their contacts and the
    follow-ups of their tickets (those the caller may see); ``may_reveal`` says whether the
    caller may see the customer unmasked through ``POST /api/customers/{id}/reveal``."""

    customer: CustomerOut
    contacts: list[ContactEntryOut]
    tickets: list[OverviewTicketOut]
    surveys: list[SurveyAnswerOut]
    followups: list[FollowupOut]
    calling_flags: list[CallingFlagsOut]
    may_reveal: bool


@router.get("", responses=errors(422))
def search_customers(
    q: str = Query(
        ...,
        min_length=1,
        max_length=64,
        description="A phone number, name, ticket number or product serial number.",
    ),
    limit: int = Query(20, ge=1, le=100),
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> list[FoundCustomerOut]:
    """Find customers by phone, name (traditional or simplified, from its start), ticket
    number or serial number; each listed masked, oldest first."""
    found = crm.search_customers(session, text=q, limit=limit)
    owner = session.scalar(select(Ticket.customer_id).where(Ticket.number == q.strip()))
    if owner is not None and all(c.id != owner for c in found):
        # the ticket's customer exists: tickets refer to customers by foreign key
        found.append(crm.get_customer(session, customer_id=owner))
    rows = []
    for customer in found[:limit]:
        view = crm.customer_view(session, customer=customer, masked=True)
        rows.append(
            FoundCustomerOut(
                id=view["id"],
                name=view["name"],
                vip_level=view["vip_level"],
                site=view["site"],
                phones=[p["e164"] for p in view["phones"]],
                products=[
                    f"{p['model']} {p['serial_number'] or ''}".strip() for p in view["products"]
                ],
            )
        )
    return rows


@router.get("/{customer_id}/overview", responses=errors(404, 422))
def overview(
    customer_id: RecordId,
    request: Request,
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> OverviewOut:
    """The customer page's data: the customer masked, products, contacts, the tickets the
    caller may see, survey answers and those tickets' follow-ups (a merged id leads to the
    survivor)."""
    customer = crm.get_customer(session, customer_id=customer_id)
    view = crm.customer_view(session, customer=customer, masked=True)
    full = crm.customer_view(session, customer=customer, masked=False)
    numbers = [p["e164"] for p in full["phones"]]
    flags = campaigns.calling_flags(session, numbers=numbers)
    contacts = crm.contact_history(session, customer_id=customer.id)
    recordings = recordings_of(request, user, session, (c.contact_id for c in contacts))
    theirs = tickets.list_tickets(session, customer_id=customer.id)
    rows = visible_tickets(
        current_center(request),
        user,
        [tickets.ticket_view(t, masked=masked_for(user)) for t in theirs],
    )
    shown = {row["id"] for row in rows}
    seen = [t for t in theirs if t.id in shown]
    feedback = history.customer_feedback(session, customer_id=customer.id, visible_tickets=seen)
    ticket_numbers = {t.id: t.number for t in seen}
    masked_words = hides_content(user)
    return OverviewOut(
        customer=CustomerOut.model_validate(view),
        contacts=[contact_out(request, user, c, recordings=recordings) for c in contacts],
        tickets=[
            OverviewTicketOut.model_validate({k: row[k] for k in OverviewTicketOut.model_fields})
            for row in rows
        ],
        surveys=[survey_out(a, masked=masked_words) for a in feedback.surveys],
        followups=[
            followup_out(t, numbers=ticket_numbers, masked=masked_words) for t in feedback.followups
        ],
        calling_flags=[
            CallingFlagsOut(
                phone=shown["e164"], do_not_call=list(f.do_not_call), consents=f.consents
            )
            for shown, f in zip(view["phones"], flags, strict=True)
        ],
        may_reveal=not masked_for(user),
    )


@router.post("/{customer_id}/reveal", responses=errors(404, 422))
def reveal(
    customer_id: RecordId,
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(db_session, scope="function"),
) -> CustomerOut:
    """Show one customer unmasked, to the roles the personal-data policy allows; the reveal
    is audited (``customer.reveal``) whoever asks."""
    customer = crm.get_customer(session, customer_id=customer_id)
    if masked_for(user):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "your roles may see this customer's personal data only masked",
        )
    audit(session, actor=user.username, action="customer.reveal", target=str(customer.id))
    return CustomerOut.model_validate(crm.customer_view(session, customer=customer, masked=False))
