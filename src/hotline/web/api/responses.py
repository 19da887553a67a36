"""What every API answer has in common: the response-model base, the error bodies, and the
field types that keep each answer's JSON exactly as the handlers write it.

Each route module declares its response models at its top, on :class:`ResponseModel`, so
``/docs`` shows every answer and the schema-driven fuzzer
(``tests/integration/web/test_schema_fuzz.py``) holds the server to it. ``extra="forbid"``
makes a field a handler returns but its model lacks a loud failure in the tests instead of a
field FastAPI silently drops.

Refusals have one shape (``hotline.web.app``'s exception handlers): ``{"error": "not_found",
"message": "ticket 7 does not exist"}``, or for a request that breaks rules ``{"error":
"invalid_request", "problems": [{"field": "body.name", "problem": "..."}]}``.
:func:`errors` documents them on a route. Example::

    @router.get("/{ticket_id}", responses=errors(404))
    def get_ticket(...) -> TicketOut: ...
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class ResponseModel(BaseModel):
    """The base of every API answer: exactly the fields the handler returns, read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorOut(BaseModel):
    """A refusal: ``error`` names its kind (``unauthorized``, ``forbidden``, ``not_found``,
    ``conflict``, ``busy``…), ``message`` says why in plain language."""

    error: str
    message: str


class ProblemOut(BaseModel):
    """One problem with a request: the field (and, in an uploaded file, the line) and the rule
    it breaks."""

    field: str | None
    problem: str
    line: int | None = None


class InvalidRequestOut(BaseModel):
    """A request that breaks a rule (422): ``error`` is ``invalid_request``, with either the
    located ``problems`` or a ``message``."""

    error: str
    problems: list[ProblemOut] | None = None
    message: str | None = None


#: What each refusal means, for ``/docs``.
_MEANINGS = {
    401: "Not signed in, or the session has ended.",
    403: "The caller's roles do not allow this.",
    404: "No such record (or one the caller may not see).",
    409: "Refused in the record's current state; the message says why.",
    422: "The request breaks a rule; each problem names its field.",
    503: "The server cannot do this now (a capability is missing, or the database is busy).",
}


def errors(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that may answer these refusals, besides the 401 and 403
    every route has.

    >>> sorted(errors(404))
    [401, 403, 404]
    >>> errors(422)[422]["model"].__name__
    'InvalidRequestOut'
    """
    documented: dict[int | str, dict[str, Any]] = {}
    for code in sorted({401, 403, *status_codes}):
        model = InvalidRequestOut if code == 422 else ErrorOut
        documented[code] = {"model": model, "description": _MEANINGS[code]}
    return documented


def file_download(description: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that answers with a file to keep (any type), besides
    404 and 422 for a missing or malformed id.

    >>> list(file_download("The file.")[200]["content"])
    ['application/octet-stream']
    """
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        **errors(404, 422),
        200: {"description": description, "content": {"application/octet-stream": binary}},
    }


#: A figure that may be whole or not, kept as the handler computed it (``3`` stays ``3``, a
#: ``float`` field would make it ``3.0``). Moments are plain ``datetime`` fields: Pydantic
#: writes them as the untyped answers were written (``2026-11-02T08:00:00Z``).
Number = int | float
#: A moment already written as ISO 8601 text by the domain service.
IsoText = Annotated[str, Field(description="ISO 8601 date and time.")]
