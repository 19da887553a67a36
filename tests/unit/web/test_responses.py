"""The response base and field types keep an answer's JSON as the untyped handlers wrote it.

Before the response models a handler annotated ``-> dict[str, Any]`` was encoded by Pydantic
as ``dict[str, Any]``: a ``datetime`` became ``…Z`` text, a whole number stayed whole. A
model must give the same bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from hotline.web.api.responses import IsoText, Number, ResponseModel, errors


class _Answer(ResponseModel):
    at: datetime
    written: IsoText
    figure: Number
    rate: Number | None


ANSWERS = [
    {
        "at": datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        "written": datetime(2026, 11, 2, 8, 0, tzinfo=UTC).isoformat(),
        "figure": 3,
        "rate": None,
    },
    {
        "at": datetime(2026, 11, 2, 8, 0, 1, 250, tzinfo=timezone(timedelta(hours=8))),
        "written": "2026-11-02T08:00:00",
        "figure": 3.0,
        "rate": 0.5,
    },
    {"at": datetime(2026, 11, 2, 8, 0), "written": "", "figure": 0.1, "rate": 7},
]


@pytest.mark.parametrize("plain", ANSWERS)
def test_a_route_answers_the_same_bytes_through_its_model(plain: dict[str, Any]) -> None:
    app = FastAPI()

    @app.get("/typed", responses=errors(404))
    def typed() -> _Answer:
        return _Answer.model_validate(plain)

    @app.get("/untyped")
    def untyped() -> dict[str, Any]:
        return plain

    with TestClient(app) as client:
        assert client.get("/typed").content == client.get("/untyped").content


def test_a_whole_figure_is_not_made_a_fraction() -> None:
    """A ``float`` field would turn 3 into 3.0: :data:`Number` keeps what it is given."""
    answer = _Answer(at=datetime(2026, 1, 1, tzinfo=UTC), written="", figure=3, rate=0.5)
    assert answer.model_dump_json().endswith('"figure":3,"rate":0.5}')


def test_a_field_the_model_lacks_is_an_error_not_dropped() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        _Answer.model_validate(ANSWERS[0] | {"new": 1})


def test_errors_documents_the_refusals_every_route_has() -> None:
    assert sorted(errors(404, 409)) == [401, 403, 404, 409]
    assert errors(422)[422]["model"].__name__ == "InvalidRequestOut"
