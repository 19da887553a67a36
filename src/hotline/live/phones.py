"""What an agent's phone registering or going away does to the agent's state: one policy.

It is decided here, for every router — the voice server's own engine
(:class:`hotline.telephony.acd.EngineRouter`), the web server's live driver and a partition
owner applying a voice node's ``phone_registered`` / ``phone_unregistered`` inbox rows
(:func:`phone_changed`): a logged-out agent is logged in, an agent the system made not ready
because the phone went away is ready again, and a state a person chose (a break, a reason
code) is never overridden.
"""

from __future__ import annotations

from enum import StrEnum

from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import (
    AgentLoggedIn,
    AgentNotReady,
    AgentReady,
    AgentState,
    Command,
    OfferRejected,
    RoutingConflict,
)

#: The not-ready reason the system gives an agent whose last phone went away.
PHONE_UNREGISTERED = "phone_unregistered"


class PhoneAction(StrEnum):
    """What an agent's phone registering or going away does to the agent's state."""

    LOG_IN = "log_in"
    READY = "ready"
    NOT_READY = "not_ready"


def on_phone_registered(*, state: AgentState, reason: str | None) -> PhoneAction | None:
    """What the agent's first phone registering does: the one phone-registration policy.

    ``state`` is the agent's state and ``reason`` the not-ready reason code of their presence
    (``None`` unless not ready), as the routing engine reports them.

    - A logged-out agent is logged in, ready, with the skills the center configuration gives
      them (the phone is how a voice agent signs in).
    - An agent the system made not ready because their last phone went away
      (:data:`PHONE_UNREGISTERED`) is ready again.
    - A state a person chose — a break or any other not-ready reason code, chosen by the agent
      or a supervisor — is never overridden by a phone; nor is an agent who is already ready
      or on a contact changed.

    >>> on_phone_registered(state=AgentState.LOGGED_OUT, reason=None)
    <PhoneAction.LOG_IN: 'log_in'>
    >>> on_phone_registered(state=AgentState.NOT_READY, reason="phone_unregistered")
    <PhoneAction.READY: 'ready'>
    >>> on_phone_registered(state=AgentState.NOT_READY, reason="lunch") is None
    True
    """
    if state is AgentState.LOGGED_OUT:
        return PhoneAction.LOG_IN
    if reason == PHONE_UNREGISTERED:
        return PhoneAction.READY
    return None


def on_phone_unregistered(*, state: AgentState, reason: str | None) -> PhoneAction | None:
    """What the agent's last phone going away does (the other half of the policy).

    A ready agent (available, or busy with a contact and ready for the next) is made not
    ready with reason :data:`PHONE_UNREGISTERED`, so no call rings a phone that is gone. An
    agent already not ready keeps their reason: a break stays a break, and a phone
    registering later does not end it. A logged-out agent stays logged out.

    >>> on_phone_unregistered(state=AgentState.AVAILABLE, reason=None)
    <PhoneAction.NOT_READY: 'not_ready'>
    >>> on_phone_unregistered(state=AgentState.NOT_READY, reason="lunch") is None
    True
    """
    if state is AgentState.LOGGED_OUT or reason is not None:
        return None
    return PhoneAction.NOT_READY


def phone_changed(
    engine: RoutingEngine, *, agent_id: str, registered: bool, now: float
) -> Result | None:
    """Apply the policy to ``engine`` for the agent's first phone registered (``registered``)
    or last phone gone: the commands it asks for, in one result (``None`` when nothing).

    A phone gone withdraws the offers ringing there first (the phone that rang is gone), so
    the contacts go to the next agent at once rather than at the ring-no-answer timer.
    """
    state = engine.agent_state(agent_id)
    reason = engine.agent_reason(agent_id)
    commands: list[Command] = []
    if registered:
        action = on_phone_registered(state=state, reason=reason)
        if action is PhoneAction.LOG_IN:
            commands.append(AgentLoggedIn(at=now, agent_id=agent_id, ready=True))
        elif action is PhoneAction.READY:
            commands.append(AgentReady(at=now, agent_id=agent_id))
    elif state is not AgentState.LOGGED_OUT:
        for contact_id, stage in engine.agent_contacts(agent_id).items():
            if stage == "ringing":
                commands.append(OfferRejected(at=now, contact_id=contact_id, agent_id=agent_id))
        if on_phone_unregistered(state=state, reason=reason) is PhoneAction.NOT_READY:
            commands.append(AgentNotReady(at=now, agent_id=agent_id, reason=PHONE_UNREGISTERED))
    if not commands:
        return None
    merged = Result()
    for command in commands:
        try:
            result = engine.handle(command)
        except RoutingConflict:
            continue
        merged.effects.extend(result.effects)
        merged.events.extend(result.events)
    return merged
