"""Whisper and barge from the wallboard, and the coached agent's notice on the desk, in
headless Chromium against the real server.

A supervisor (zh-CN) sees Listen, Whisper and Barge in on a talking agent's row, whispers,
and the row says who coaches the agent; the row's other modes' buttons then switch the
session (to barge here). The agent's desk (English) shows the notice while the session is on
(the live feed's ``coached`` message, as the voice server publishes it), still shows it after
a reload in the middle of the session (the desk's view says so), and loses it when the
session ends. The whisper and the switch are on the audit record; both pages pass axe-core.

The voice server is the in-tree fake of the listening API's tests (its real sessions are
tested in ``tests/unit/telephony/test_supervision.py``). Runs with ``HOTLINE_E2E=1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from hotline.store.models.core import AuditEntry
from hotline.telephony.joined import LiveVoice
from hotline.telephony.server import ServerOptions
from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.test_crisis_page import Site, _signed_in, browser, floor_site
from tests.integration.live.test_listening_api import FakeVoice

pytestmark = pytest.mark.e2e
__all__ = ["browser"]  # the crisis page's Chromium, a fixture of this module too


class Voice(FakeVoice):
    """The listening API's fake voice server; no call of it is the desk's to control."""

    def handles(self, contact_id: str) -> bool:
        return False


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with floor_site(tmp_path_factory, "coaching") as served:
        # a voice server without SIP over WebSocket: the desk's softphone says so
        options = SimpleNamespace(ws_port=None)
        voice = Voice(registered={"boss"})
        served.app.state.voice = SimpleNamespace(parts=object(), center=voice, options=options)
        yield served


def _api(page: Any, site: Site, method: str, path: str, body: Any = None) -> Any:
    answer = page.request.fetch(
        site.url + path, method=method, data=body, headers={"Origin": site.url}
    )
    assert answer.ok, answer.text()
    return answer.json()


def test_a_supervisor_whispers_from_the_wallboard_and_the_desk_says_so(
    site: Site, browser: Any
) -> None:
    voice: Voice = site.app.state.voice.center
    boss = _signed_in(browser, site, "boss", "zh-CN")
    boss.goto(f"{site.url}/wallboard")
    amy = _signed_in(browser, site, "amy", "en")
    amy.goto(f"{site.url}/desk?lang=en")
    amy.wait_for_function("() => document.body.dataset.live", timeout=10000)
    # a002 ready, a caller for installation offered to them and answered: talking
    _api(boss, site, "POST", "/api/live/agents/a002/state", {"state": "ready"})
    contact = _api(boss, site, "POST", "/api/live/contacts", {"queue": "installation"})[
        "contact_id"
    ]
    _api(amy, site, "POST", f"/api/live/agents/a002/contacts/{contact}/answer")
    voice.calls[contact] = SimpleNamespace(finished=False, agent_id="a002", answered_at=1.0)

    row = boss.locator("#agents-table tbody tr[data-agent='a002']")
    whisper = row.get_by_role("button", name="密语")
    whisper.wait_for(timeout=10000)
    assert row.get_by_role("button", name="监听").is_visible()
    assert row.get_by_role("button", name="强插").is_visible()
    assert serious_violations(boss) == []
    whisper.click()
    boss.wait_for_function(
        "() => document.querySelector(\"tr[data-agent='a002'] .listened\")"
        ".textContent.includes('密语指导人: boss')",
        timeout=10000,
    )
    # one session per call: its own supervisor's row offers the other modes, to switch
    assert whisper.is_hidden()
    assert row.get_by_role("button", name="监听", exact=True).is_visible()
    session = voice.supervisions.by_contact[contact]
    assert session.mode == "whisper"
    row.get_by_role("button", name="强插").click()
    boss.wait_for_function(
        "() => document.querySelector(\"tr[data-agent='a002'] .listened\")"
        ".textContent.includes('强插人: boss')",
        timeout=10000,
    )
    assert session.mode == "barge" and voice.supervisions.by_contact[contact] is session
    assert whisper.is_visible() and row.get_by_role("button", name="强插").is_hidden()

    # the voice server tells the agent's feed when the supervisor's phone is connected
    server = LiveVoice(site.driver, ServerOptions(workdir=Path(), prompts=Path(), phones=()))
    notice = amy.locator("#coached")
    assert notice.is_hidden()
    session.answered = True  # the supervisor's phone connected
    site.app.state.hub.publish_threadsafe(server.coached_message(session, on=True))
    notice.wait_for(state="visible", timeout=10000)
    barged = "A supervisor joined the call (the caller hears them too): boss"
    assert notice.inner_text() == barged
    assert serious_violations(amy) == []
    # the agent reloads the desk mid-session: it asks, and shows the notice again
    amy.reload()
    amy.wait_for_function("() => document.body.dataset.live", timeout=10000)
    notice.wait_for(state="visible", timeout=10000)
    assert notice.inner_text() == barged
    site.app.state.hub.publish_threadsafe(server.coached_message(session, on=False))
    notice.wait_for(state="hidden", timeout=10000)

    with site.factory() as db:
        rows = db.scalars(select(AuditEntry).where(AuditEntry.action.like("call.%"))).all()
    assert [(r.actor, r.action, r.target, r.detail) for r in rows] == [
        ("boss", "call.whisper", contact, {"agent_id": "a002"}),
        (
            "boss",
            "call.supervise_mode",
            contact,
            {"agent_id": "a002", "from": "whisper", "to": "barge"},
        ),
    ]
