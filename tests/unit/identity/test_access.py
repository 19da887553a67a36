"""Who oversees which agents, and who sees which personal data: the scope and the policy."""

from __future__ import annotations

from pathlib import Path

from hotline.config.validate import load_center
from hotline.identity.roles import (
    ALL_ROLES,
    PERSONAL_DATA_POLICY,
    PERSONAL_DATA_ROLES,
    PersonalField,
    hidden_fields,
)
from hotline.identity.scope import agent_scope
from hotline.web.access import live_feed, mask_personal

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
TEAMS = {"t-install": "a001", "t-repair": "a011", "t-vip": None}
AGENT_TEAMS = {"a001": "t-install", "a002": "t-install", "a011": "t-repair", "a012": "t-repair"}


def test_a_team_lead_oversees_the_teams_they_lead_and_nobody_else() -> None:
    scope = agent_scope(["team_lead"], "a011", teams=TEAMS, agent_teams=AGENT_TEAMS)
    assert not scope.everyone
    assert scope.teams == {"t-repair"}
    assert scope.keep(["a001", "a002", "a011", "a012"]) == ["a011", "a012"]
    assert scope.covers_team("t-repair") and not scope.covers_team("t-install")
    assert not scope.covers(None)


def test_a_lead_not_named_by_any_team_sees_no_other_agent() -> None:
    # A team lead account without an agent id, or whose agent leads nothing, sees less.
    for agent_id in (None, "a002"):
        scope = agent_scope(["team_lead"], agent_id, teams=TEAMS, agent_teams=AGENT_TEAMS)
        assert scope.teams == frozenset()
        assert scope.keep(["a001", "a002", "a011"]) == ([agent_id] if agent_id else [])


def test_floor_roles_see_everyone_and_an_agent_only_themselves() -> None:
    for role in ("admin", "manager", "supervisor", "wfm", "qa"):
        assert agent_scope([role], None, teams=TEAMS, agent_teams=AGENT_TEAMS).everyone
    # A team lead who is also a supervisor works across the floor.
    assert agent_scope(
        ["team_lead", "supervisor"], "a011", teams=TEAMS, agent_teams=AGENT_TEAMS
    ).everyone
    agent = agent_scope(["agent"], "a002", teams=TEAMS, agent_teams=AGENT_TEAMS)
    assert agent.keep(["a001", "a002", "a012"]) == ["a002"]


def test_the_policy_hides_customer_identity_from_wfm_and_providers_only() -> None:
    assert set(PERSONAL_DATA_POLICY) == set(PersonalField)
    # The 回访 group calls customers back, so it sees who they are; the settlement clerk not.
    assert {
        "admin",
        "manager",
        "supervisor",
        "team_lead",
        "qa",
        "agent",
        "followup",
    } == PERSONAL_DATA_ROLES
    assert hidden_fields(["wfm"]) == {
        PersonalField.PHONE,
        PersonalField.NAME,
        PersonalField.EMAIL,
        PersonalField.ADDRESS,
        PersonalField.CONTENT,
    }
    # A provider's technician reads the fault (subject, content), never who the customer is.
    assert hidden_fields(["provider"]) == {
        PersonalField.PHONE,
        PersonalField.NAME,
        PersonalField.EMAIL,
        PersonalField.ADDRESS,
    }
    # The settlement clerk pays providers for work orders: no customer data at all.
    assert hidden_fields(["settlement"]) == set(PersonalField)
    for role in ALL_ROLES:
        if role not in ("wfm", "provider", "settlement"):
            assert hidden_fields([role]) == frozenset(), role
    # Holding a role that may see a field is enough.
    assert hidden_fields(["wfm", "qa"]) == frozenset()


def test_live_data_is_masked_under_every_personal_key() -> None:
    offer = {
        "type": "offer",
        "agent_id": "a002",
        "attached": {"customer": "13800138000", "subject": "空调漏水", "via": "phone"},
        "callbacks": [{"customer": "+8613912345678", "note": "call after 6pm", "queue": "vip"}],
        "data": {"caller": "02188886666", "called": "4008001234", "customer_name": "张伟"},
    }
    masked = mask_personal(offer, hidden_fields(["wfm"]))
    assert masked == {
        "type": "offer",
        "agent_id": "a002",
        # WFM may read what a ticket is about, not who called.
        "attached": {"customer": "*******8000", "subject": "空调漏水", "via": "phone"},
        "callbacks": [{"customer": "**********5678", "note": "***", "queue": "vip"}],
        "data": {"caller": "*******6666", "called": "4008001234", "customer_name": "张*"},
    }
    assert mask_personal(offer, hidden_fields(["supervisor"])) == offer
    assert "13800138000" not in str(masked) and "02188886666" not in str(masked)


def test_the_live_feed_is_cut_to_the_viewers_agents_and_masked() -> None:
    center = load_center(SAMPLE)
    board = {
        "type": "wallboard",
        "queues": [{"id": "repair"}],
        "agents": [{"id": "a002", "team": "t-install"}, {"id": "a012", "team": "t-repair"}],
    }
    theirs = {"type": "offer", "agent_id": "a002", "attached": {"customer": "13800138000"}}
    ours = {"type": "offer", "agent_id": "a012", "attached": {"customer": "13800138000"}}
    arrived = {"type": "event", "kind": "arrived", "agent_id": None, "data": {"customer": "1"}}

    lead = live_feed(center, ("team_lead",), "a011")
    assert lead(theirs) is None
    assert lead(ours) == ours
    assert lead(arrived) == arrived
    lead_board = lead(board)
    assert lead_board is not None
    assert [row["id"] for row in lead_board["agents"]] == ["a012"]
    assert lead_board["queues"] == board["queues"]

    wfm = live_feed(center, ("wfm",), None)
    assert wfm(board) == board
    shown = wfm(theirs)
    assert shown is not None and shown["attached"] == {"customer": "*******8000"}

    agent = live_feed(center, ("agent",), "a002")
    assert agent(theirs) == theirs
    assert agent(ours) is None and agent(board) is None and agent(arrived) is None
