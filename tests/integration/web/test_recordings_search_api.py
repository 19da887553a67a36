"""Searching recordings through the API: server-side filters and paging, the download
reserved to the roles that may take calls away, and every download audited."""

from __future__ import annotations

import wave
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Event, EventKind
from hotline.crm import service as crm
from hotline.identity.roles import RECORDING_DOWNLOAD_ROLES, RECORDING_ROLES
from hotline.store.event_log import append
from hotline.store.models.core import AuditEntry
from hotline.store.models.telephony import Recording

TokenFor = Callable[[str], str]


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


#: contact, agent, queue, seconds, ended (UTC), caller, disposition. The sample center keeps
#: Asia/Shanghai time: v-late ended 20:00 UTC on 1 March, which is 04:00 on 2 March there.
CALLS = [
    ("v-early", "a001", "repair", 30.0, "2026-02-28T03:00:00", "13800000001", "resolved"),
    ("v-late", "a002", "repair", 95.0, "2026-03-01T20:00:00", "13900000002", "follow_up"),
    ("v-noon", "a001", "installation", 240.0, "2026-03-02T04:00:00", "13800000001", None),
]


@pytest.fixture
def seeded(session_factory: sessionmaker[Session], tmp_path: Path) -> dict[str, int]:
    """Three recorded calls with their event log, one linked to a customer; their ids."""
    ids: dict[str, int] = {}
    with session_factory() as session:
        events: list[Event] = []
        for seq, (contact, agent, queue, seconds, ended, caller, disposition) in enumerate(CALLS):
            end = _epoch(ended)
            path = tmp_path / f"{contact}.wav"
            with wave.open(str(path), "wb") as out:
                out.setnchannels(2)
                out.setsampwidth(2)
                out.setframerate(8000)
                out.writeframes(b"\0\0\0\0" * 800)
            events.append(
                Event(
                    seq * 3 + 1,
                    end - seconds - 5,
                    EventKind.ARRIVED,
                    contact,
                    data={"caller": caller},
                )
            )
            events.append(
                Event(seq * 3 + 2, end - seconds, EventKind.ANSWERED, contact, agent_id=agent)
            )
            if disposition:
                events.append(
                    Event(
                        seq * 3 + 3,
                        end + 5,
                        EventKind.WRAP_UP_ENDED,
                        contact,
                        agent_id=agent,
                        data={"wrap_s": 5.0, "disposition": disposition},
                    )
                )
            row = Recording(
                contact_id=contact,
                agent_id=agent,
                queue=queue,
                path=str(path),
                seconds=seconds,
                channels=["caller", "agent"],
                recorded_at=end,
            )
            session.add(row)
            session.flush()
            ids[contact] = row.id
        append(session, events)
        # v-late's caller is a customer whose other phone is on file: the customer's number
        # finds the call, and so does the customer id.
        customer = crm.create_customer(session, name="李娜", phones=["13900000002", "13711112222"])
        session.flush()
        crm.record_contact(session, customer_id=customer.id, channel="voice", contact_id="v-late")
        ids["customer"] = customer.id
        session.commit()
    return ids


