"""Hostile input over HTTP: request body limits, free-text lengths, alias bombs, CSV uploads."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from hotline.web.limits import DESCRIPTION_LENGTH, MAX_BODY_BYTES, NOTE_LENGTH
from tests.integration.web.conftest import finished_contact_import
from tests.unit.core.test_documents import billion_laughs

TokenFor = Callable[[str], str]


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_a_declared_huge_anonymous_body_is_refused_before_it_is_read(
    app_client: TestClient,
) -> None:
    # Straight at the ASGI app: the test client would read the whole body itself first.
    received: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        message = {"type": "http.request", "body": b"x" * (1 << 20), "more_body": True}
        received.append(message)
        return message

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/auth/login",
        "raw_path": b"/api/auth/login",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-length", str(50 << 20).encode()), (b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(app_client.app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    assert b"payload_too_large" in sent[1]["body"]
    assert received == []


def test_a_streamed_body_is_cut_off_at_the_limit(app_client: TestClient) -> None:
    chunks = 0

    def body() -> Iterator[bytes]:
        nonlocal chunks
        for _ in range(40):
            chunks += 1
            yield b"x" * (256 << 10)

    # No Content-Length: chunked; the limit is enforced on the bytes received.
    response = app_client.post(
        "/api/auth/login", content=body(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["message"]


def test_a_body_just_over_the_limit_on_a_signed_in_route_is_413(
    app_client: TestClient, token_for: TokenFor
) -> None:
    response = app_client.post(
        "/api/tickets",
        content=b"{" + b" " * MAX_BODY_BYTES + b"}",
        headers={**_auth(token_for("agent")), "content-type": "application/json"},
    )
    assert response.status_code == 413


def test_long_free_text_is_a_422_naming_the_field(
    app_client: TestClient, token_for: TokenFor
) -> None:
    response = app_client.post(
        "/api/tickets",
        json={"type": "inquiry", "subject": "s", "description": "d" * (DESCRIPTION_LENGTH + 1)},
        headers=_auth(token_for("agent")),
    )
    assert response.status_code == 422
    problems = {p["field"]: p["problem"] for p in response.json()["problems"]}
    assert "at most" in problems["body.description"]
    response = app_client.post(
        "/api/kb/articles",
        json={"title": "t", "body": "b", "tags": ["x" * 65]},
        headers=_auth(token_for("agent")),
    )
    assert response.status_code == 422
    response = app_client.post(
        "/api/customers/1/contacts",
        json={"channel": "voice", "summary": "s" * (NOTE_LENGTH + 1)},
        headers=_auth(token_for("agent")),
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "body.summary"


def test_the_config_validator_refuses_an_alias_bomb_quickly(
    app_client: TestClient, token_for: TokenFor
) -> None:
    started = time.monotonic()
    response = app_client.post(
        "/api/config/validate",
        json={"text": "center: {name: Demo}\n" + billion_laughs()},
        headers=_auth(token_for("supervisor")),
    )
    assert time.monotonic() - started < 5
    body = response.json()
    assert body["ok"] is False
    assert "aliases expand" in body["errors"][0]["problem"]


def test_the_import_mapping_never_reads_a_file_of_the_server(
    app_client: TestClient, token_for: TokenFor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A mapping file in the server's working directory, under a name without a slash: the
    # old route loaded it (and would have read any file there, e.g. secret.key).
    (tmp_path / "planted").write_text(
        "name: planted\nfields: {contact_id: id, arrived_at: {timestamp: t}, outcome: o}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    response = app_client.post(
        "/api/reports/contacts",
        headers=_auth(token_for("wfm")),
        files={"file": ("x.csv", b"id,t,o\nc1,2026-03-02T08:00:00,answered\n", "text/csv")},
        data={"source": "planted", "mapping": "planted"},
    )
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["field"] == "mapping" and "no shipped mapping 'planted'" in problem["problem"]


def test_a_non_utf8_upload_names_the_uploaded_file_and_line(
    app_client: TestClient, token_for: TokenFor
) -> None:
    response = app_client.post(
        "/api/reports/contacts",
        headers=_auth(token_for("wfm")),
        files={
            "file": ("march.csv", b"contact_id,arrived_at,outcome\nc1,\xff\xfe\xff,x\n", "text/csv")
        },
        data={"source": "enc"},
    )
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["line"] == 2 and "not UTF-8" in problem["problem"]


def test_report_exports_never_turn_imported_names_into_formulas(
    app_client: TestClient, token_for: TokenFor
) -> None:
    hostile = '=HYPERLINK("http://evil.example","open me")'
    csv_text = (
        "contact_id,queue,arrived_at,queued_at,answered_at,agent,talk_s,outcome\n"
        f'c1,"{hostile.replace(chr(34), chr(34) * 2)}",2026-03-02T08:00:00,'
        "2026-03-02T08:00:00,2026-03-02T08:00:04,@SUM(A1),100,answered\n"
    )
    response = app_client.post(
        "/api/reports/contacts",
        headers=_auth(token_for("wfm")),
        files={"file": ("march.csv", csv_text.encode(), "text/csv")},
        data={"source": "hostile"},
    )
    job = finished_contact_import(app_client, response, _auth(token_for("wfm")))
    assert job["state"] == "done", job
    headers = _auth(token_for("supervisor"))
    query = "from=2026-03-02&to=2026-03-02&interval=day"

    text = app_client.get(f"/reports/export?format=csv&by=queue&{query}", headers=headers).text
    assert "'=HYPERLINK" in text and ',"=HYPERLINK' not in text and ",=HYPERLINK" not in text
    text = app_client.get(f"/reports/export?format=csv&by=agent&{query}", headers=headers).text
    assert ",'@SUM(A1)," in text

    response = app_client.get(f"/reports/export?format=xlsx&by=queue&{query}", headers=headers)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["figures"]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == hostile]
    assert cells and all(cell.data_type == "s" for cell in cells)
    assert not [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


@pytest.mark.parametrize("depth", [900, 100_000])
def test_a_deeply_nested_json_body_is_a_422_not_a_crash(
    app_client: TestClient, token_for: TokenFor, depth: int
) -> None:
    # 900 levels parsed and then exhausted the recursion limit further on: a 500 before.
    nested = "[" * depth + "]" * depth
    response = app_client.post(
        "/api/tickets",
        content='{"type": "inquiry", "subject": "s", "custom_fields": {"x": ' + nested + "}}",
        headers={**_auth(token_for("agent")), "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert "nested deeper than 64" in response.json()["problems"][0]["problem"]


def test_a_chinese_excel_export_is_imported_and_says_its_encoding(
    app_client: TestClient, token_for: TokenFor
) -> None:
    text = (
        "contact_id,queue,arrived_at,answered_at,agent,outcome,备注\n"
        "c1,repair,2026-03-02T08:00:00,2026-03-02T08:00:09,a001,answered,回访客户\n"
    )
    response = app_client.post(
        "/api/reports/contacts",
        headers=_auth(token_for("wfm")),
        files={"file": ("导出.csv", text.encode("gbk"), "text/csv")},
        data={"source": "gbk"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["result"]["encoding"] == "gb18030"
    job = finished_contact_import(app_client, response, _auth(token_for("wfm")))
    assert (job["state"], job["result"]["stored"]) == ("done", 1)
