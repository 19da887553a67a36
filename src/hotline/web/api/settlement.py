"""Provider settlement API: monthly statements, approving or rejecting claims, Excel export.

A provider's warranty claim (labour, parts, travel) is approved only after the order's
follow-up verified the work and flagged nothing; a rejection carries its reason. The
statement of a month lists every claim submitted in it (approved, rejected with the
reason, pending); ``…/statement.xlsx`` is the same for finance, one provider at a time.
The settlement clerk and managers decide; no customer identity is shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.followup import service as followup
from hotline.followup.export import statement_workbook
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.fields import RecordId
from hotline.web.limits import NOTE_LENGTH

router = APIRouter(prefix="/api/settlement", tags=["settlement"])

SETTLEMENT_ROLES = ("settlement", "manager")
MONTH = Query(..., pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="The month, YYYY-MM.")
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
PROVIDER_CODE = Query(None, pattern=CODE_PATTERN, description="One provider's code.")
ProviderCode = Annotated[str, Path(pattern=CODE_PATTERN, description="A provider's code.")]


class ClaimLineOut(ResponseModel):
    """One claim on a statement."""

    ticket_id: int
    number: str
    provider: str
    submitted_at: datetime
    product_model: str
    parts: list[str]
    labour_yuan: Number
    parts_yuan: Number
    travel_yuan: Number
    amount_yuan: Number
    verified: bool
    flags: list[str]
    status: str
    reason: str
    decided_at: datetime | None


class ProviderTotalsOut(ResponseModel):
    """A provider's month: claims and yuan per status."""

    provider: str
    approved: int
    approved_yuan: Number
    rejected: int
    rejected_yuan: Number
    pending: int
    pending_yuan: Number


class StatementOut(ResponseModel):
    """The month's claims and each provider's totals."""

    month: str
    claims: list[ClaimLineOut]
    providers: list[ProviderTotalsOut]


class DecisionIn(BaseModel):
    """Approve a claim, or reject it with the reason."""

    approve: bool
    reason: str = Field("", max_length=NOTE_LENGTH)


class DecisionOut(ResponseModel):
    """The decision taken."""

    ticket_id: int
    decision: str
    reason: str
    amount_yuan: Number
    actor: str
    at: datetime


def _totals(lines: list[followup.StatementLine]) -> list[ProviderTotalsOut]:
    found: dict[str, dict[str, float]] = {}
    for line in lines:
        row = found.setdefault(line.provider, {})
        row[line.status] = row.get(line.status, 0) + 1
        row[f"{line.status}_yuan"] = row.get(f"{line.status}_yuan", 0.0) + line.amount_yuan
    return [
        ProviderTotalsOut(
            provider=code,
            approved=int(row.get("approved", 0)),
            approved_yuan=round(row.get("approved_yuan", 0.0), 2),
            rejected=int(row.get("rejected", 0)),
            rejected_yuan=round(row.get("rejected_yuan", 0.0), 2),
            pending=int(row.get("pending", 0)),
            pending_yuan=round(row.get("pending_yuan", 0.0), 2),
        )
        for code, row in sorted(found.items())
    ]


@router.get("/statements", responses=errors(422))
def statements(
    month: str = MONTH,
    provider: str | None = PROVIDER_CODE,
    _: CurrentUser = Depends(require_roles(*SETTLEMENT_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> StatementOut:
    """The claims submitted in ``month`` (one provider's, or all) and the totals."""
    lines = followup.statement(session, month=month, provider=provider)
    return StatementOut(
        month=month,
        claims=[
            ClaimLineOut(**{**line.__dict__, "parts": list(line.parts), "flags": list(line.flags)})
            for line in lines
        ],
        providers=_totals(lines),
    )


@router.get(
    "/statements/{provider}/statement.xlsx",
    response_class=Response,
    responses={
        **errors(422),
        200: {
            "description": "The provider's statement of the month as an Excel workbook.",
            "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                }
            },
        },
    },
)
def statement_excel(
    provider: ProviderCode,
    month: str = MONTH,
    user: CurrentUser = Depends(require_roles(*SETTLEMENT_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> Response:
    """One provider's statement of ``month`` for finance (.xlsx)."""
    lines = followup.statement(session, month=month, provider=provider)
    return Response(
        statement_workbook(lines, provider=provider, month=month),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "content-disposition": f'attachment; filename="settlement-{provider}-{month}.xlsx"'
        },
    )


@router.post("/claims/{ticket_id}/decision", status_code=201, responses=errors(404, 409, 422))
def decide(
    ticket_id: RecordId,
    body: DecisionIn,
    user: CurrentUser = Depends(require_roles(*SETTLEMENT_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> DecisionOut:
    """Approve a claim (only a verified, unflagged order) or reject it with the reason."""
    decision = followup.decide_claim(
        session, ticket_id=ticket_id, approve=body.approve, reason=body.reason, actor=user.username
    )
    return DecisionOut(
        ticket_id=decision.ticket_id,
        decision=decision.decision,
        reason=decision.reason,
        amount_yuan=decision.amount_yuan,
        actor=decision.actor,
        at=decision.at,
    )