def _search(client: TestClient, token: str, **params: str | int) -> dict[str, Any]:
    response = client.get(
        "/api/recordings", params=params, headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _contacts(found: dict[str, Any]) -> list[str]:
    items = found["items"]
    return [item["contact_id"] for item in items]


def test_each_filter_narrows_the_search_on_the_server(
    app_client: TestClient, token_for: TokenFor, seeded: dict[str, int]
) -> None:
    token = token_for("supervisor")
    everything = _search(app_client, token)
    assert (everything["total"], _contacts(everything)) == (3, ["v-noon", "v-late", "v-early"])
    # days in the center's time zone: v-late belongs to 2 March in Shanghai
    assert _contacts(_search(app_client, token, since="2026-03-02")) == ["v-noon", "v-late"]
    assert _contacts(_search(app_client, token, until="2026-03-01")) == ["v-early"]
    assert _contacts(_search(app_client, token, agent="a001")) == ["v-noon", "v-early"]
    assert _contacts(_search(app_client, token, queue="installation")) == ["v-noon"]
    assert _contacts(_search(app_client, token, min_seconds=60, max_seconds=100)) == ["v-late"]
    assert _contacts(_search(app_client, token, disposition="resolved")) == ["v-early"]
    assert _contacts(_search(app_client, token, number="13800000001")) == ["v-noon", "v-early"]
    # typed as people write it: spaced, or with the country code
    assert _contacts(_search(app_client, token, number="138 0000 0001")) == ["v-noon", "v-early"]
    assert _contacts(_search(app_client, token, number="+86 139 0000 0002")) == ["v-late"]
    # the customer's other phone finds the call they made from the first one
    assert _contacts(_search(app_client, token, number="13711112222")) == ["v-late"]
    assert _contacts(_search(app_client, token, customer=seeded["customer"])) == ["v-late"]
    assert _search(app_client, token, customer=999999)["total"] == 0


def test_a_merged_customer_id_finds_the_survivors_calls(
    app_client: TestClient,
    token_for: TokenFor,
    seeded: dict[str, int],
    session_factory: sessionmaker[Session],
) -> None:
    from hotline.desk import customers as desk

    with session_factory() as session:
        survivor = crm.create_customer(session, name="李娜", phones=["13711112223"])
        session.flush()
        desk.merge_customers(
            session, survivor_id=survivor.id, merged_id=seeded["customer"], actor="supervisor"
        )
        session.commit()
        survivor_id = survivor.id
    token = token_for("supervisor")
    assert _contacts(_search(app_client, token, customer=seeded["customer"])) == ["v-late"]
    assert _contacts(_search(app_client, token, customer=survivor_id)) == ["v-late"]
    assert (
        _search(app_client, token, agent="a001", queue="repair", since="2026-03-01")["total"] == 0
    )
    [late] = _search(app_client, token, agent="a002")["items"]
    assert (late["caller"], late["disposition"]) == ("13900000002", "follow_up")


def test_paging_keeps_the_total_and_walks_newest_first(
    app_client: TestClient, token_for: TokenFor, seeded: dict[str, int]
) -> None:
    token = token_for("qa")
    first = _search(app_client, token, limit=2)
    second = _search(app_client, token, limit=2, offset=2)
    assert (first["total"], second["total"]) == (3, 3)
    assert _contacts(first) + _contacts(second) == ["v-noon", "v-late", "v-early"]


def test_bad_filters_are_422_naming_the_field(app_client: TestClient, token_for: TokenFor) -> None:
    headers = {"authorization": f"Bearer {token_for('manager')}"}
    bad: list[tuple[dict[str, str | int], str]] = [
        ({"since": "2026-03-05", "until": "2026-03-01"}, "query.since"),
        ({"min_seconds": 90, "max_seconds": 10}, "query.min_seconds"),
        ({"since": "yesterday"}, "since"),
        ({"limit": 0}, "limit"),
    ]
    for params, field in bad:
        response = app_client.get("/api/recordings", params=params, headers=headers)
        assert response.status_code == 422, response.text
        assert field in response.text, params


def test_only_download_roles_get_the_link_and_the_file_and_downloads_are_audited(
    app_client: TestClient, token_for: TokenFor, seeded: dict[str, int], db_session: Session
) -> None:
    assert RECORDING_DOWNLOAD_ROLES < RECORDING_ROLES
    for role in sorted(RECORDING_ROLES):
        token = token_for(role)
        [item] = _search(app_client, token, agent="a002")["items"]
        headers = {"authorization": f"Bearer {token}"}
        url = f"/api/recordings/{seeded['v-late']}/download"
        response = app_client.get(url, headers=headers)
        if role in RECORDING_DOWNLOAD_ROLES:
            assert item["download"] == url
            assert response.status_code == 200
            assert response.content.startswith(b"RIFF")
            assert response.headers["content-disposition"].startswith("attachment")
        else:
            assert item["download"] is None
            assert response.status_code == 403, role
    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "recording.download")
    ).all()
    assert sorted(e.actor for e in entries) == sorted(RECORDING_DOWNLOAD_ROLES)
    assert {e.target for e in entries} == {"v-late"}
    missing = app_client.get(
        "/api/recordings/99999/download",
        headers={"authorization": f"Bearer {token_for('manager')}"},
    )
    assert missing.status_code == 404


def test_a_team_lead_finds_only_their_teams_recordings(
    app_client: TestClient,
    token_for: TokenFor,
    seeded: dict[str, int],
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    """The team lead leads t-install (a001, a002); a011 is of t-repair: a search never lists
    another team's call, as the contact's own list and playback refuse it."""
    with session_factory() as session:
        session.add(
            Recording(
                contact_id="v-repair-team",
                agent_id="a011",
                queue="repair",
                path=str(tmp_path / "v-early.wav"),
                seconds=60.0,
                channels=["caller", "agent"],
                recorded_at=_epoch("2026-03-02T05:00:00"),
            )
        )
        session.commit()
    everyone = _search(app_client, token_for("qa"))
    assert "v-repair-team" in _contacts(everyone)
    led = _search(app_client, token_for("team_lead"))
    assert sorted(_contacts(led)) == ["v-early", "v-late", "v-noon"]
    assert led["total"] == 3
    assert _contacts(_search(app_client, token_for("team_lead"), agent="a011")) == []
