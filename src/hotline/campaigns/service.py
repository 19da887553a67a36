"""Campaigns on a database session: campaigns, lists, do-not-call lists, consents, attempts.

The rules are the pure modules' (:mod:`hotline.campaigns.rules`, ``records``, ``lists``);
this module stores what they decide. Every change is audited. A number on a do-not-call list
(center-wide, or the campaign's own) is never handed out for dialling: :func:`claim_next`
blocks such a record instead, and :func:`screen_number` is what the dialling paths ask
before they place any call (click-to-dial, callbacks, the dialler).

Example::

    campaign = create_campaign(session, name="installs-dec", kind="follow_up",
                               mode="preview", actor="boss")
    import_list_csv(session, campaign_id=campaign.id, text=csv_text, file="list.csv",
                    actor="boss")
    record = claim_next(session, campaign_id=campaign.id, agent_id="a001", now=now)
    record_result(session, record_id=record.id, agent_id="a001", result="busy", now=now)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from hotline.campaigns.lists import MAX_ROWS, ListRow, check_list_csv
from hotline.campaigns.records import (
    Attempted,
    AttemptLogged,
    Blocked,
    Claimed,
    RecordEvent,
    RecordState,
    RecordStatus,
    Released,
    Rules,
    callback_problem,
    dialable,
    transition,
)
from hotline.campaigns.rules import (
    CallingHours,
    CallResult,
    CampaignKind,
    DialMode,
    RetryPolicy,
    keep_until,
    parse_calling_hours,
    parse_retry_policy,
)
from hotline.core.errors import Conflict, NotFound, Problem, ValidationFailed
from hotline.crm.service import customers_owning, normalized_number
from hotline.identity.audit import record as audit
from hotline.store.db import utcnow
from hotline.store.models.campaigns import (
    Campaign,
    CampaignAttempt,
    CampaignPacing,
    CampaignRecord,
    Consent,
    DoNotCall,
)

__all__ = [
    "Campaign",
    "CampaignAttempt",
    "CampaignPacing",
    "CampaignRecord",
    "Consent",
    "DoNotCall",
    "Figures",
    "ListRow",
    "add_do_not_call",
    "add_list",
    "add_query_list",
    "answers_since",
    "attempts_of",
    "audit_refusal",
    "block_if_listed",
    "campaign_rules",
    "check_list",
    "claim_next",
    "consents",
    "create_campaign",
    "dialled_records",
    "discard_list",
    "do_not_call_entries",
    "figures",
    "get_campaign",
    "get_record",
    "hand_over",
    "import_list_csv",
    "keep_pacing",
    "list_campaigns",
    "list_name",
    "listing",
    "normalized_number",
    "note_dialled",
    "pacing_of",
    "publish_list",
    "purge_expired_consents",
    "record_consent",
    "record_result",
    "records_of",
    "remove_do_not_call",
    "screen_number",
    "set_state",
    "skip_record",
    "stage_list",
    "staged_by",
]

#: The holder prefix of records a background import has staged (``staged_by``).
STAGED_PREFIX = "import:"

#: A campaign's states and which a supervisor may move it to from each.
STATE_CHANGES: Mapping[str, frozenset[str]] = {
    "draft": frozenset({"running", "finished"}),
    "running": frozenset({"paused", "finished"}),
    "paused": frozenset({"running", "finished"}),
    "finished": frozenset(),
}
#: How many due records :func:`claim_next` looks at before saying there is none now.
CLAIM_SCAN = 200


def _choice(value: str, allowed: type[CampaignKind] | type[DialMode], field: str) -> Problem | None:
    names = [str(member) for member in allowed]
    if value not in names:
        return Problem(f"must be one of {names}, not {value!r}", None, None, field)
    return None


def create_campaign(
    session: Session,
    *,
    name: str,
    kind: str,
    mode: str,
    actor: str,
    calling_hours: Mapping[str, Any] | None = None,
    retry: Mapping[str, Any] | None = None,
    script: str = "",
    agents: Sequence[str] = (),
    queue: str | None = None,
) -> Campaign:
    """Create a campaign in ``draft``; its rules are checked first (located problems).

    ``queue`` names the center's queue whose skill and proficiency rules choose which of the
    campaign's held agents takes a connected call (the caller checks it is one).
    """
    problems = [
        p
        for p in (_choice(kind, CampaignKind, "kind"), _choice(mode, DialMode, "mode"))
        if p is not None
    ]
    if not name.strip():
        problems.append(Problem("a campaign needs a name", None, None, "name"))
    hours: CallingHours | None = None
    policy: RetryPolicy | None = None
    try:
        hours = parse_calling_hours(calling_hours)
    except ValidationFailed as failed:
        problems += failed.problems
    try:
        policy = parse_retry_policy(retry)
    except ValidationFailed as failed:
        problems += failed.problems
    if problems or hours is None or policy is None:
        raise ValidationFailed(problems)
    if session.scalar(select(Campaign.id).where(Campaign.name == name.strip())) is not None:
        raise Conflict(f"a campaign named {name.strip()!r} exists already")
    campaign = Campaign(
        name=name.strip(),
        kind=kind,
        mode=mode,
        state="draft",
        calling_hours=hours.as_dict(),
        retry=policy.as_dict(),
        script=script,
        agents=list(dict.fromkeys(agents)),
        queue=queue,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(campaign)
    session.flush()
    audit(
        session,
        actor=actor,
        action="campaign.create",
        target=str(campaign.id),
        detail={"name": campaign.name, "kind": kind, "mode": mode, "queue": queue},
    )
    return campaign


def get_campaign(session: Session, *, campaign_id: int) -> Campaign:
    """The campaign ``campaign_id``; :class:`NotFound` when there is none."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


