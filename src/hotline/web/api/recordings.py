"""Call recordings API: list a contact's recordings and play one back, for permitted roles only.

Only the roles in :data:`hotline.identity.roles.RECORDING_ROLES` (admin, manager,
supervisor, QA) may list or hear recordings; every playback is written to the audit log
(``recording.play``) before the audio is streamed, so who listened to which call is on
record even when the download is cut short.

Example::

    GET /api/contacts/v-3f2a9c/recordings       -> [{"id": 7, "seconds": 41.2, ...}]
    GET /api/recordings/7/audio                 -> audio/wav (stereo: caller left, agent right)
    GET /api/voicemails                         -> the messages callers left, newest first
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core.errors import NotFound
from hotline.identity import audit
from hotline.identity.roles import RECORDING_ROLES, hidden_fields
from hotline.store.models.core import ContactEventRow
from hotline.store.models.telephony import Recording
from hotline.web.access import mask_personal
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.fields import RecordId

router = APIRouter(prefix="/api", tags=["recordings"])

LISTENERS = tuple(sorted(RECORDING_ROLES))


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
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[RecordingOut]:
    """The recordings of one contact, oldest first (an empty list when it has none)."""
    query = (
        select(Recording)
        .where(Recording.contact_id == contact_id)
        .order_by(Recording.recorded_at, Recording.id)
    )
    return [RecordingOut.model_validate(_summary(r)) for r in session.scalars(query)]


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
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
    session: Session = Depends(db_session, scope="function"),
) -> FileResponse:
    """Stream one recording's WAV; the playback is audited.

    The session is function-scoped: it commits the audit entry when this function returns,
    before the first byte of audio leaves.
    """
    recording = session.get(Recording, recording_id)
    if recording is None:
        raise NotFound(f"recording {recording_id} does not exist")
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
    limit: int = Query(50, ge=1, le=500),
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[VoicemailOut]:
    """The voicemail messages callers left (queue exit ``voicemail``), newest first, each with
    the number that called, so someone can call back."""
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
