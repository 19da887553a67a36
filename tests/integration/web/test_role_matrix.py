"""The role × route matrix: every route of the app, every role and anonymous, the status each gets.

The table below is the access policy written out by hand, one line per route. The test
enumerates the app's routes, so a new route without a line here fails, and so does a line
for a route that no longer exists. For each route it then calls it as every role and as
nobody, on a real app over SQLite:

* anonymous → 401 (public routes: anything but 401/403);
* a role the line admits → anything but 401 or 403 (validation errors, 404s and "live
  routing is not running" are fine: the caller got past the door);
* every other role → 403.

Path parameters are filled so that an admitted caller is not refused for the resource
itself: agent ids are a001, the agent's own id and an agent of the team the team lead leads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.routing import Mount, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from hotline.identity.roles import ALL_ROLES
from hotline.web.app import iter_routes
from hotline.web.events import EventHub, Subscription
from tests.integration.web.conftest import PASSWORD

TokenFor = Callable[[str], str]

PUBLIC = "public"
EVERYONE = frozenset(ALL_ROLES)
ADMIN = frozenset({"admin"})
MANAGERS = ADMIN | {"manager"}
SUPERVISORS = MANAGERS | {"supervisor"}
SUPERVISION = SUPERVISORS | {"team_lead", "wfm", "qa"}
PLANNERS = SUPERVISORS | {"wfm"}
#: Call controls and the screen pop: only the agent holding the contact, for their own agent
#: id; an admin passes the role check but has no agent id, so is refused too.
DESK = frozenset({"agent"})
STATE_CONTROL = SUPERVISORS | {"team_lead", "agent"}
CUSTOMER_READERS = SUPERVISORS | {"team_lead", "agent", "qa"}
CUSTOMER_SERVICE = SUPERVISORS | {"team_lead", "agent"}
TEAM_LEADS_UP = SUPERVISORS | {"team_lead"}
TICKET_VIEWERS = CUSTOMER_SERVICE | {"qa", "wfm"}
KB_AUTHORS = CUSTOMER_SERVICE | {"qa"}
KB_REVIEWERS = SUPERVISORS | {"qa"}
#: Recordings: a team lead only their own teams' agents' (test_recordings_api.py).
LISTENERS = SUPERVISORS | {"qa", "team_lead"}
#: A service provider's staff work in the provider portal only: their own provider's work
#: orders; an admin passes the role check but is nobody's staff, so is refused too.
PROVIDER_STAFF = frozenset({"provider"})
#: Everyone who works inside the center: the live feed and the desk's knowledge search (the
#: 回访 group and the settlement clerk work from their own pages, which poll instead; a 回访
#: agent who takes calls holds the agent role too).
CENTER_STAFF = EVERYONE - PROVIDER_STAFF - {"followup", "settlement"}
#: Quality evaluations: QA and the floor; a team lead their teams'; an agent their own.
QA_READERS = SUPERVISORS | {"qa", "team_lead", "agent"}
#: Follow-up (回访) work: the 回访 group and the floor that runs it.
FOLLOWUP = SUPERVISORS | {"followup"}
#: Provider settlement: the settlement clerk and managers.
SETTLEMENT = MANAGERS | {"settlement"}
#: Web chat: agents work their chats; the floor, QA and team leads (their teams) watch and read.
CHAT_STAFF = SUPERVISORS | {"agent", "team_lead", "qa"}

MATRIX: dict[tuple[str, str], frozenset[str] | str] = {
    # platform
    ("GET", "/health"): PUBLIC,
    ("GET", "/ready"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): EVERYONE,  # revokes its token: called with a fresh one
    ("POST", "/api/auth/password"): EVERYONE,
    ("POST", "/api/auth/stream-ticket"): CENTER_STAFF,
    # The interactive API documentation, for signed-in users.
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/docs"): EVERYONE,
    ("GET", "/redoc"): EVERYONE,
    ("GET", "/api/me"): EVERYONE,
    ("GET", "/api/users"): MANAGERS,
    ("POST", "/api/users"): ADMIN,
    ("PATCH", "/api/users/{username}"): ADMIN,
    ("POST", "/api/users/{username}/password"): ADMIN,
    ("GET", "/api/audit"): MANAGERS,
    ("GET", "/api/config/center"): SUPERVISION,
    ("POST", "/api/config/validate"): PLANNERS,
    ("GET", "/api/events/stream"): CENTER_STAFF,
    ("WEBSOCKET", "/api/events/ws"): CENTER_STAFF,
    # live routing
    ("GET", "/api/live/wallboard"): SUPERVISION,
    ("GET", "/api/live/agents/{agent_id}"): SUPERVISION | {"agent"},
    ("POST", "/api/live/agents/{agent_id}/state"): STATE_CONTROL,
    ("POST", "/api/live/agents/{agent_id}/contacts/{contact_id}/answer"): DESK,
    ("POST", "/api/live/agents/{agent_id}/contacts/{contact_id}/reject"): DESK,
    ("POST", "/api/live/agents/{agent_id}/contacts/{contact_id}/hold"): DESK,
    ("POST", "/api/live/agents/{agent_id}/contacts/{contact_id}/resume"): DESK,
    ("POST", "/api/live/agents/{agent_id}/contacts/{contact_id}/transfer"): DESK,
    ("POST", "/api/live/agents/{agent_id}/contacts/{contact_id}/consult"): DESK,
    ("POST", "/api/live/agents/{agent_id}/contacts/{contact_id}/consult/end"): DESK,
    ("POST", "/api/live/agents/{agent_id}/contacts/{contact_id}/hangup"): DESK,
    ("POST", "/api/live/agents/{agent_id}/contacts/{contact_id}/wrap-up"): DESK,
    ("POST", "/api/live/agents/{agent_id}/dial"): DESK,
    ("GET", "/api/live/agents/{agent_id}/softphone"): DESK,
    ("GET", "/desk/jssip.js"): ADMIN | {"agent"},
    ("PUT", "/api/live/voice/emergency"): SUPERVISORS,
    ("GET", "/api/live/crisis"): SUPERVISION | {"agent"},
    ("PUT", "/api/live/crisis"): SUPERVISORS,
    ("POST", "/api/live/agents/{agent_id}/contacts/{contact_id}/callback"): DESK,
    ("GET", "/api/live/agents/{agent_id}/contacts/{contact_id}/screen-pop"): DESK,
    ("PUT", "/api/live/agents/{agent_id}/contacts/{contact_id}/identity"): DESK,
    ("DELETE", "/api/live/agents/{agent_id}/contacts/{contact_id}/identity"): DESK,
    ("POST", "/api/live/agents/{agent_id}/contacts/{contact_id}/tickets"): DESK,
    ("GET", "/api/live/knowledge"): CENTER_STAFF,
    ("POST", "/api/live/contacts"): SUPERVISORS,
    ("GET", "/api/live/waiting"): SUPERVISION,
    ("POST", "/api/live/contacts/{contact_id}/move"): TEAM_LEADS_UP,
    ("POST", "/api/live/contacts/{contact_id}/pick"): TEAM_LEADS_UP,
    ("POST", "/api/live/agents/{agent_id}/force-logout"): TEAM_LEADS_UP,
    ("GET", "/api/live/supervisions"): SUPERVISION,
    ("POST", "/api/live/calls/{contact_id}/supervise"): TEAM_LEADS_UP,
    ("DELETE", "/api/live/calls/{contact_id}/supervise"): TEAM_LEADS_UP,
    ("PATCH", "/api/live/calls/{contact_id}/supervise"): TEAM_LEADS_UP,
    # reports
    ("GET", "/api/reports/kpis"): SUPERVISION,
    ("GET", "/api/reports/agents"): SUPERVISION,
    ("GET", "/api/reports/experience"): SUPERVISION,
    ("GET", "/api/reports/sources"): SUPERVISION,
    ("POST", "/api/reports/contacts"): MANAGERS | {"wfm"},
    ("GET", "/api/reports/imports/{job_id}"): MANAGERS | {"wfm"},
    ("GET", "/api/reports/schedules"): SUPERVISORS,
    ("POST", "/api/reports/schedules"): SUPERVISORS,
    ("DELETE", "/api/reports/schedules/{schedule_id}"): SUPERVISORS,
    # manager cockpit
    ("GET", "/api/manager/cockpit"): SUPERVISORS,
    ("POST", "/api/manager/alerts/notify"): SUPERVISORS,
    # workforce management
    ("POST", "/api/wfm/erlang"): PLANNERS,
    ("POST", "/api/wfm/forecast"): PLANNERS,
    ("POST", "/api/wfm/schedule"): PLANNERS,
    ("POST", "/api/wfm/adherence"): PLANNERS,
    ("POST", "/api/wfm/intraday"): PLANNERS,
    ("POST", "/api/wfm/verify-multiskill"): PLANNERS,
    # rosters: planners draft and publish; an agent reads their own schedule; team leads read
    # their teams' adherence
    ("GET", "/api/wfm/rosters"): PLANNERS,
    ("POST", "/api/wfm/rosters"): PLANNERS,
    ("GET", "/api/wfm/rosters/{roster_id}"): PLANNERS,
    ("PUT", "/api/wfm/rosters/{roster_id}/shifts"): PLANNERS,
    ("POST", "/api/wfm/rosters/{roster_id}/publish"): PLANNERS,
    ("GET", "/api/wfm/me/schedule"): ADMIN | {"agent"},
    ("GET", "/api/wfm/adherence/day"): PLANNERS | {"team_lead"},
    ("POST", "/api/wfm/me/requests"): ADMIN | {"agent"},
    ("GET", "/api/wfm/me/requests"): ADMIN | {"agent"},
    ("GET", "/api/wfm/requests"): PLANNERS,
    ("POST", "/api/wfm/requests/{request_id}/decision"): PLANNERS,
    ("GET", "/api/wfm/overrides"): PLANNERS,
    ("POST", "/api/wfm/overrides"): PLANNERS,
    ("DELETE", "/api/wfm/overrides/{override_id}"): PLANNERS,
    ("GET", "/api/wfm/plan/day"): PLANNERS,
    ("GET", "/api/wfm/plan/what-if"): PLANNERS,
    ("GET", "/api/wfm/plan/multiskill"): PLANNERS,
    # customers (WFM never reaches customer records)
    ("GET", "/api/customers/pop"): CUSTOMER_READERS,
    ("POST", "/api/customers"): CUSTOMER_SERVICE,
    ("GET", "/api/customers/duplicates"): SUPERVISORS,
    ("GET", "/api/customers/{customer_id}"): CUSTOMER_READERS,
    ("GET", "/api/customers"): CUSTOMER_READERS,
    ("GET", "/api/customers/{customer_id}/overview"): CUSTOMER_READERS,
    ("POST", "/api/customers/{customer_id}/reveal"): CUSTOMER_READERS,
    ("POST", "/api/customers/{customer_id}/products"): CUSTOMER_SERVICE,
    ("POST", "/api/customers/{customer_id}/phones"): CUSTOMER_SERVICE,
    ("POST", "/api/customers/{customer_id}/contacts"): CUSTOMER_SERVICE,
    ("POST", "/api/customers/import"): SUPERVISORS,
    ("POST", "/api/customers/import-products"): SUPERVISORS,
    ("GET", "/api/customers/imports/{job_id}"): SUPERVISORS,
    ("POST", "/api/customers/{survivor_id}/merge/{merged_id}"): TEAM_LEADS_UP,
    ("POST", "/api/customers/merges/{merge_id}/undo"): TEAM_LEADS_UP,
    # tickets
    ("POST", "/api/tickets"): CUSTOMER_SERVICE,
    ("GET", "/api/tickets/categories"): TICKET_VIEWERS,
    ("GET", "/api/tickets"): TICKET_VIEWERS,
    ("GET", "/api/tickets/figures"): TEAM_LEADS_UP | {"wfm"},
    ("POST", "/api/tickets/sla-check"): SUPERVISORS,
    ("POST", "/api/tickets/providers"): SUPERVISORS,
    ("GET", "/api/tickets/{ticket_id}"): TICKET_VIEWERS,
    ("POST", "/api/tickets/{ticket_id}/actions"): CUSTOMER_SERVICE,
    ("POST", "/api/tickets/{ticket_id}/updates"): CUSTOMER_SERVICE,
    ("PATCH", "/api/tickets/{ticket_id}/fields"): CUSTOMER_SERVICE,
    ("POST", "/api/tickets/{ticket_id}/verification"): CUSTOMER_SERVICE,
    ("POST", "/api/tickets/{ticket_id}/articles/{article_id}"): CUSTOMER_SERVICE,
    ("POST", "/api/tickets/{ticket_id}/complaint-level"): TEAM_LEADS_UP,
    # e-mail (issue #16): a ticket's mail as its ticket; mailboxes and quarantine for admins
    ("GET", "/api/tickets/{ticket_id}/emails"): TICKET_VIEWERS,
    ("POST", "/api/tickets/{ticket_id}/emails"): CUSTOMER_SERVICE,
    ("POST", "/api/tickets/{ticket_id}/emails/no-reply"): CUSTOMER_SERVICE,
    ("GET", "/api/email/contacts/{contact_id}"): CUSTOMER_READERS,
    ("GET", "/api/email/attachments/{attachment_id}"): TICKET_VIEWERS,
    ("GET", "/api/email/mailboxes"): ADMIN,
    ("PUT", "/api/email/mailboxes"): ADMIN,
    ("DELETE", "/api/email/mailboxes/{address}"): ADMIN,
    ("GET", "/api/email/quarantine"): ADMIN,
    # back office: work queue, ticket page, dispatch
    ("GET", "/api/backoffice/queue"): CUSTOMER_SERVICE,
    ("GET", "/api/backoffice/views"): CUSTOMER_SERVICE,
    ("POST", "/api/backoffice/views"): CUSTOMER_SERVICE,
    ("DELETE", "/api/backoffice/views/{view_id}"): CUSTOMER_SERVICE,
    ("POST", "/api/backoffice/assign"): TEAM_LEADS_UP,
    ("GET", "/api/backoffice/tickets/{ticket_id}"): TICKET_VIEWERS,
    ("POST", "/api/backoffice/tickets/{ticket_id}/notes"): CUSTOMER_SERVICE,
    ("POST", "/api/backoffice/attachments/tickets/{ticket_id}"): CUSTOMER_SERVICE,
    # WFM sees tickets without their content, so without their files.
    ("GET", "/api/backoffice/attachments/{attachment_id}"): CUSTOMER_READERS,
    ("POST", "/api/backoffice/tickets/{ticket_id}/links"): CUSTOMER_SERVICE,
    ("POST", "/api/backoffice/tickets/{ticket_id}/merge"): CUSTOMER_SERVICE,
    ("GET", "/api/backoffice/tickets/{ticket_id}/providers"): CUSTOMER_SERVICE,
    ("POST", "/api/backoffice/tickets/{ticket_id}/dispatch"): CUSTOMER_SERVICE,
    ("GET", "/api/backoffice/providers"): TEAM_LEADS_UP,
    ("GET", "/api/backoffice/complaints"): TEAM_LEADS_UP,
    ("GET", "/api/backoffice/faults"): SUPERVISORS | {"qa"},
    ("GET", "/api/backoffice/faults.xlsx"): SUPERVISORS | {"qa"},
    # provider portal
    ("GET", "/api/provider/work-orders"): PROVIDER_STAFF,
    ("POST", "/api/provider/work-orders/{ticket_id}/accept"): PROVIDER_STAFF,
    ("POST", "/api/provider/work-orders/{ticket_id}/schedule"): PROVIDER_STAFF,
    ("POST", "/api/provider/work-orders/{ticket_id}/visit"): PROVIDER_STAFF,
    ("POST", "/api/provider/work-orders/{ticket_id}/claim"): PROVIDER_STAFF,
    ("GET", "/api/provider/figures"): PROVIDER_STAFF,
    # knowledge base
    ("GET", "/api/kb/search"): EVERYONE,
    ("GET", "/api/kb/articles/{article_id}"): EVERYONE,
    ("POST", "/api/kb/articles"): KB_AUTHORS,
    ("POST", "/api/kb/articles/{article_id}/versions"): KB_AUTHORS,
    ("POST", "/api/kb/articles/{article_id}/submit"): KB_AUTHORS,
    ("POST", "/api/kb/articles/{article_id}/review"): KB_REVIEWERS,
    ("POST", "/api/kb/articles/{article_id}/retire"): KB_REVIEWERS,
    ("POST", "/api/kb/articles/{article_id}/feedback"): EVERYONE,
    ("POST", "/api/kb/articles/{article_id}/attachments"): KB_AUTHORS,
    ("GET", "/api/kb/categories"): EVERYONE,
    ("GET", "/api/kb/gaps"): KB_AUTHORS,
    ("GET", "/api/kb/gaps.csv"): KB_AUTHORS,
    ("POST", "/api/kb/preview"): KB_AUTHORS,
    ("POST", "/api/kb/images"): KB_AUTHORS,
    ("GET", "/api/kb/images/{image_id}"): EVERYONE,
    ("GET", "/api/kb/articles/{article_id}/related"): EVERYONE,
    ("GET", "/api/kb/articles"): KB_AUTHORS,
    ("GET", "/api/kb/articles/{article_id}/versions"): KB_AUTHORS,
    ("GET", "/api/kb/articles/{article_id}/compare"): KB_AUTHORS,
    # notifications: everyone signed in has an inbox
    ("GET", "/api/notifications"): EVERYONE,
    ("POST", "/api/notifications/read"): EVERYONE,
    ("POST", "/api/notifications/{notification_id}/read"): EVERYONE,
    # recordings: WFM and agents never hear calls; team leads their own teams' agents'.
    ("GET", "/api/contacts/{contact_id}/recordings"): LISTENERS,
    ("GET", "/api/recordings/{recording_id}/audio"): LISTENERS,
    ("GET", "/api/voicemails"): LISTENERS,
    ("GET", "/api/recordings"): LISTENERS,
    ("GET", "/api/recordings/{recording_id}/download"): MANAGERS,
    # quality: QA scores, agents see (and answer) only their own, supervisors review disputes
    ("GET", "/api/quality/forms"): QA_READERS,
    ("POST", "/api/quality/evaluations"): ADMIN | {"qa"},
    ("GET", "/api/quality/evaluations"): QA_READERS,
    ("GET", "/api/quality/evaluations/{evaluation_id}"): QA_READERS,
    ("POST", "/api/quality/evaluations/{evaluation_id}/acknowledge"): ADMIN | {"agent"},
    ("POST", "/api/quality/evaluations/{evaluation_id}/dispute"): ADMIN | {"agent"},
    ("POST", "/api/quality/evaluations/{evaluation_id}/review"): SUPERVISORS,
    ("GET", "/api/quality/accuracy"): QA_READERS,
    ("GET", "/api/quality/sampling-plan"): SUPERVISORS | {"qa"},
    # people: team scorecards for team leads (their teams) and up; an agent's own figures
    ("GET", "/api/people/scorecard"): TEAM_LEADS_UP,
    ("GET", "/api/people/agents/{agent_id}"): TEAM_LEADS_UP,
    ("GET", "/api/people/me"): ADMIN | {"agent"},
    ("GET", "/api/people/leaderboard"): TEAM_LEADS_UP,
    # contests: team leads (between their own teams) and managers run them; the desk's panel
    ("POST", "/api/people/competitions"): MANAGERS | {"team_lead"},
    ("GET", "/api/people/competitions"): TEAM_LEADS_UP,
    ("GET", "/api/people/competitions/mine"): ADMIN | {"agent"},
    ("GET", "/api/people/competitions/{competition_id}"): TEAM_LEADS_UP,
    ("DELETE", "/api/people/competitions/{competition_id}"): MANAGERS | {"team_lead"},
    # coaching: team leads (their teams), QA, supervisors and managers coach; the agent acknowledges
    ("POST", "/api/people/coaching"): TEAM_LEADS_UP | {"qa"},
    ("GET", "/api/people/coaching"): TEAM_LEADS_UP | {"qa"},
    ("GET", "/api/people/coaching/mine"): ADMIN | {"agent"},
    ("POST", "/api/people/coaching/{task_id}/acknowledge"): ADMIN | {"agent"},
    ("POST", "/api/people/coaching/{task_id}/close"): TEAM_LEADS_UP | {"qa"},
    # training: managers set up courses (a pass changes routing); leads and up record exams
    ("POST", "/api/people/courses"): MANAGERS,
    ("GET", "/api/people/courses"): TEAM_LEADS_UP,
    ("POST", "/api/people/courses/{course_id}/results"): TEAM_LEADS_UP,
    ("GET", "/api/people/training"): TEAM_LEADS_UP,
    ("GET", "/api/people/training/mine"): ADMIN | {"agent"},
    ("GET", "/api/quality/contacts/{contact_id}"): SUPERVISORS | {"qa"},
    ("GET", "/api/contacts/{contact_id}/segments"): LISTENERS,
    ("GET", "/api/contacts/{contact_id}/transcript"): LISTENERS,
    ("GET", "/api/quality/transcripts"): LISTENERS,
    ("POST", "/api/quality/calibrations"): SUPERVISORS | {"qa"},
    ("GET", "/api/quality/calibrations"): SUPERVISORS | {"qa"},
    ("GET", "/api/quality/calibrations/{calibration_id}"): SUPERVISORS | {"qa"},
    ("POST", "/api/quality/calibrations/{calibration_id}/scores"): SUPERVISORS | {"qa"},
    ("POST", "/api/quality/calibrations/{calibration_id}/close"): SUPERVISORS | {"qa"},
    # campaigns: supervisors run them and keep the do-not-call lists, team leads watch, an
    # agent (with an agent id: not an admin) works the records; consent is taken by anyone
    # who serves the customer
    ("GET", "/api/campaigns"): SUPERVISORS | {"team_lead"},
    ("POST", "/api/campaigns"): SUPERVISORS,
    ("GET", "/api/campaigns/{campaign_id}"): SUPERVISORS | {"team_lead"},
    ("POST", "/api/campaigns/{campaign_id}/state"): SUPERVISORS | {"team_lead"},
    ("POST", "/api/campaigns/{campaign_id}/list"): SUPERVISORS,
    ("GET", "/api/campaigns/list-jobs/{job_id}"): SUPERVISORS,
    ("POST", "/api/campaigns/{campaign_id}/query-list"): SUPERVISORS,
    ("POST", "/api/campaigns/{campaign_id}/followup-list"): SUPERVISORS,
    ("GET", "/api/campaigns/{campaign_id}/records"): SUPERVISORS | {"team_lead"},
    ("POST", "/api/campaigns/{campaign_id}/next"): DESK,
    ("POST", "/api/campaigns/records/{record_id}/skip"): DESK,
    ("POST", "/api/campaigns/records/{record_id}/result"): DESK,
    ("POST", "/api/campaigns/records/{record_id}/dial"): DESK,
    ("GET", "/api/campaign-calls"): DESK,
    ("GET", "/api/do-not-call"): SUPERVISORS,
    ("POST", "/api/do-not-call"): SUPERVISORS,
    ("DELETE", "/api/do-not-call/{entry_id}"): SUPERVISORS,
    ("GET", "/api/consents"): SUPERVISORS,
    ("POST", "/api/consents"): CUSTOMER_SERVICE,
    # web chat: customers are not users (the widget, starting a chat: origin-checked and
    # rate-limited); their socket opens with a conversation's token only, never a staff role
    ("GET", "/chat/widget.js"): PUBLIC,
    ("OPTIONS", "/chat/api/conversations"): PUBLIC,
    ("POST", "/chat/api/conversations"): PUBLIC,
    ("WEBSOCKET", "/chat/ws"): frozenset(),
    ("WEBSOCKET", "/api/chat/ws"): CHAT_STAFF,
    ("GET", "/api/chat/conversations"): CHAT_STAFF,
    ("GET", "/api/chat/conversations/{conversation_id}"): CHAT_STAFF,
    ("GET", "/api/chat/attachments/{attachment_id}"): CHAT_STAFF,
    # the secret the company's site signs its signed-in customers' chat tokens with
    ("GET", "/api/chat/login-secret"): ADMIN,
    ("PUT", "/api/chat/login-secret"): ADMIN,
    ("GET", "/chat/desk"): CHAT_STAFF,
    # surveys: links sent by the floor (a team lead's teams only), results read by the floor
    # and QA; the survey page is the customer's, opened by its signed single-use link
    ("POST", "/api/surveys/links"): TEAM_LEADS_UP,
    ("GET", "/api/surveys/results"): TEAM_LEADS_UP | {"qa"},
    # the voice-of-the-customer report is the whole floor's, for the product units
    ("GET", "/api/surveys/voc.xlsx"): SUPERVISORS | {"qa"},
    ("GET", "/api/surveys/voc.pdf"): SUPERVISORS | {"qa"},
    ("GET", "/surveys"): TEAM_LEADS_UP | {"qa"},
    ("GET", "/s/{token}"): PUBLIC,
    ("POST", "/s/{token}"): PUBLIC,
    # WeChat (issue #16): WeChat's push is checked by the account's signature, not a user;
    # the accounts are the administrators'.
    ("GET", "/wechat/push/{app_id}"): PUBLIC,
    ("POST", "/wechat/push/{app_id}"): PUBLIC,
    ("GET", "/api/wechat/accounts"): ADMIN,
    ("PUT", "/api/wechat/accounts"): ADMIN,
    ("DELETE", "/api/wechat/accounts/{app_id}"): ADMIN,
    # SMS: the line, the log and one message, for the floor's supervisors
    ("GET", "/api/sms/overview"): ADMIN | {"supervisor"},
    ("GET", "/api/sms/messages"): ADMIN | {"supervisor"},
    ("POST", "/api/sms/messages"): ADMIN | {"supervisor"},
    ("GET", "/sms"): ADMIN | {"supervisor"},
    # pages
    ("GET", "/"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("GET", "/logout"): PUBLIC,
    ("GET", "/console"): EVERYONE,
    ("GET", "/account/password"): EVERYONE,  # change your own password
    ("GET", "/desk"): ADMIN | {"agent"},
    ("GET", "/wallboard"): SUPERVISION,
    ("GET", "/reports"): SUPERVISION,
    ("GET", "/reports/export"): SUPERVISION,
    ("GET", "/manager"): SUPERVISORS,
    ("GET", "/campaigns"): SUPERVISORS,
    ("GET", "/admin"): MANAGERS,
    ("GET", "/quality"): SUPERVISORS | {"qa"},
    ("GET", "/quality/mine"): ADMIN | {"agent"},
    ("GET", "/team"): TEAM_LEADS_UP,
    ("GET", "/me"): ADMIN | {"agent"},
    ("GET", "/planning"): PLANNERS,
    ("GET", "/quality/calibration"): SUPERVISORS | {"qa"},
    ("GET", "/recordings"): LISTENERS,
    ("GET", "/knowledge"): EVERYONE,
    ("GET", "/knowledge/manage"): KB_AUTHORS,
    ("GET", "/customers"): CUSTOMER_READERS,
    ("GET", "/customers/{customer_id}"): CUSTOMER_READERS,
    ("POST", "/admin/center"): ADMIN,
    ("GET", "/admin/center/status"): MANAGERS,
    ("POST", "/admin/center/edit"): ADMIN,
    ("GET", "/work"): CUSTOMER_SERVICE,
    ("GET", "/tickets/{ticket_id}"): TICKET_VIEWERS,
    ("GET", "/provider"): PROVIDER_STAFF,
    ("GET", "/followup"): FOLLOWUP,
    ("GET", "/settlement"): SETTLEMENT,
    # follow-up (回访) and provider settlement
    ("GET", "/api/followup/tasks"): FOLLOWUP,
    ("GET", "/api/followup/tasks/{task_id}"): FOLLOWUP,
    ("POST", "/api/followup/tasks/{task_id}/answers"): FOLLOWUP,
    ("POST", "/api/followup/tasks/{task_id}/not-reached"): FOLLOWUP,
    ("POST", "/api/followup/sweep"): FOLLOWUP,
    ("GET", "/api/followup/figures"): FOLLOWUP | {"settlement"},
    ("GET", "/api/settlement/statements"): SETTLEMENT,
    ("GET", "/api/settlement/statements/{provider}/statement.xlsx"): SETTLEMENT,
    ("POST", "/api/settlement/claims/{ticket_id}/decision"): SETTLEMENT,
    ("GET", "/complaints"): TEAM_LEADS_UP,
    ("GET", "/faults"): SUPERVISORS | {"qa"},
}

#: Path parameters an admitted caller may use (the agent and the team lead are both a001).
PARAMETERS = {
    "agent_id": "a001",
    "contact_id": "c-matrix",
    "username": "nobody",
    "survivor_id": "1",
    "merged_id": "2",
}


#: The same routes for an agent of another team (a011 leads t-repair; the team lead leads
#: t-install): only floor roles reach them; call controls nobody but that agent.
OTHER_TEAMS_AGENT = "a011"
FOREIGN_AGENT: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/live/agents/{agent_id}"): SUPERVISION - {"team_lead"},
    ("POST", "/api/live/agents/{agent_id}/state"): SUPERVISORS,
    ("POST", "/api/live/agents/{agent_id}/force-logout"): SUPERVISORS,
    ("GET", "/api/people/agents/{agent_id}"): SUPERVISORS,
}


class _EndedHub(EventHub):
    """A hub whose subscriptions end at once, so a stream answers and closes in a test."""

    def subscribe(self) -> Subscription:
        return Subscription(self, closed=True)


@pytest.fixture
def db_engine(sqlite_engine: Engine) -> Engine:
    """The matrix runs on SQLite only (who may call what does not depend on the database)."""
    return sqlite_engine


def _app_routes(client: TestClient) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for path, route in iter_routes(client.app.routes):  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            assert path == "/static", f"unexpected mount {path}"  # public style sheets, scripts
        elif isinstance(route, WebSocketRoute) or type(route).__name__ == "APIWebSocketRoute":
            found[("WEBSOCKET", path)] = route
        else:
            # HEAD answers as GET does wherever a route offers both.
            for method in sorted(set(route.methods) - {"HEAD"}):
                found[(method, path)] = route
    return found


LOGOUT = "/api/auth/logout"


def _fresh_token(client: TestClient, role: str) -> str:
    """A token of a new session: signing out revokes the token it is called with."""
    answer = client.post("/api/auth/login", json={"username": role, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def _concrete(path: str, **overrides: str) -> str:
    values = PARAMETERS | overrides
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "1"), path)


def test_every_route_has_a_line_in_the_matrix(app_client: TestClient) -> None:
    routes = _app_routes(app_client)
    missing = sorted(set(routes) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(routes))
    assert missing == [], f"routes without a line in MATRIX: {missing}"
    assert stale == [], f"MATRIX lines for routes that do not exist: {stale}"
    assert len(routes) >= 90
    # Every non-public route is guarded by roles at the door (RoleGuard), as web.auth says.
    for key, route in routes.items():
        if MATRIX[key] is not PUBLIC and isinstance(route, APIRoute):
            assert route.dependant.dependencies, key


def _websocket(client: TestClient, path: str, token: str | None) -> str:
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    try:
        with client.websocket_connect(path, headers=headers):
            return "accepted"
    except WebSocketDisconnect as closed:
        return f"closed {closed.code}"


class Call(NamedTuple):
    """One request of the matrix: a route, its concrete URL, and who calls it."""

    method: str
    path: str
    url: str
    token: str | None
    role: str


def _statuses(client: TestClient, calls: list[Call]) -> list[int]:
    """The status of each call, sent one after another with no credentials but its token.

    The requests go straight into the app's event loop (the test client's portal) over
    httpx's ASGI transport: the same app and middleware, without the test client's thread
    hand-offs for every ASGI message (about 10 % of the matrix's CPU, more of its wall time
    on a busy machine).
    """

    async def send() -> list[int]:
        transport = httpx.ASGITransport(app=client.app)
        statuses: list[int] = []
        async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url)) as http:
            for call in calls:
                http.cookies.clear()  # the login sets a cookie: only the token counts
                headers = {} if call.token is None else {"authorization": f"Bearer {call.token}"}
                response = await http.request(
                    call.method, call.url, json={}, headers=headers, follow_redirects=False
                )
                statuses.append(response.status_code)
        return statuses

    assert client.portal is not None, "the test client is not started"
    return client.portal.call(send)


def test_every_role_gets_the_status_the_matrix_says(
    app_client: TestClient, token_for: TokenFor
) -> None:
    app_client.app.state.hub = _EndedHub()  # type: ignore[attr-defined]
    wrong: list[tuple[str, str, str, int | str]] = []
    calls: list[Call] = []
    for (method, path), admitted in MATRIX.items():
        url = _concrete(path)
        if method == "WEBSOCKET":
            if _websocket(app_client, url, None) == "accepted":
                wrong.append((method, path, "anonymous", "accepted"))
            for role in ALL_ROLES:
                outcome = _websocket(app_client, url, token_for(role))
                if (outcome == "accepted") != (role in admitted):
                    wrong.append((method, path, role, outcome))
            continue
        calls.append(Call(method, path, url, None, "anonymous"))
        if admitted is PUBLIC:
            continue
        for role in ALL_ROLES:
            token = _fresh_token(app_client, role) if path == LOGOUT else token_for(role)
            calls.append(Call(method, path, url, token, role))
    statuses = _statuses(app_client, calls)
    for call, status in zip(calls, statuses, strict=True):
        admitted = MATRIX[(call.method, call.path)]
        if call.token is None:
            # Anonymous: refused (401) unless public, and a public route never refuses.
            off = status in (401, 403) if admitted is PUBLIC else status != 401
        else:
            off = status in (401, 403) if call.role in admitted else status != 403
        if off:
            wrong.append((call.method, call.path, call.role, status))
    assert wrong == [], "\n".join(f"{m} {p} as {r}: {s}" for m, p, r, s in wrong)
    assert sum(call.token is not None for call in calls) >= 80 * len(ALL_ROLES)


def test_team_leads_and_agents_are_refused_for_another_teams_agent(
    app_client: TestClient, token_for: TokenFor
) -> None:
    calls: list[Call] = []
    for (method, path), admitted in MATRIX.items():
        if "{agent_id}" not in path or method == "WEBSOCKET":
            continue
        assert admitted is not PUBLIC
        url = _concrete(path, agent_id=OTHER_TEAMS_AGENT)
        calls += [Call(method, path, url, token_for(role), role) for role in ALL_ROLES]
    wrong: list[tuple[str, str, str, int]] = []
    for call, status in zip(calls, _statuses(app_client, calls), strict=True):
        foreign = FOREIGN_AGENT.get((call.method, call.path), frozenset())
        if (status == 403) == (call.role in foreign):
            wrong.append((call.method, call.url, call.role, status))
    assert wrong == [], "\n".join(f"{m} {p} as {r}: {s}" for m, p, r, s in wrong)
    assert len(calls) >= 15 * len(ALL_ROLES)