def list_campaigns(session: Session) -> list[Campaign]:
    """Every campaign, newest first."""
    return list(session.scalars(select(Campaign).order_by(Campaign.id.desc())))


def campaign_rules(campaign: Campaign) -> Rules:
    """The campaign's stored rules, as the record state machine takes them."""
    return Rules(parse_calling_hours(campaign.calling_hours), parse_retry_policy(campaign.retry))


def set_state(session: Session, *, campaign_id: int, state: str, actor: str) -> Campaign:
    """Start, pause, resume or finish a campaign; :class:`Conflict` for a move not allowed."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    if state not in STATE_CHANGES:
        raise ValidationFailed(
            [Problem(f"must be one of {sorted(STATE_CHANGES)}", None, None, "state")]
        )
    if state not in STATE_CHANGES[campaign.state]:
        raise Conflict(f"a {campaign.state} campaign cannot become {state}")
    before, campaign.state = campaign.state, state
    audit(
        session,
        actor=actor,
        action="campaign.state",
        target=str(campaign.id),
        detail={"from": before, "to": state},
    )
    return campaign


def _add_rows(
    session: Session,
    campaign: Campaign,
    rows: Sequence[ListRow],
    *,
    source: str,
    held_by: str | None = None,
) -> dict[str, int]:
    """Insert checked rows as waiting records (blocked at once when their number is listed);
    ``held_by`` keeps them out of every claim until a background import publishes them."""
    existing = set(
        session.scalars(
            select(CampaignRecord.phone).where(CampaignRecord.campaign_id == campaign.id)
        )
    )
    listed = _listed_numbers(session, campaign.id, [row.phone for row in rows])
    added = blocked = skipped = 0
    values: list[dict[str, Any]] = []
    for row in rows:
        if row.phone in existing:
            skipped += 1  # already on this campaign's list
            continue
        existing.add(row.phone)
        status = RecordStatus.BLOCKED if row.phone in listed else RecordStatus.WAITING
        blocked += status is RecordStatus.BLOCKED
        added += status is RecordStatus.WAITING
        values.append(
            {
                "campaign_id": campaign.id,
                "phone": row.phone,
                "name": row.name,
                "time_zone": row.time_zone,
                "customer_id": row.customer_id,
                "data": {k: v for k, v in row.data.items() if v},
                "source": source,
                "status": str(status),
                "attempts": 0,
                "due_at": row.callback_at,
                "held_by": held_by,
                "last_result": None,
            }
        )
    # One executemany, not an object per row: a big list holds the writer turn ~3× shorter.
    if values:
        session.execute(insert(CampaignRecord), values)
    session.flush()
    return {"added": added, "blocked": blocked, "already_listed": skipped}


def import_list_csv(
    session: Session, *, campaign_id: int, text: str, file: str, actor: str
) -> dict[str, int]:
    """Add a list file's rows to a campaign: every row checked first, then all or none.

    Raises :class:`ValidationFailed` with file, line, field and rule for each bad row (nothing
    is written). Numbers already on the campaign's list are left as they are; numbers on a
    do-not-call list go in ``blocked`` (never dialled, counted). Returns the counts.
    """
    _open_for_records(session, campaign_id)
    rows = check_list_csv(text=text, file=file, normalize=normalized_number)
    return add_list(
        session,
        campaign_id=campaign_id,
        rows=rows,
        source=f"file:{file}",
        actor=actor,
        action="campaign.list_import",
        detail={"file": file, "rows": len(rows)},
    )


def check_list(session: Session, *, campaign_id: int, text: str, file: str) -> list[ListRow]:
    """A list file checked whole for a campaign that takes records (what a background import
    stages): :class:`ValidationFailed` with file, line, field and rule for each bad row."""
    _open_for_records(session, campaign_id)
    return check_list_csv(text=text, file=file, normalize=normalized_number)


def staged_by(job_id: str) -> str:
    """The holder of the records a background import has staged and not yet published.

    >>> staged_by("3f2a")
    'import:3f2a'
    """
    return f"{STAGED_PREFIX}{job_id}"


def stage_list(
    session: Session, *, campaign_id: int, job_id: str, rows: Sequence[ListRow], file: str
) -> dict[str, int]:
    """Stage one chunk of a background import: the rows go in held by the job (no claim
    takes them) until :func:`publish_list`; returns the chunk's counts."""
    campaign = _open_for_records(session, campaign_id)
    return _add_rows(session, campaign, rows, source=f"file:{file}", held_by=staged_by(job_id))


