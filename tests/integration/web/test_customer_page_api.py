"""The customer page's API: search by phone, name, ticket or serial number; a customer at a
glance (masked for everyone); reveal, audited every time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.crm import service as crm
from hotline.store.models.core import AuditEntry
from hotline.tickets import service as tickets

TokenFor = Callable[[str], str]


@pytest.fixture
def customers(session_factory: sessionmaker[Session]) -> dict[str, Any]:
    """Two customers: 张伟 with a water heater, a repair ticket and contacts on two channels
    (one ticket in the repair queue, one in complaints), and 王芳."""
    with session_factory() as session:
        zhang = crm.create_customer(
            session,
            name="张伟",
            phones=["13812345678"],
            emails=["zhang.wei@example.cn"],
            addresses=["北京市朝阳区建国路88号"],
            vip_level=2,
        )
        wang = crm.create_customer(session, name="王芳", phones=["13987654321"])
        session.flush()
        crm.add_product(session, customer_id=zhang.id, model="JSQ30-16", serial_number="SN-88-001")
        crm.record_contact(
            session,
            customer_id=zhang.id,
            channel="voice",
            contact_id="v-1",
            agent_id="a001",
            at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
            summary="热水器不加热",
        )
        crm.record_contact(
            session,
            customer_id=zhang.id,
            channel="chat",
            at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            summary="问进度",
        )
        repair = tickets.create_ticket(
            session,
            type="repair",
            subject="热水器不加热",
            actor="a001",
            customer_id=zhang.id,
            queue="repair",
        )
        complaint = tickets.create_ticket(
            session,
            type="complaint",
            subject="维修师傅迟到",
            actor="a031",
            customer_id=zhang.id,
            queue="complaints",
        )
        session.commit()
        return {
            "zhang": zhang.id,
            "wang": wang.id,
            "repair": repair.number,
            "complaint": complaint.number,
        }


def _get(client: TestClient, token: str, url: str, **params: str) -> Any:
    response = client.get(url, params=params, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_search_finds_by_phone_name_variant_prefix_and_serial(
    app_client: TestClient, token_for: TokenFor, customers: dict[str, Any]
) -> None:
    token = token_for("agent")
    for query in ("138 1234 5678", "+86 138-1234-5678", "张伟", "張偉", "张", "SN-88-001"):
        found = _get(app_client, token, "/api/customers", q=query)
        assert [c["id"] for c in found] == [customers["zhang"]], query
        # listed masked for everyone, even a role that may reveal
        assert found[0]["name"] != "张伟" and "13812345678" not in found[0]["phones"]
        assert found[0]["products"] == ["JSQ30-16 SN-88-001"]


def test_search_finds_by_ticket_number_and_nothing_for_strangers(
    app_client: TestClient, token_for: TokenFor, customers: dict[str, Any]
) -> None:
    token = token_for("supervisor")
    by_ticket = _get(app_client, token, "/api/customers", q=customers["repair"])
    assert [c["id"] for c in by_ticket] == [customers["zhang"]]
    assert _get(app_client, token, "/api/customers", q="李") == []
    assert _get(app_client, token, "/api/customers", q="%") == []  # a wildcard is literal
    too_long = app_client.get(
        "/api/customers", params={"q": "x" * 65}, headers={"authorization": f"Bearer {token}"}
    )
    assert too_long.status_code == 422


def test_overview_shows_contacts_products_and_the_tickets_the_caller_may_see_masked(
    app_client: TestClient,
    token_for: TokenFor,
    customers: dict[str, Any],
    session_factory: sessionmaker[Session],
) -> None:
    from hotline.campaigns import service as campaigns

    url = f"/api/customers/{customers['zhang']}/overview"
    view = _get(app_client, token_for("supervisor"), url)
    assert view["may_reveal"] is True
    person = view["customer"]
    assert person["name"] != "张伟" and person["vip_level"] == 2
    assert [p["e164"] for p in person["phones"]] != ["+8613812345678"]
    assert person["emails"] != ["zhang.wei@example.cn"]
    assert [p["serial_number"] for p in person["products"]] == ["SN-88-001"]
    assert [(c["channel"], c["summary"]) for c in view["contacts"]] == [
        ("chat", "问进度"),
        ("voice", "热水器不加热"),
    ]
    assert {t["number"] for t in view["tickets"]} == {customers["repair"], customers["complaint"]}
    # Calling flags per number, masked like the number: none until listed or consented.
    assert [(f["do_not_call"], f["consents"]) for f in view["calling_flags"]] == [([], 0)]
    with session_factory() as session:
        campaigns.add_do_not_call(session, number="13812345678", actor="t", reason="投诉")
        campaigns.record_consent(session, number="13812345678", evidence="call v-1", actor="t")
        session.commit()
    [flags] = _get(app_client, token_for("supervisor"), url)["calling_flags"]
    assert flags == {"phone": person["phones"][0]["e164"], "do_not_call": ["center"], "consents": 1}
    # the agent a001 does not serve the complaints queue: that ticket is not theirs to see
    agent_view = _get(app_client, token_for("agent"), url)
    assert customers["complaint"] not in {t["number"] for t in agent_view["tickets"]}
    missing = app_client.get(
        "/api/customers/999999/overview",
        headers={"authorization": f"Bearer {token_for('agent')}"},
    )
    assert missing.status_code == 404


def test_reveal_shows_the_customer_in_full_and_every_reveal_is_audited(
    app_client: TestClient,
    token_for: TokenFor,
    customers: dict[str, Any],
    db_session: Session,
) -> None:
    url = f"/api/customers/{customers['zhang']}/reveal"
    for role in ("agent", "qa", "agent"):
        response = app_client.post(url, headers={"authorization": f"Bearer {token_for(role)}"})
        assert response.status_code == 200, response.text
        full = response.json()
        assert full["name"] == "张伟"
        assert [p["e164"] for p in full["phones"]] == ["+8613812345678"]
        assert full["addresses"] == ["北京市朝阳区建国路88号"]
    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "customer.reveal")
    ).all()
    assert [(e.actor, e.target) for e in entries] == [
        ("agent", str(customers["zhang"])),
        ("qa", str(customers["zhang"])),
        ("agent", str(customers["zhang"])),
    ]
    refused = app_client.post(url, headers={"authorization": f"Bearer {token_for('wfm')}"})
    assert refused.status_code == 403
    assert (
        len(
            db_session.scalars(
                select(AuditEntry).where(AuditEntry.action == "customer.reveal")
            ).all()
        )
        == 3
    )


def test_history_on_every_channel_links_each_record_for_the_roles_that_may_open_it(
    app_client: TestClient,
    token_for: TokenFor,
    customers: dict[str, Any],
    session_factory: sessionmaker[Session],
) -> None:
    """The overview and the screen pop list the customer's contacts on every channel with
    queue and outcome; each links its transcript, thread or recordings only for the roles
    that may open it (an agent their own chats, a team lead their teams')."""
    with session_factory() as session:
        crm.link_identity(
            session,
            customer_id=customers["zhang"],
            identity=crm.Identity("wechat", "oZhangWei"),
            actor="a001",
        )
        arrivals = [
            ("E-1", "email", "email", "answered", "zhang.wei@example.cn", "a011"),
            ("W-2", "chat", "chat", "answered", "wechat:oZhangWei", "a001"),
            ("S-3", "sms", "chat", "abandoned", "13812345678", None),
            ("C-4", "chat", "chat", "answered", "zhang.wei@example.cn", "a021"),
        ]
        for day, (contact_id, channel, queue, outcome, key, agent) in enumerate(arrivals):
            crm.record_finished_contact(
                session,
                key=key,
                channel="wechat" if key.startswith("wechat:") else channel,
                at=datetime(2026, 3, 3 + day, 9, 0, tzinfo=UTC),
                contact_id=contact_id,
                agent_id=agent,
                queue=queue,
                outcome=outcome,
            )
        session.commit()
    url = f"/api/customers/{customers['zhang']}/overview"

    def links(role: str) -> dict[str | None, str | None]:
        contacts = _get(app_client, token_for(role), url)["contacts"]
        return {c["contact_id"]: c["link"] for c in contacts}

    view = _get(app_client, token_for("supervisor"), url)
    assert [(c["contact_id"], c["channel"], c["queue"], c["outcome"]) for c in view["contacts"]][
        :4
    ] == [
        ("C-4", "chat", "chat", "answered"),
        ("S-3", "sms", "chat", "abandoned"),
        ("W-2", "wechat", "chat", "answered"),
        ("E-1", "email", "email", "answered"),
    ]
    assert links("supervisor") == {
        "C-4": "/api/chat/conversations/C-4",
        "S-3": "/api/chat/conversations/S-3",
        "W-2": "/api/chat/conversations/W-2",
        "E-1": "/api/email/contacts/E-1",
        "v-1": "/api/contacts/v-1/recordings",
        None: None,  # the chat typed in by hand names no contact
    }
    # agent a001 reads their own WeChat chat and the e-mail thread; no recordings, no chat
    # of another agent's
    assert links("agent") == {
        "C-4": None,
        "S-3": None,
        "W-2": "/api/chat/conversations/W-2",
        "E-1": "/api/email/contacts/E-1",
        "v-1": None,
        None: None,
    }
    # a001 leads t-install: a021 (customer care) is not theirs; the call's agent a001 is
    assert links("team_lead")["C-4"] is None
    assert links("team_lead")["v-1"] == "/api/contacts/v-1/recordings"
    # the screen pop by e-mail address finds the customer, with the same links
    pop = _get(app_client, token_for("agent"), "/api/customers/pop", number="Zhang.Wei@example.cn")
    assert [c["id"] for c in pop["customers"]] == [customers["zhang"]]
    assert [(c["contact_id"], c["link"]) for c in pop["last_contacts"][:2]] == [
        ("C-4", None),
        ("S-3", None),
    ]
    by_wechat = _get(
        app_client, token_for("agent"), "/api/customers/pop", number="wechat:oZhangWei"
    )
    assert [c["id"] for c in by_wechat["customers"]] == [customers["zhang"]]
