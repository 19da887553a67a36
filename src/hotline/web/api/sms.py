"""The SMS channel for the floor: the gateway's state, the message log, one message sent.

    GET  /api/sms/overview          -> the line's state (bound / retrying / off), its last
                                       error, messages in and out today (center time zone)
    GET  /api/sms/messages?number=  -> the log in and out, newest first, searched by number
    POST /api/sms/messages          -> text one customer through ``send_sms`` (audited)

Supervisors and administrators only. Numbers and texts are masked for a role the personal-data
policy does not let see them (:func:`hotline.web.access.mask_personal`). A message goes out
through the server's bound SMPP session (``app.state.sms``, :mod:`hotline.web.sms_bridge`),
so the do-not-call list and quiet hours apply as to every SMS; a refusal or a gateway that is
down comes back as the record's status with the reason (201: the message is kept either way).
Without an SMS line in this server the send is refused with 503.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hotline.channels.sms import service as sms
from hotline.crm.phones import PhoneKind, try_normalize
from hotline.identity.audit import record as audit
from hotline.identity.roles import hidden_fields
from hotline.web.access import current_center, mask_personal
from hotline.web.api.responses import ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, read_session, require_roles

router = APIRouter(tags=["sms"])
FLOOR = require_roles("supervisor")


class SmsOverviewOut(ResponseModel):
    """The SMS line now: its state and last error, and today's traffic."""

    state: Literal["bound", "retrying", "off"]
    last_error: str
    received_today: int
    sent_today: int


class SmsLogEntryOut(ResponseModel):
    """One message in the log (``in``: a customer's; ``out``: the center's)."""

    direction: Literal["in", "out"]
    number: str
    text: str
    status: str
    reason: str
    purpose: str
    at: datetime


class SmsSendIn(BaseModel):
    """One message to a customer's mobile number."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(min_length=3, max_length=32, description="the customer's mobile number")
    text: str = Field(min_length=1, max_length=1000)


class SmsSentOut(ResponseModel):
    """What became of the message: ``sent``, ``refused`` or ``failed`` with the reason."""

    id: int
    to: str
    status: str
    reason: str
    parts: int


def _line(request: Request) -> Any:
    return getattr(request.app.state, "sms", None)


@router.get("/api/sms/overview", responses=errors())
def overview(
    request: Request,
    user: CurrentUser = Depends(FLOOR),
    session: Session = Depends(read_session, scope="function"),
) -> SmsOverviewOut:
    """The gateway's state from the server's SMS line, and the messages in and out today."""
    line = _line(request)
    center = current_center(request)
    zone = ZoneInfo(center.center.timezone if center is not None else "UTC")
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    received, sent = sms.counts_since(session, since=midnight.astimezone(UTC))
    return SmsOverviewOut(
        state=line.state() if line is not None else "off",
        last_error=line.last_error() if line is not None else "this server runs no SMS line",
        received_today=received,
        sent_today=sent,
    )


@router.get("/api/sms/messages", responses=errors(422))
def message_log(
    number: str | None = Query(None, max_length=32, description="digits the number contains"),
    limit: int = Query(100, ge=1, le=500),
    user: CurrentUser = Depends(FLOOR),
    session: Session = Depends(read_session, scope="function"),
) -> list[SmsLogEntryOut]:
    """The latest messages in and out, newest first, optionally those of one number."""
    hidden = hidden_fields(user.roles)
    entries = []
    for entry in sms.message_log(session, number=number, limit=limit):
        # The text is the customer's words (or words to them): content, as a note is.
        masked = mask_personal({"number": entry.number, "note": entry.text}, hidden)
        shown = {"number": masked["number"], "text": masked["note"]}
        entries.append(SmsLogEntryOut.model_validate(asdict(entry) | shown))
    return entries


@router.post("/api/sms/messages", status_code=201, responses=errors(422, 503))
def send_message(
    body: SmsSendIn,
    request: Request,
    user: CurrentUser = Depends(FLOOR),
    session: Session = Depends(db_session, scope="function"),
) -> SmsSentOut:
    """Text one customer now (do-not-call list and quiet hours apply: the line's, as for the
    desk's replies); the record's status."""
    number = try_normalize(body.to)
    if number is None or number.kind not in (PhoneKind.MOBILE, PhoneKind.INTERNATIONAL):
        raise HTTPException(422, f"to: {body.to!r} is not a mobile number")
    line = _line(request)
    gateway = getattr(line, "gateway", None)
    if gateway is None:
        raise HTTPException(503, "no SMS gateway is running in this server ('hotline sms gateway')")
    try:
        outcome = sms.send_sms(
            session=session, gateway=gateway, to=number.e164, text=body.text, purpose="notice",
            actor=user.username, now=datetime.now(UTC),
            quiet_hours=getattr(getattr(line, "bridge", None), "quiet_hours", None),
        )  # fmt: skip
    except ValueError as problem:
        raise HTTPException(422, str(problem)) from None
    audit(
        session, actor=user.username, action="sms.send", target=f"sms:{outcome.id}",
        detail={"status": outcome.status, "parts": outcome.parts},
    )  # fmt: skip
    shown = mask_personal({"number": number.e164}, hidden_fields(user.roles))["number"]
    return SmsSentOut(
        id=outcome.id, to=shown, status=outcome.status, reason=outcome.reason, parts=outcome.parts
    )