def publish_list(
    session: Session,
    *,
    campaign_id: int,
    job_id: str,
    file: str,
    rows: int,
    counts: Mapping[str, int],
    actor: str,
) -> None:
    """Publish a background import's staged records at once (all of them become dialable
    in this one statement), audited as the file import is."""
    session.execute(
        update(CampaignRecord)
        .where(
            CampaignRecord.campaign_id == campaign_id, CampaignRecord.held_by == staged_by(job_id)
        )
        .values(held_by=None)
    )
    audit(
        session,
        actor=actor,
        action="campaign.list_import",
        target=str(campaign_id),
        detail={"file": file, "rows": rows, "job": job_id, **counts},
    )


def discard_list(session: Session, *, job_id: str) -> None:
    """Delete what a failed background import staged: nothing is half-imported."""
    session.execute(delete(CampaignRecord).where(CampaignRecord.held_by == staged_by(job_id)))


def _open_for_records(session: Session, campaign_id: int) -> Campaign:
    campaign = get_campaign(session, campaign_id=campaign_id)
    if campaign.state == "finished":
        raise Conflict("the campaign is finished: it takes no new records")
    return campaign


def add_list(
    session: Session,
    *,
    campaign_id: int,
    rows: Sequence[ListRow],
    source: str,
    actor: str,
    action: str = "campaign.list_add",
    detail: Mapping[str, object] | None = None,
) -> dict[str, int]:
    """Add checked rows (numbers normalised) to a campaign's list, audited as ``action``.

    What the file import and the customer query use, and what a composition above this domain
    uses for lists of its own (the due follow-ups: :mod:`hotline.desk.followup_calls`).
    Returns the counts: ``added``, ``blocked`` (on a do-not-call list), ``already_listed``.
    """
    campaign = _open_for_records(session, campaign_id)
    counts = _add_rows(session, campaign, rows, source=source[:200])
    audit(
        session,
        actor=actor,
        action=action,
        target=str(campaign.id),
        detail={**(detail or {}), **counts},
    )
    return counts


def add_query_list(
    session: Session,
    *,
    campaign_id: int,
    actor: str,
    category: str | None = None,
    model: str | None = None,
    installed_from: date | None = None,
    installed_to: date | None = None,
    warranty_ends_by: date | None = None,
) -> dict[str, int]:
    """Add the customers who own matching products (the CRM's query) to a campaign."""
    _open_for_records(session, campaign_id)
    query: dict[str, object] = {
        "category": category,
        "model": model,
        "installed_from": installed_from,
        "installed_to": installed_to,
        "warranty_ends_by": warranty_ends_by,
    }
    targets = customers_owning(
        session,
        limit=MAX_ROWS,
        category=category,
        model=model,
        installed_from=installed_from,
        installed_to=installed_to,
        warranty_ends_by=warranty_ends_by,
    )
    rows = [
        ListRow(
            line=0,
            phone=t.phone,
            name=t.name,
            customer_id=t.customer_id,
            data={
                "model": t.product_model,
                **({"serial": t.serial_number} if t.serial_number else {}),
            },
        )
        for t in targets
    ]
    described = {k: str(v) for k, v in query.items() if v}
    return add_list(
        session,
        campaign_id=campaign_id,
        rows=rows,
        source=f"query:{described}",
        actor=actor,
        action="campaign.list_query",
        detail={"query": described, "matched": len(rows)},
    )


def get_record(session: Session, *, record_id: int) -> CampaignRecord:
    """The campaign record ``record_id``; :class:`NotFound` when there is none."""
    record = session.get(CampaignRecord, record_id)
    if record is None:
        raise NotFound(f"no campaign record {record_id}")
    return record


def records_of(
    session: Session, *, campaign_id: int, status: str | None = None, limit: int = 100
) -> list[CampaignRecord]:
    """A campaign's records (optionally of one status), in list order."""
    query = select(CampaignRecord).where(CampaignRecord.campaign_id == campaign_id)
    if status:
        query = query.where(CampaignRecord.status == status)
    return list(session.scalars(query.order_by(CampaignRecord.id).limit(limit)))


# ------------------------------------------------------------------------ do-not-call lists


def _number_or_problem(raw: str, field: str = "number") -> str:
    number = normalized_number(raw)
    if number is None:
        raise ValidationFailed([Problem(f"not a phone number: {raw!r}", None, None, field)])
    return number


def _listed_numbers(session: Session, campaign_id: int | None, numbers: Sequence[str]) -> set[str]:
    scope: ColumnElement[bool] = DoNotCall.campaign_id.is_(None)
    if campaign_id is not None:
        scope = or_(scope, DoNotCall.campaign_id == campaign_id)
    found: set[str] = set()
    unique = list(dict.fromkeys(numbers))
    for start in range(0, len(unique), 1000):
        chunk = unique[start : start + 1000]
        found.update(
            session.scalars(select(DoNotCall.number).where(DoNotCall.number.in_(chunk), scope))
        )
    return found


