"""One phone-registration policy: what a phone registering or going away does to an agent.

A state a person chose (a break, any not-ready reason code, chosen by the agent or a
supervisor) is never overridden by a phone; a logged-out agent whose phone registers is logged
in; an agent the system made not ready because their last phone went away is ready again when
a phone registers. The pure functions decide; both routers (the voice server's own engine
here, the web app's live engine in ``tests/integration/telephony/test_live_router.py``) call
them.
"""

from __future__ import annotations

import asyncio

import pytest

from hotline.live.phones import (
    PHONE_UNREGISTERED,
    PhoneAction,
    on_phone_registered,
    on_phone_unregistered,
)
from hotline.routing.model import AgentNotReady, AgentState
from tests.unit.telephony.test_call_center import Rig

PHONE = "sip:1001@127.0.0.1:5071"


@pytest.mark.parametrize(
    ("state", "reason", "action"),
    [
        (AgentState.LOGGED_OUT, None, PhoneAction.LOG_IN),
        (AgentState.NOT_READY, PHONE_UNREGISTERED, PhoneAction.READY),
        (AgentState.NOT_READY, "lunch", None),
        (AgentState.NOT_READY, "coaching", None),
        (AgentState.WRAP_UP, "lunch", None),  # a break chosen during wrap-up starts after it
        (AgentState.AVAILABLE, None, None),
        (AgentState.ON_CONTACT, None, None),
    ],
)
def test_a_phone_registering(state: AgentState, reason: str | None, action: object) -> None:
    assert on_phone_registered(state=state, reason=reason) == action


@pytest.mark.parametrize(
    ("state", "reason", "action"),
    [
        (AgentState.AVAILABLE, None, PhoneAction.NOT_READY),
        (AgentState.ON_CONTACT, None, PhoneAction.NOT_READY),  # not ready for the next call
        (AgentState.NOT_READY, "lunch", None),
        (AgentState.NOT_READY, PHONE_UNREGISTERED, None),
        (AgentState.LOGGED_OUT, None, None),
    ],
)
def test_the_last_phone_going_away(state: AgentState, reason: str | None, action: object) -> None:
    assert on_phone_unregistered(state=state, reason=reason) == action


def _states(rig: Rig) -> list[tuple[object, object]]:
    return [(d["state"], d.get("reason")) for d in rig.data("agent_state") if d]


def test_a_phone_coming_and_going_never_ends_a_break_on_the_voice_servers_engine() -> None:
    rig = Rig()
    engine = rig.router.engine

    async def scenario() -> None:
        rig.center.registration_changed("1001", PHONE)
        assert engine.agent_state("a001") is AgentState.AVAILABLE
        # the agent (or a supervisor) chooses a break
        result = engine.handle(AgentNotReady(at=rig.clock.now(), agent_id="a001", reason="lunch"))
        for event in result.events:
            rig.sink.append(event)
        rig.center.registration_changed("1001", None)  # the phone goes away during the break
        assert engine.agent_reason("a001") == "lunch"
        rig.center.registration_changed("1001", PHONE)  # and comes back
        await rig.center.drain()

    asyncio.run(scenario())
    assert engine.agent_state("a001") is AgentState.NOT_READY
    assert engine.agent_reason("a001") == "lunch"
    assert _states(rig)[-1] == ("not_ready", "lunch")


def test_a_phone_coming_back_makes_ready_an_agent_the_system_made_not_ready() -> None:
    rig = Rig()
    engine = rig.router.engine

    async def scenario() -> None:
        rig.center.registration_changed("1001", PHONE)  # logged out: logged in, ready
        rig.center.registration_changed("1001", None)
        assert engine.agent_reason("a001") == PHONE_UNREGISTERED
        rig.center.registration_changed("1001", PHONE)
        await rig.center.drain()

    asyncio.run(scenario())
    assert engine.agent_state("a001") is AgentState.AVAILABLE
    assert _states(rig) == [
        ("available", None),
        ("not_ready", PHONE_UNREGISTERED),
        ("available", None),
    ]


def test_an_agent_the_dialler_lets_go_after_their_phone_went_is_ready_when_it_comes_back() -> None:
    """The dialler holds a campaign's agents as not ready ("campaign"); a phone going away
    meanwhile keeps that reason (a chosen state is never overridden by a phone). Handing such
    an agent back must leave them as a lost phone would, or the phone coming back would not
    make them ready and they would sit out of the ACD for good."""
    rig = Rig()
    engine = rig.router.engine

    async def scenario() -> None:
        rig.center.registration_changed("1001", PHONE)
        now = rig.clock.now()
        rig.center.route(rig.router.hold_agent(at=now, agent_id="a001", reason="campaign"))
        rig.center.registration_changed("1001", None)
        assert engine.agent_reason("a001") == "campaign"
        rig.center.route(rig.router.release_agent(at=now, agent_id="a001", phone=False))
        assert engine.agent_reason("a001") == PHONE_UNREGISTERED
        rig.center.registration_changed("1001", PHONE)
        await rig.center.drain()

    asyncio.run(scenario())
    assert engine.agent_state("a001") is AgentState.AVAILABLE
