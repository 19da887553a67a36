"""The desk's busiest requests cost the database few statements (each one a round trip).

Under 50 desks on PostgreSQL (``bench/http_load.py --postgres``) every statement is a wait on
the network and on the database process getting a core. An agent's ticket list asked once for
their queues' tickets and once more per name they may be assigned under; a new ticket looked
up the verification callbacks it cannot have yet. The budgets below are what one request
needs: the sign-in check, then the route's own work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

Auth = Callable[[str], dict[str, str]]
# What the test's rolled-back transaction adds around each request (not the route's work).
TEST_FRAME = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN")


@contextmanager
def statements(db_session: Session) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs, the test's savepoints left out."""
    sent: list[str] = []
    engine = db_session.get_bind().engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(TEST_FRAME):
            sent.append(" ".join(statement.split())[:120])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _ticket(client: TestClient, auth: Auth, **fields: str) -> int:
    body = {"type": "repair", "subject": "不加热", **fields}
    answer = client.post("/api/tickets", json=body, headers=auth("team_lead"))
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def test_an_agents_ticket_list_is_one_query_with_their_queues_and_their_own(
    desk_client: TestClient, auth: Auth, db_session: Session
) -> None:
    repair = _ticket(desk_client, auth, queue="repair")
    theirs = _ticket(desk_client, auth, type="complaint", queue="complaints")
    others = _ticket(desk_client, auth, type="complaint", queue="complaints")
    assign = {"action": "assign", "target": "a001"}  # the agent's agent id
    answer = desk_client.post(
        f"/api/tickets/{theirs}/actions", json=assign, headers=auth("team_lead")
    )
    assert answer.status_code == 200, answer.text
    agent = auth("agent")

    def listed(**params: Any) -> set[int]:
        answer = desk_client.get("/api/tickets", params=params, headers=agent)
        assert answer.status_code == 200, answer.text
        return {t["id"] for t in answer.json()} & {repair, theirs, others}

    with statements(db_session) as sent:
        assert listed() == {repair, theirs}
    assert len(sent) == 2, sent  # who is signed in; the list
    # A queue filter narrows their own tickets too.
    assert listed(queue="complaints") == {theirs}
    assert listed(queue="repair") == {repair}
    assert listed(queue="repair", state="closed") == set()
    assert listed(limit=1) == {theirs}  # the newest they may see, not the newest of all


def test_a_new_ticket_does_not_look_for_verification_callbacks(
    desk_client: TestClient, auth: Auth, db_session: Session
) -> None:
    agent = auth("agent")
    with statements(db_session) as sent:
        answer = desk_client.post(
            "/api/tickets",
            json={"type": "inquiry", "subject": "送货日期", "queue": "installation"},
            headers=agent,
        )
    assert answer.status_code == 201, answer.text
    assert not [s for s in sent if "ticket_verifications" in s], sent
    # Who is signed in, the business calendar, the ticket, its number, its history, the audit.
    assert len(sent) == 6, sent