def listing(session: Session, *, number: str, campaign_id: int | None = None) -> DoNotCall | None:
    """The do-not-call entry that forbids dialling ``number`` (as written), if any.

    The center-wide list applies everywhere; a campaign's own list only within it.
    """
    e164 = normalized_number(number) or number
    scope: ColumnElement[bool] = DoNotCall.campaign_id.is_(None)
    if campaign_id is not None:
        scope = or_(scope, DoNotCall.campaign_id == campaign_id)
    return session.scalars(
        select(DoNotCall).where(DoNotCall.number == e164, scope).order_by(DoNotCall.id).limit(1)
    ).first()


def list_name(entry: DoNotCall) -> str:
    """Which list an entry is on: ``center`` or ``campaign:<id>``."""
    return "center" if entry.campaign_id is None else f"campaign:{entry.campaign_id}"


@dataclass(frozen=True)
class CallingFlags:
    """What the center may do with one of a customer's numbers: the do-not-call lists that
    hold it (``center`` or ``campaign:<id>``) and the callbacks the customer agreed to (kept
    consents), for the customer's page."""

    number: str
    do_not_call: tuple[str, ...]
    consents: int


def calling_flags(session: Session, *, numbers: Sequence[str]) -> list[CallingFlags]:
    """The do-not-call lists and kept consents of each E.164 number, in the order given.

    Example: ``calling_flags(session, numbers=["+8613812345678"])[0].do_not_call``.
    """
    wanted = list(dict.fromkeys(numbers))
    listed: dict[str, list[str]] = {number: [] for number in wanted}
    for entry in session.scalars(
        select(DoNotCall).where(DoNotCall.number.in_(wanted)).order_by(DoNotCall.id)
    ):
        listed[entry.number].append(list_name(entry))
    kept: dict[str, int] = {
        number: count
        for number, count in session.execute(
            select(Consent.number, func.count())
            .where(Consent.number.in_(wanted), Consent.keep_until > utcnow())
            .group_by(Consent.number)
        )
    }
    return [CallingFlags(n, tuple(listed.get(n, ())), kept.get(n, 0)) for n in numbers]


def screen_number(
    session: Session,
    *,
    number: str,
    actor: str,
    path: str,
    campaign_id: int | None = None,
    contact_id: str | None = None,
) -> str | None:
    """Ask before dialling: ``None`` when ``number`` may be dialled, else the list holding it.

    A refusal is audited (``campaign.dnc_refused``) in ``session``'s transaction, with the
    path that asked (``click_to_dial``, ``callback``, ``campaign``), so the caller commits it.
    """
    entry = listing(session, number=number, campaign_id=campaign_id)
    if entry is None:
        return None
    name = list_name(entry)
    audit_refusal(
        session,
        number=number,
        list_name=name,
        actor=actor,
        path=path,
        campaign_id=campaign_id,
        contact_id=contact_id,
    )
    return name


def audit_refusal(
    session: Session,
    *,
    number: str,
    list_name: str,
    actor: str,
    path: str,
    campaign_id: int | None = None,
    contact_id: str | None = None,
) -> None:
    """Keep one refusal to dial a listed number in the audit log (``campaign.dnc_refused``)."""
    audit(
        session,
        actor=actor,
        action="campaign.dnc_refused",
        target=normalized_number(number) or number,
        detail={"path": path, "list": list_name, "campaign": campaign_id, "contact": contact_id},
    )


def add_do_not_call(
    session: Session,
    *,
    number: str,
    actor: str,
    campaign_id: int | None = None,
    reason: str = "",
) -> DoNotCall:
    """Put a number on the center-wide list, or on one campaign's; waiting records stop."""
    e164 = _number_or_problem(number)
    if campaign_id is not None:
        get_campaign(session, campaign_id=campaign_id)
    same = select(DoNotCall.id).where(DoNotCall.number == e164)
    same = same.where(
        DoNotCall.campaign_id.is_(None)
        if campaign_id is None
        else DoNotCall.campaign_id == campaign_id
    )
    if session.scalar(same) is not None:
        raise Conflict(f"{e164} is on that do-not-call list already")
    entry = DoNotCall(
        number=e164, campaign_id=campaign_id, reason=reason, added_by=actor, added_at=utcnow()
    )
    session.add(entry)
    session.flush()
    # Records not yet finished stop now: a listing is final for them.
    query = select(CampaignRecord).where(
        CampaignRecord.phone == e164,
        CampaignRecord.status.in_([str(RecordStatus.WAITING), str(RecordStatus.DIALLING)]),
    )
    if campaign_id is not None:
        query = query.where(CampaignRecord.campaign_id == campaign_id)
    for record in session.scalars(query):
        record.status, record.held_by, record.due_at = str(RecordStatus.BLOCKED), None, None
    audit(
        session,
        actor=actor,
        action="campaign.dnc_add",
        target=e164,
        detail={"list": list_name(entry), "reason": reason},
    )
    return entry


