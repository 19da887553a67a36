"""Call recordings API: list a contact's recordings and play one back, for permitted roles only.

Only the roles in :data:`hotline.identity.roles.RECORDING_ROLES` (admin, manager,
supervisor, QA, team lead) may list or hear recordings, and a team lead only those of their
own teams' agents (:mod:`hotline.identity.scope`): the lists leave the others out, and
playing one is refused (403). Every playback is written to the audit log (``recording.play``)
before the audio is streamed, so who listened to which call is on record even when the
download is cut short; a refused one is audited too (``recording.play_refused``).

Example::

    GET /api/contacts/v-3f2a9c/recordings       -> [{"id": 7, "seconds": 41.2, ...}]
    GET /api/recordings/7/audio                 -> audio/wav (stereo: caller left, agent right)
    GET /api/voicemails                         -> the messages callers left, newest first
    GET /api/recordings?agent=a001&since=2026-03-01&min_seconds=60
                                                -> {"total": 12, "items": [...]} (a page)
    GET /api/recordings/7/download              -> the WAV as a file (managers; audited)

The search filters on the server and pages with ``offset``/``limit``: by day (in the
center's time zone), agent, queue, customer, the number that called, duration and the
disposition the agent chose at wrap-up (both from the contact event log).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import Field
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from hotline.core.errors import NotFound, Problem, ValidationFailed
from hotline.crm import service as crm
from hotline.crm.phones import PhoneKind, try_normalize
from hotline.identity import audit
from hotline.identity.roles import RECORDING_DOWNLOAD_ROLES, RECORDING_ROLES, hidden_fields
from hotline.store.models.core import ContactEventRow
from hotline.store.models.crm import CustomerContact
from hotline.store.models.telephony import Recording
from hotline.web.access import current_center, mask_personal, scope_of
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, read_session, require_roles, writer_session
from hotline.web.fields import MAX_RECORD_ID, RecordId

router = APIRouter(prefix="/api", tags=["recordings"])

LISTENERS = tuple(sorted(RECORDING_ROLES))
DOWNLOADERS = tuple(sorted(RECORDING_DOWNLOAD_ROLES))


class RecordingOut(ResponseModel):
    """One recording of a contact (``kind``: the call, or a voicemail), with the address of
    its audio."""

    id: int
    contact_id: str
    agent_id: str | None
    queue: str | None
    media_type: str
    seconds: Number
    channels: list[Any] = Field(description="What each audio channel carries.")
    recorded_at: Number = Field(description="When recording began (epoch seconds).")
    kind: str
    audio: str


class VoicemailOut(RecordingOut):
    """A voicemail message, with the number that called (masked per the personal-data policy;
    ``null`` when unknown)."""

    caller: str | None


def _summary(recording: Recording) -> dict[str, Any]:
    return {
        "id": recording.id,
        "contact_id": recording.contact_id,
        "agent_id": recording.agent_id,
        "queue": recording.queue,
        "media_type": recording.media_type,
        "seconds": recording.seconds,
        "channels": recording.channels,
        "recorded_at": recording.recorded_at,
        "kind": recording.kind,
        "audio": f"/api/recordings/{recording.id}/audio",
    }


@router.get("/contacts/{contact_id}/recordings", responses=errors(422))
def list_recordings(
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[RecordingOut]:
    """The recordings of one contact, oldest first (an empty list when it has none); a team
    lead's list holds only those of their own teams' agents."""
    scope = scope_of(request, user)
    query = (
        select(Recording)
        .where(Recording.contact_id == contact_id)
        .order_by(Recording.recorded_at, Recording.id)
    )
    return [
        RecordingOut.model_validate(_summary(r))
        for r in session.scalars(query)
        if scope.covers(r.agent_id)
    ]


@router.get(
    "/recordings/{recording_id}/audio",
    response_class=FileResponse,
    responses={
        **errors(404, 422),
        200: {
            "description": "The recording as WAV (stereo: caller left, agent right).",
            "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
def play_recording(
    recording_id: RecordId,
    request: Request,
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
    session: Session = Depends(writer_session, scope="function"),
) -> Response:
    """Stream one recording's WAV; the playback is audited (403 and audited: a team lead's
    request for a recording of another team's agent).

    A GET that writes: its session queues as a writer (``writer_session``), and, being
    function-scoped, commits the audit entry when this function returns, before the first
    byte of audio leaves.
    """
    recording = session.get(Recording, recording_id)
    if recording is None:
        raise NotFound(f"recording {recording_id} does not exist")
    if not scope_of(request, user).covers(recording.agent_id):
        audit.record(
            session,
            actor=user.username,
            action="recording.play_refused",
            target=recording.contact_id,
            detail={"recording_id": recording.id, "agent_id": recording.agent_id},
        )
        # Answered, not raised: the transaction commits, so the refusal stays on record.
        return JSONResponse(
            {
                "error": "forbidden",
                "message": f"recording {recording_id} is of an agent outside your team(s)",
            },
            status_code=status.HTTP_403_FORBIDDEN,
        )
    path = Path(recording.path)
    if not path.is_file():
        raise NotFound(f"the audio of recording {recording_id} is no longer on disk")
    audit.record(
        session,
        actor=user.username,
        action="recording.play",
        target=recording.contact_id,
        detail={"recording_id": recording.id, "agent_id": recording.agent_id},
    )
    return FileResponse(
        path, media_type=recording.media_type, filename=f"{recording.contact_id}.wav"
    )


@router.get("/voicemails", responses=errors(422))
def list_voicemails(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[VoicemailOut]:
    """The voicemail messages callers left (queue exit ``voicemail``), newest first, each with
    the number that called, so someone can call back. A message reached no agent: a team
    lead, who hears only their teams' agents' calls, gets none."""
    scope = scope_of(request, user)
    if not scope.everyone:
        return []
    rows = list(
        session.scalars(
            select(Recording)
            .where(Recording.kind == "voicemail")
            .order_by(Recording.recorded_at.desc())
            .limit(limit)
        )
    )
    arrivals = session.scalars(
        select(ContactEventRow).where(
            ContactEventRow.kind == "arrived",
            ContactEventRow.contact_id.in_([r.contact_id for r in rows]),
        )
    )
    callers = {a.contact_id: a.data.get("caller") for a in arrivals}
    listed = [{**_summary(r), "caller": callers.get(r.contact_id)} for r in rows]
    shown: list[dict[str, Any]] = mask_personal(listed, hidden_fields(user.roles))
    return [VoicemailOut.model_validate(message) for message in shown]


class FoundRecording(RecordingOut):
    """A recording as the search lists it: the number that called (masked per the
    personal-data policy), the disposition chosen at wrap-up, and the address to download it
    from (``null`` for roles that may only listen)."""

    caller: str | None
    disposition: str | None
    download: str | None


class RecordingPage(ResponseModel):
    """One page of a recording search, newest first, with how many match in all."""

    total: int = Field(description="How many recordings match the filters.")
    offset: int
    limit: int
    items: list[FoundRecording]


def _day_bounds(request: Request, since: date | None, until: date | None) -> tuple[float, float]:
    """Epoch seconds from the start of ``since`` to the end of ``until``, in the center's
    time zone (a supervisor means their own calendar day, not UTC's)."""
    center = current_center(request)
    zone = ZoneInfo(center.center.timezone if center is not None else "UTC")
    low = datetime.combine(since, time(), zone).timestamp() if since else float("-inf")
    high = (
        datetime.combine(until + timedelta(days=1), time(), zone).timestamp()
        if until
        else float("inf")
    )
    return low, high


def _contacts_with(kind: str, key: str, values: list[str]) -> Select[Any]:
    """Contact ids whose event log has a ``kind`` event with ``data[key]`` among ``values``."""
    return select(ContactEventRow.contact_id).where(
        ContactEventRow.kind == kind, ContactEventRow.data[key].as_string().in_(values)
    )


def _spellings(number: str) -> list[str]:
    """The ways caller ID may have written ``number``: as typed, E.164, and national (with
    the trunk 0 for landlines), so "138 1234 5678" finds a caller logged as 13812345678."""
    spellings = [number]
    parsed = try_normalize(number)
    if parsed is not None:
        national = parsed.e164.removeprefix("+86")
        spellings += [parsed.e164, national]
        if parsed.kind != PhoneKind.MOBILE:
            spellings.append("0" + national)
    return list(dict.fromkeys(spellings))


def _event_values(
    session: Session, contact_ids: list[str], kind: str, key: str
) -> dict[str, str | None]:
    rows = session.scalars(
        select(ContactEventRow).where(
            ContactEventRow.kind == kind, ContactEventRow.contact_id.in_(contact_ids)
        )
    )
    return {row.contact_id: row.data.get(key) for row in rows if row.contact_id is not None}


@router.get("/recordings", responses=errors(422))
def search_recordings(
    request: Request,
    since: date | None = Query(None, description="First day (center time zone), inclusive."),
    until: date | None = Query(None, description="Last day (center time zone), inclusive."),
    agent: str | None = Query(None, min_length=1, max_length=64),
    queue: str | None = Query(None, min_length=1, max_length=64),
    customer: int | None = Query(None, ge=1, le=MAX_RECORD_ID, description="A customer id."),
    number: str | None = Query(None, min_length=3, max_length=32, description="Who called."),
    min_seconds: float | None = Query(None, ge=0, le=86400),
    max_seconds: float | None = Query(None, ge=0, le=86400),
    disposition: str | None = Query(None, min_length=1, max_length=64),
    offset: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(25, ge=1, le=200),
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
    session: Session = Depends(read_session, scope="function"),
) -> RecordingPage:
    """Find recordings by day, agent, queue, customer, calling number, duration and
    disposition; newest first, one page at a time.

    ``number`` matches the number the event log recorded for the caller (however it is
    spaced or prefixed), and every number of the customers who own it. Searching is not
    audited (it plays nothing); playing and downloading are. A team lead finds only their
    own teams' agents' recordings.
    """
    problems = []
    if since and until and since > until:
        problems.append(Problem(f"must not be after until ({until})", field="query.since"))
    if min_seconds is not None and max_seconds is not None and min_seconds > max_seconds:
        problems.append(
            Problem(f"must not exceed max_seconds ({max_seconds})", field="query.min_seconds")
        )
    if problems:
        raise ValidationFailed(problems)
    query = select(Recording)
    scope = scope_of(request, user)
    if not scope.everyone:
        # A team lead finds only their own teams' agents' calls (as the contact's list shows).
        query = query.where(Recording.agent_id.in_(sorted(scope.agents)))
    if since or until:
        low, high = _day_bounds(request, since, until)
        query = query.where(Recording.recorded_at >= low, Recording.recorded_at < high)
    if agent:
        query = query.where(Recording.agent_id == agent)
    if queue:
        query = query.where(Recording.queue == queue)
    if min_seconds is not None:
        query = query.where(Recording.seconds >= min_seconds)
    if max_seconds is not None:
        query = query.where(Recording.seconds <= max_seconds)
    if customer is not None:
        # A merged customer's contacts moved to the survivor: search the survivor's.
        with suppress(NotFound):
            customer = crm.get_customer(session, customer_id=customer).id
        query = query.where(
            Recording.contact_id.in_(
                select(CustomerContact.contact_id).where(CustomerContact.customer_id == customer)
            )
        )
    if number:
        wanted = number.strip()
        owners = crm.customers_with_number(session, number=wanted)
        query = query.where(
            or_(
                Recording.contact_id.in_(_contacts_with("arrived", "caller", _spellings(wanted))),
                Recording.contact_id.in_(
                    select(CustomerContact.contact_id).where(
                        CustomerContact.customer_id.in_(owners)
                    )
                ),
            )
        )
    if disposition:
        query = query.where(
            Recording.contact_id.in_(_contacts_with("wrap_up_ended", "disposition", [disposition]))
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        session.scalars(
            query.order_by(Recording.recorded_at.desc(), Recording.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )
    contact_ids = [r.contact_id for r in rows]
    callers = _event_values(session, contact_ids, "arrived", "caller")
    dispositions = _event_values(session, contact_ids, "wrap_up_ended", "disposition")
    may_download = user.has(*DOWNLOADERS)
    listed = [
        {
            **_summary(r),
            "caller": callers.get(r.contact_id),
            "disposition": dispositions.get(r.contact_id),
            "download": f"/api/recordings/{r.id}/download" if may_download else None,
        }
        for r in rows
    ]
    shown: list[dict[str, Any]] = mask_personal(listed, hidden_fields(user.roles))
    return RecordingPage(
        total=total,
        offset=offset,
        limit=limit,
        items=[FoundRecording.model_validate(item) for item in shown],
    )


@router.get(
    "/recordings/{recording_id}/download",
    response_class=FileResponse,
    responses={
        **errors(404, 422),
        200: {
            "description": "The recording as a WAV file to keep (caller left, agent right).",
            "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
def download_recording(
    recording_id: RecordId,
    user: CurrentUser = Depends(require_roles(*DOWNLOADERS)),
    session: Session = Depends(writer_session, scope="function"),
) -> FileResponse:
    """Download one recording as a file, for the roles allowed to take calls off the system;
    the download is audited (``recording.download``) before the first byte leaves."""
    recording = session.get(Recording, recording_id)
    if recording is None:
        raise NotFound(f"recording {recording_id} does not exist")
    path = Path(recording.path)
    if not path.is_file():
        raise NotFound(f"the audio of recording {recording_id} is no longer on disk")
    audit.record(
        session,
        actor=user.username,
        action="recording.download",
        target=recording.contact_id,
        detail={"recording_id": recording.id, "agent_id": recording.agent_id},
    )
    return FileResponse(
        path,
        media_type=recording.media_type,
        filename=f"{recording.contact_id}.wav",
        content_disposition_type="attachment",
    )
