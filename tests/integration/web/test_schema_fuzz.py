"""Schema-driven fuzzing: every operation of the OpenAPI schema, signed in with every role.

Schemathesis generates requests from the app's own schema (valid ones and, through the
schema's constraints, their edges: huge integers, odd time zones, unknown names) and sends
them through the test client. No request may make the server fail (5xx), and a response whose
status the schema documents with a model must match it. The run is bounded and derandomized
(the same examples every time), so ``make test`` stays fast and never flaky.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy.orm import Session, sessionmaker

from hotline.identity.roles import ALL_ROLES
from tests.integration.live.conftest import PASSWORD, live_client

#: Examples per operation: about 80 operations, so a few hundred requests in all.
EXAMPLES = 6
#: Streams never end by themselves; they have their own tests.
EXCLUDED = re.compile(r"^/api/events/stream$")


@pytest.fixture
def fuzz_client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[tuple[TestClient, str]]:
    """The sample center with live routing, and the token of a user holding every role (so
    every route is reached past its role check)."""
    users = (("fuzz", list(ALL_ROLES), "a001"),)
    with live_client(
        session_factory=session_factory, db_session=db_session, home=tmp_path, users=users
    ) as client:
        response = client.post("/api/auth/login", json={"username": "fuzz", "password": PASSWORD})
        assert response.status_code == 200, response.text
        yield client, response.json()["token"]


def _send(client: TestClient, kwargs: dict[str, Any]) -> Any:
    """Send schemathesis' requests-style arguments through the (httpx) test client."""
    kwargs = dict(kwargs)
    data = kwargs.pop("data", None)
    content = None
    if isinstance(data, bytes | str):
        content, data = data, None
    files = kwargs.pop("files", None)
    if files:
        # requests sends a non-string part as its text; httpx wants str or bytes.
        files = [
            (name, (filename, value if isinstance(value, bytes | str) else str(value), *rest))
            for name, (filename, value, *rest) in files
        ]
    cookies = kwargs.pop("cookies", None) or {}
    headers = dict(kwargs.pop("headers", None) or {})
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    response = client.request(
        kwargs.pop("method"),
        kwargs.pop("url"),
        params=kwargs.pop("params", None),
        headers=headers,
        json=kwargs.pop("json", None),
        data=data,
        files=files,
        content=content,
    )
    response.request.read()  # a multipart body streams; the schema checks read it again
    return response


def _server_failure(response: Any) -> str | None:
    """Why ``response`` is a server failure, or ``None``.

    A 503 that says which capability is missing ("this server takes no phone calls") is the
    server declining on purpose, not failing; any other 5xx is a failure.
    """
    if response.status_code < 500:
        return None
    if response.status_code == 503 and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        body = response.json()
        if isinstance(body, dict) and body.get("message"):
            return None
    return "server error"


def _operations(client: TestClient) -> Iterator[Any]:
    schema = schemathesis.openapi.from_dict(client.app.openapi())  # type: ignore[attr-defined]
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"the OpenAPI schema has an invalid operation: {result.err()}")
        operation = result.ok()
        if not EXCLUDED.match(operation.path):
            yield operation


def fuzz(app_client: TestClient, headers: dict[str, str]) -> list[str]:
    """Send each operation's examples; return the failures (5xx, or an answer that does not
    match the model its status documents)."""
    failures: list[str] = []
    for operation in _operations(app_client):

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), data=st.data())
        def run(case: Any, data: Any) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
            try:
                response = _send(app_client, kwargs)
            except Exception as error:  # the test client re-raises what would be a 500
                failures.append(
                    f"{case.method} {case.formatted_path} raised {error!r}\n    {kwargs}"[:2000]
                )
                return
            problem = _server_failure(response)
            if problem is None:
                try:
                    case.validate_response(response, checks=[response_schema_conformance])
                except BaseException as error:  # schemathesis raises a BaseExceptionGroup
                    if isinstance(error, KeyboardInterrupt | SystemExit):
                        raise
                    problem = f"does not match the schema: {error}"
            if problem is not None:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {problem}"
                    f"\n    {kwargs}\n    {response.text[:300]}"[:3000]
                )

        run()
    return failures


def test_no_request_the_schema_allows_makes_the_server_fail(
    fuzz_client: tuple[TestClient, str],
) -> None:
    app_client, token = fuzz_client
    failures = fuzz(app_client, {"Authorization": f"Bearer {token}"})
    if failures:
        pytest.fail(f"{len(failures)} failure(s):\n" + "\n".join(failures), pytrace=False)


class _Promise(BaseModel):
    """What the planted route documents."""

    count: int


def test_an_answer_that_breaks_its_documented_model_is_a_failure() -> None:
    """The conformance check can fail: a route that answers other than its documented model
    (or its documented refusal) is reported; one that keeps its word is not."""
    app = FastAPI()

    @app.get("/kept", response_model=_Promise)
    def kept() -> dict[str, Any]:
        return {"count": 1}

    @app.get("/broken", response_model=_Promise)
    def broken() -> JSONResponse:
        return JSONResponse({"count": "many"})  # a Response passes FastAPI unchecked

    @app.get("/refused", responses={404: {"model": _Promise}})
    def refused() -> JSONResponse:
        return JSONResponse({"error": "not_found"}, status_code=404)

    with TestClient(app) as client:
        failures = fuzz(client, {})
    assert [failure.split(" ->")[0] for failure in failures] == ["GET /broken", "GET /refused"]