def remove_do_not_call(session: Session, *, entry_id: int, actor: str) -> None:
    """Take an entry off its list (records it blocked stay blocked)."""
    entry = session.get(DoNotCall, entry_id)
    if entry is None:
        raise NotFound(f"no do-not-call entry {entry_id}")
    audit(
        session,
        actor=actor,
        action="campaign.dnc_remove",
        target=entry.number,
        detail={"list": list_name(entry)},
    )
    session.delete(entry)


def do_not_call_entries(
    session: Session, *, campaign_id: int | None = None, limit: int = 500
) -> list[DoNotCall]:
    """The center-wide list (no campaign) or one campaign's own list, newest first."""
    query = select(DoNotCall).where(
        DoNotCall.campaign_id.is_(None)
        if campaign_id is None
        else DoNotCall.campaign_id == campaign_id
    )
    return list(session.scalars(query.order_by(DoNotCall.id.desc()).limit(limit)))


# ------------------------------------------------------------------------------- consents


def record_consent(
    session: Session,
    *,
    number: str,
    evidence: str,
    actor: str,
    callback_at: datetime | None = None,
    customer_id: int | None = None,
    campaign_id: int | None = None,
    contact_id: str | None = None,
    keep_days: int = 30,
) -> Consent:
    """Keep a callback the customer agreed to, with its evidence, for ``keep_days`` (≥ 30)."""
    e164 = _number_or_problem(number)
    if not evidence.strip():
        raise ValidationFailed(
            [
                Problem(
                    "consent needs its evidence (a recorded call, a form)", None, None, "evidence"
                )
            ]
        )
    if campaign_id is not None:
        get_campaign(session, campaign_id=campaign_id)
    now = utcnow()
    try:
        until = keep_until(now, days=keep_days)
    except ValueError as error:
        raise ValidationFailed([Problem(str(error), None, None, "keep_days")]) from None
    consent = Consent(
        number=e164,
        customer_id=customer_id,
        campaign_id=campaign_id,
        callback_at=callback_at,
        evidence=evidence.strip(),
        contact_id=contact_id,
        recorded_by=actor,
        recorded_at=now,
        keep_until=until,
    )
    session.add(consent)
    session.flush()
    audit(
        session,
        actor=actor,
        action="campaign.consent",
        target=e164,
        detail={"consent": consent.id, "contact": contact_id, "campaign": campaign_id},
    )
    return consent


def consents(session: Session, *, number: str | None = None, limit: int = 200) -> list[Consent]:
    """Consent records, newest first; of one number when given."""
    query = select(Consent)
    if number:
        query = query.where(Consent.number == (normalized_number(number) or number))
    return list(session.scalars(query.order_by(Consent.id.desc()).limit(limit)))


def purge_expired_consents(session: Session, *, now: datetime, actor: str) -> int:
    """Delete consent records past their ``keep_until`` (never sooner); return how many."""
    expired = list(session.scalars(select(Consent).where(Consent.keep_until <= now)))
    for consent in expired:
        session.delete(consent)
    if expired:
        audit(
            session, actor=actor, action="campaign.consent_purge", detail={"deleted": len(expired)}
        )
    return len(expired)


# ------------------------------------------------------------------------------ dialling


def _state_of(record: CampaignRecord) -> RecordState:
    return RecordState(
        status=RecordStatus(record.status),
        attempts=record.attempts,
        due_at=record.due_at,
        held_by=record.held_by,
        last_result=CallResult(record.last_result) if record.last_result else None,
        time_zone=record.time_zone,
    )


def _keep_attempt(
    session: Session,
    campaign: Campaign,
    record: CampaignRecord,
    logged: AttemptLogged,
    *,
    at: datetime,
    contact_id: str | None,
    answered: bool,
    connected: bool,
) -> None:
    """Keep one attempt of the record as its row."""
    session.add(
        CampaignAttempt(
            campaign_id=campaign.id,
            record_id=record.id,
            number=logged.attempt,
            at=at,
            agent_id=logged.agent,
            contact_id=contact_id,
            mode=campaign.mode,
            result=str(logged.result),
            answered=answered,
            connected=connected,
        )
    )


def _apply(
    session: Session,
    campaign: Campaign,
    record: CampaignRecord,
    event: RecordEvent,
    *,
    contact_id: str | None = None,
    answered: bool = False,
    connected: bool = False,
    logged: CampaignAttempt | None = None,
) -> None:
    """Store ``event``'s step of the record's state machine; ``logged`` is the attempt row
    already kept for this call (a dialled call handed to an agent), which takes the result
    instead of a new row."""
    state, effects = transition(_state_of(record), event, campaign_rules(campaign))
    for effect in effects:
        if isinstance(effect, AttemptLogged) and logged is not None:
            logged.result = str(effect.result)
        elif isinstance(effect, AttemptLogged):
            _keep_attempt(
                session,
                campaign,
                record,
                effect,
                at=event.at,
                contact_id=contact_id,
                answered=answered,
                connected=connected,
            )
    record.status = str(state.status)
    record.attempts = state.attempts
    record.due_at = state.due_at
    record.held_by = state.held_by
    record.last_result = str(state.last_result) if state.last_result else None
    if state.held_by is None:
        record.contact_id = None  # out of the hand that held it during the call


