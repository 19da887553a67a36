"""Every JSON answer of the API has a typed schema, and every refusal a documented body.

Walks the app's OpenAPI schema, as ``/docs`` and the schema-driven fuzzer
(``tests/integration/web/test_schema_fuzz.py``) read it: a route whose success answer is JSON
must document a model (not a free-form object), and a route that answers something else
must say what (``text/event-stream``, ``audio/wav``, or nothing: 204). Every route documents
the 401 and 403 every route can answer, and every refusal it documents has a body schema.
The JSON routes kept out of the schema (the pages' own) must declare a response model too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import sessionmaker
from starlette.responses import Response

from hotline.core.settings import Settings
from hotline.web.app import create_app, iter_routes

JSON = "application/json"
METHODS = {"get", "put", "post", "patch", "delete"}
#: The schema document itself, kept out of the schema it serves.
SCHEMA_ITSELF = {"/openapi.json"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    home: Path = tmp_path_factory.mktemp("home")
    return create_app(
        settings=Settings(home=home, secret_key="test"), session_factory=sessionmaker()
    )


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def untyped(schema: dict[str, Any], components: dict[str, Any], where: str = "") -> list[str]:
    """Where in ``schema`` an answer is left free-form: ``{}``, or an object with neither
    properties nor typed values, at the top or as the items of a list.

    >>> untyped({"type": "object", "additionalProperties": True}, {})
    ['(the answer)']
    >>> untyped({"type": "array", "items": {"type": "integer"}}, {})
    []
    >>> untyped({"type": "object", "additionalProperties": {"type": "integer"}}, {})
    []
    """
    schema = _resolve(schema, components)
    here = where or "(the answer)"
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf") or []
        return [p for option in options for p in untyped(option, components, where)]
    kind = schema.get("type")
    if kind == "array":
        return untyped(schema.get("items") or {}, components, f"{where}[]")
    if kind == "object":
        values = schema.get("additionalProperties")
        if schema.get("properties") or (isinstance(values, dict) and values):
            return []
        return [here]
    if kind in ("string", "integer", "number", "boolean", "null"):
        return []
    return [here]


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation of the schema."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                found.append((method.upper(), path, operation))
    return found


def test_every_json_answer_has_a_typed_schema(app: FastAPI) -> None:
    components = app.openapi().get("components", {}).get("schemas", {})
    problems = []
    for method, path, operation in operations(app):
        successes = {c: r for c, r in operation["responses"].items() if c.startswith("2")}
        if not successes:
            problems.append(f"{method} {path}: documents no success answer")
        for code, response in successes.items():
            content = response.get("content") or {}
            if not content:
                if code != "204":
                    problems.append(f"{method} {path} {code}: documents no body")
                continue
            if JSON not in content:
                continue  # an event stream, a file: its media type says what it is
            schema = content[JSON].get("schema") or {}
            for where in untyped(schema, components):
                problems.append(f"{method} {path} {code}: {where} has no model")
    assert not problems, "\n".join(problems)


def test_every_route_documents_its_refusals_with_a_body(app: FastAPI) -> None:
    problems = []
    for method, path, operation in operations(app):
        responses = operation["responses"]
        codes = {c for c in responses if c.startswith("4") or c.startswith("5")}
        public = path in ("/health", "/ready", "/api/auth/login")
        if not public and not {"401", "403"} <= codes:
            problems.append(f"{method} {path}: does not document 401 and 403")
        for code in sorted(codes):
            schema = ((responses[code].get("content") or {}).get(JSON) or {}).get("schema")
            if not schema:
                problems.append(f"{method} {path} {code}: documents no body")
            elif "ValidationError" in str(schema):
                # FastAPI's own 422 body ({"detail": [...]}) is not what this app answers.
                problems.append(f"{method} {path} {code}: documents FastAPI's 422, not ours")
    assert not problems, "\n".join(problems)


def test_json_routes_kept_out_of_the_schema_declare_a_model(app: FastAPI) -> None:
    problems = []
    for path, route in iter_routes(app.routes):
        if not isinstance(route, APIRoute) or route.include_in_schema or path in SCHEMA_ITSELF:
            continue
        answer = get_typed_return_annotation(route.endpoint)
        other = isinstance(answer, type) and issubclass(answer, Response)
        if route.response_model is None and (not other or issubclass(answer, JSONResponse)):
            problems.append(f"{sorted(route.methods or ())} {path}: JSON without a response model")
    assert not problems, "\n".join(problems)


def test_the_walk_fails_on_an_untyped_route(tmp_path: Path) -> None:
    """The gate can fail: a route answering a plain ``dict`` is found."""
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="test"), session_factory=sessionmaker()
    )

    @app.get("/api/planted")
    def planted() -> dict[str, Any]:
        return {}

    components = app.openapi().get("components", {}).get("schemas", {})
    schema = app.openapi()["paths"]["/api/planted"]["get"]["responses"]["200"]["content"][JSON]
    assert untyped(schema["schema"], components) == ["(the answer)"]
    with pytest.raises(AssertionError, match="/api/planted 200"):
        test_every_json_answer_has_a_typed_schema(app)
    with pytest.raises(AssertionError, match="/api/planted: does not document 401"):
        test_every_route_documents_its_refusals_with_a_body(app)

    @app.post("/planted/hidden", include_in_schema=False)
    def hidden() -> JSONResponse:
        return JSONResponse({})

    with pytest.raises(AssertionError, match="/planted/hidden: JSON without a response model"):
        test_json_routes_kept_out_of_the_schema_declare_a_model(app)