def claim_next(
    session: Session, *, campaign_id: int, agent_id: str, now: datetime
) -> CampaignRecord | None:
    """Hand the next dialable record of a running campaign to ``agent_id`` (or the dialler).

    Records are taken in due order; one whose number is on a do-not-call list is blocked
    (and the refusal audited) instead of handed out, and one outside its customer's calling
    hours waits. ``None`` when nothing may be dialled now.
    """
    campaign = get_campaign(session, campaign_id=campaign_id)
    if campaign.state != "running":
        raise Conflict(f"the campaign is {campaign.state}, not running")
    held = session.scalars(
        select(CampaignRecord).where(
            CampaignRecord.campaign_id == campaign_id,
            CampaignRecord.status == str(RecordStatus.DIALLING),
            CampaignRecord.held_by == agent_id,
        )
    ).first()
    if held is not None:
        return held  # an agent holds one record at a time: the same one again
    rules = campaign_rules(campaign)
    due = session.scalars(
        select(CampaignRecord)
        .where(
            CampaignRecord.campaign_id == campaign_id,
            CampaignRecord.status == str(RecordStatus.WAITING),
            CampaignRecord.held_by.is_(None),  # not staged by an import still running
            or_(CampaignRecord.due_at.is_(None), CampaignRecord.due_at <= now),
        )
        .order_by(CampaignRecord.due_at.is_not(None), CampaignRecord.due_at, CampaignRecord.id)
        .limit(CLAIM_SCAN)
    ).all()
    locking = session.get_bind().dialect.name == "postgresql"
    for record in due:
        if locking and not _lock_waiting(session, record.id):
            continue  # another claimer (a second voice node's dialler) holds or took it
        listed = screen_number(
            session, number=record.phone, actor=agent_id, path="campaign", campaign_id=campaign_id
        )
        if listed is not None:
            _apply(session, campaign, record, Blocked(at=now, list_name=listed))
            continue
        if not dialable(_state_of(record), now, rules):
            continue
        _apply(session, campaign, record, Claimed(at=now, by=agent_id))
        audit(
            session,
            actor=agent_id,
            action="campaign.claim",
            target=str(record.id),
            detail={"campaign": campaign_id},
        )
        return record
    return None


def _lock_waiting(session: Session, record_id: int) -> bool:
    """Lock the record if it is still waiting and unheld, skipping it when another claimer
    has it locked (PostgreSQL): two claimers at once — two voice nodes' diallers, agents
    previewing — never both claim it. Without the lock both would read it waiting and both
    write their claim (read committed re-checks only the row's id); SQLite has one writer."""
    locked = session.scalars(
        select(CampaignRecord)
        .where(
            CampaignRecord.id == record_id,
            CampaignRecord.status == str(RecordStatus.WAITING),
            CampaignRecord.held_by.is_(None),
        )
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    return locked is not None


def dialler_holders(session: Session, *, prefix: str) -> list[str]:
    """The distinct holders starting ``prefix`` of the records being dialled now."""
    return list(
        session.scalars(
            select(CampaignRecord.held_by)
            .where(
                CampaignRecord.status == str(RecordStatus.DIALLING),
                CampaignRecord.held_by.startswith(prefix, autoescape=True),
            )
            .distinct()
        )
    )


def interrupt_held(session: Session, *, holder_prefix: str, now: datetime) -> list[int]:
    """The records held by calls of a dialler that is gone (a lost voice node's: holders
    ``{holder_prefix}:{contact}``): each call's attempt kept as ``failed`` (neither answered
    nor connected: the call was cut off with its node), so the retry rules bring the record
    back — never dialled again while its call might still be up, never left held for good.
    Returns the records' ids; a second call finds none (idempotent)."""
    records = session.scalars(
        select(CampaignRecord)
        .where(
            CampaignRecord.status == str(RecordStatus.DIALLING),
            CampaignRecord.held_by.startswith(f"{holder_prefix}:", autoescape=True),
        )
        .order_by(CampaignRecord.id)
    ).all()
    done = []
    for record in records:
        holder = str(record.held_by)
        record_result(
            session,
            record_id=record.id,
            agent_id=holder,
            result=str(CallResult.FAILED),
            now=now,
            contact_id=holder.removeprefix(f"{holder_prefix}:"),
            answered=False,
            connected=False,
        )
        done.append(int(record.id))
    return done


def _held(session: Session, record_id: int, agent_id: str) -> tuple[Campaign, CampaignRecord]:
    record = get_record(session, record_id=record_id)
    if record.status != str(RecordStatus.DIALLING) or record.held_by != agent_id:
        raise Conflict(f"record {record_id} is not being dialled by {agent_id}")
    return get_campaign(session, campaign_id=record.campaign_id), record


def block_if_listed(
    session: Session, *, record_id: int, agent_id: str, now: datetime
) -> str | None:
    """Before the agent dials a held record: the list that forbids it (the record is then
    blocked and the refusal audited), or ``None`` when it may be dialled."""
    campaign, record = _held(session, record_id, agent_id)
    listed = screen_number(
        session, number=record.phone, actor=agent_id, path="campaign", campaign_id=campaign.id
    )
    if listed is not None:
        _apply(session, campaign, record, Blocked(at=now, list_name=listed))
    return listed


def note_dialled(session: Session, *, record_id: int, agent_id: str, contact_id: str) -> None:
    """Keep that the agent's call for a held record went out as contact ``contact_id``."""
    _held(session, record_id, agent_id)
    audit(
        session,
        actor=agent_id,
        action="campaign.dial",
        target=str(record_id),
        detail={"contact": contact_id},
    )


def skip_record(session: Session, *, record_id: int, agent_id: str, now: datetime) -> None:
    """The agent gives a previewed record back undialled (another agent may take it)."""
    campaign, record = _held(session, record_id, agent_id)
    _apply(session, campaign, record, Released(at=now))
    audit(session, actor=agent_id, action="campaign.skip", target=str(record.id))


def record_result(
    session: Session,
    *,
    record_id: int,
    agent_id: str,
    result: str,
    now: datetime,
    contact_id: str | None = None,
    callback_at: datetime | None = None,
    answered: bool | None = None,
    connected: bool | None = None,
) -> CampaignRecord:
    """Keep one attempt's result; the retry rules decide whether and when the record returns.

    ``result`` is a :class:`~hotline.campaigns.rules.CallResult` value; ``callback_at`` (aware)
    is the time the customer asked for with ``callback_requested``: inside the calling hours in
    the customer's zone, ahead, and not for a listed number (else :class:`ValidationFailed`
    on ``callback_at``). ``contact_id`` defaults to the call the record is in (a dialled call
    handed to the agent). A ``do_not_call`` result
    also puts the number on the campaign's own do-not-call list. ``answered``/``connected``
    default to what the result implies (a person was reached and talked to the agent).
    """
    try:
        outcome = CallResult(result)
    except ValueError:
        names = [str(r) for r in CallResult]
        raise ValidationFailed(
            [Problem(f"must be one of {names}, not {result!r}", None, None, "result")]
        ) from None
    if callback_at is not None:
        # Asked before the hold: a listing blocks the record, and the answer must still say
        # that the callback (not the agent's hold) is what the list refuses.
        _check_callback(session, get_record(session, record_id=record_id), callback_at, now)
    campaign, record = _held(session, record_id, agent_id)
    contact_id = contact_id or record.contact_id
    reached = outcome not in (CallResult.BUSY, CallResult.NO_ANSWER, CallResult.FAILED)
    _apply(
        session,
        campaign,
        record,
        Attempted(at=now, result=outcome, callback_at=callback_at),
        logged=_connected_attempt(session, record),
        contact_id=contact_id,
        answered=reached if answered is None else answered,
        connected=(reached and outcome is not CallResult.ABANDONED)
        if connected is None
        else connected,
    )
    audit(
        session,
        actor=agent_id,
        action="campaign.result",
        target=str(record.id),
        detail={"campaign": campaign.id, "result": result, "contact": contact_id},
    )
    if (
        outcome is CallResult.DO_NOT_CALL
        and listing(session, number=record.phone, campaign_id=campaign.id) is None
    ):
        add_do_not_call(
            session,
            number=record.phone,
            campaign_id=campaign.id,
            actor=agent_id,
            reason="the customer asked not to be called",
        )
    return record


def _check_callback(session: Session, record: CampaignRecord, at: datetime, now: datetime) -> None:
    """A customer's callback time is booked only inside the calling hours (their zone) and
    never for a number on a do-not-call list: else 422 naming ``callback_at``."""
    campaign = get_campaign(session, campaign_id=record.campaign_id)
    listed = listing(session, number=record.phone, campaign_id=campaign.id)
    problem = (
        f"the number is on the {list_name(listed)} do-not-call list: no callback may be booked"
        if listed is not None
        else callback_problem(
            at, now=now, rules=campaign_rules(campaign), time_zone=record.time_zone
        )
    )
    if problem is not None:
        raise ValidationFailed([Problem(problem, None, None, "callback_at")])


def hand_over(
    session: Session,
    *,
    record_id: int,
    holder: str,
    agent_id: str,
    contact_id: str,
    now: datetime,
) -> CampaignRecord:
    """The dialler connected the call it holds the record for to ``agent_id``: the record
    passes to that agent, who sets its disposition from the desk (:func:`record_result`,
    the preview's path) while the call is ``contact_id``. Audited ``campaign.connect``.

    The call is kept at once as the record's next attempt, answered and connected, with the
    result ``completed`` until the agent's disposition replaces it: the campaign's figures and
    the day's live answers (the abandon budget a restarted dialler resumes from) count it
    whether or not the agent ever dispositions it.
    """
    campaign, record = _held(session, record_id, holder)
    _keep_attempt(
        session,
        campaign,
        record,
        AttemptLogged(record.attempts + 1, CallResult.COMPLETED, agent_id),
        at=now,
        contact_id=contact_id,
        answered=True,
        connected=True,
    )
    record.held_by = agent_id
    record.contact_id = contact_id
    audit(
        session,
        actor=holder,
        action="campaign.connect",
        target=str(record.id),
        detail={"campaign": campaign.id, "agent": agent_id, "contact": contact_id},
    )
    return record


def _connected_attempt(session: Session, record: CampaignRecord) -> CampaignAttempt | None:
    """The attempt :func:`hand_over` kept for the call the record is in, if it is in one."""
    if record.contact_id is None:
        return None
    return session.scalar(
        select(CampaignAttempt).where(
            CampaignAttempt.record_id == record.id,
            CampaignAttempt.number == record.attempts + 1,
            CampaignAttempt.contact_id == record.contact_id,
        )
    )


def dialled_records(session: Session, *, agent_id: str) -> list[CampaignRecord]:
    """The records the dialler handed to ``agent_id`` (connected calls of progressive and
    predictive campaigns) that still wait for the agent's disposition, the latest record first."""
    return list(
        session.scalars(
            select(CampaignRecord)
            .join(Campaign, Campaign.id == CampaignRecord.campaign_id)
            .where(
                CampaignRecord.held_by == agent_id,
                CampaignRecord.status == str(RecordStatus.DIALLING),
                CampaignRecord.contact_id.is_not(None),
                Campaign.mode.in_([str(DialMode.PROGRESSIVE), str(DialMode.PREDICTIVE)]),
            )
            .order_by(CampaignRecord.id.desc())
        )
    )


def attempts_of(session: Session, *, record_id: int) -> list[CampaignAttempt]:
    """A record's earlier attempts, the first first."""
    return list(
        session.scalars(
            select(CampaignAttempt)
            .where(CampaignAttempt.record_id == record_id)
            .order_by(CampaignAttempt.number)
        )
    )


@dataclass(frozen=True)
class Figures:
    """A campaign's live figures: records by status and attempts by what they reached."""

    records: dict[str, int]
    attempts: int
    answers: int
    connects: int
    abandons: int
    results: dict[str, int]


def figures(session: Session, *, campaign_id: int) -> Figures:
    """Records by status; attempts, answers, connects, abandons and results so far."""
    get_campaign(session, campaign_id=campaign_id)
    records = {str(s): 0 for s in RecordStatus}
    for status, count in session.execute(
        select(CampaignRecord.status, func.count())
        .where(CampaignRecord.campaign_id == campaign_id)
        .group_by(CampaignRecord.status)
    ):
        records[status] = count
    results: dict[str, int] = {}
    attempts = answers = connects = 0
    for result, answered, connected, count in session.execute(
        select(
            CampaignAttempt.result,
            CampaignAttempt.answered,
            CampaignAttempt.connected,
            func.count(),
        )
        .where(CampaignAttempt.campaign_id == campaign_id)
        .group_by(CampaignAttempt.result, CampaignAttempt.answered, CampaignAttempt.connected)
    ):
        results[result] = results.get(result, 0) + count
        attempts += count
        answers += count if answered else 0
        connects += count if connected else 0
    return Figures(
        records=records,
        attempts=attempts,
        answers=answers,
        connects=connects,
        abandons=results.get(str(CallResult.ABANDONED), 0),
        results=results,
    )


def answers_since(session: Session, *, campaign_id: int, since: datetime) -> tuple[int, int]:
    """The campaign's live answers and abandons from ``since`` (aware) on: the day's counts a
    dialler restarted mid-day resumes its abandon budget from, so a restart never resets it.
    """
    answers, abandons = session.execute(
        select(
            func.count().filter(CampaignAttempt.answered),
            func.count().filter(CampaignAttempt.result == str(CallResult.ABANDONED)),
        ).where(CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.at >= since)
    ).one()
    return int(answers or 0), int(abandons or 0)


def keep_pacing(
    session: Session,
    *,
    campaign_id: int,
    at: datetime,
    day: str,
    ringing: int,
    waiting: int,
    free_agents: int,
    talking_agents: int,
    releasing_agents: int,
    answered_today: int,
    abandoned_today: int,
    allowance: int,
) -> None:
    """Keep what the dialler sees of a campaign now (calls ringing and waiting for an agent,
    its agents, the day's answers and abandons and the cap's allowance), replacing the last."""
    row = session.get(CampaignPacing, campaign_id)
    if row is None:
        row = CampaignPacing(campaign_id=campaign_id)
        session.add(row)
    row.at, row.day, row.ringing, row.waiting = at, day, ringing, waiting
    row.free_agents, row.talking_agents = free_agents, talking_agents
    row.releasing_agents, row.answered_today = releasing_agents, answered_today
    row.abandoned_today, row.allowance = abandoned_today, allowance
    session.flush()


def pacing_of(session: Session, *, campaign_id: int) -> CampaignPacing | None:
    """What the dialler last kept of the campaign (``None`` when no dialler worked it)."""
    return session.get(CampaignPacing, campaign_id)
