"""Carrying out a desk action: a command to the one routing engine, or to the phone call.

A command that does not fit the engine's state — answering a call the caller already left —
is a 409 with the engine's reason. When the contact is a phone call of the voice server, the
action goes to the SIP call instead (hold plays music to the caller, hang-up ends the agent's
leg, ...), which also tells the engine.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request, status

from hotline.live.driver import LiveDriver
from hotline.routing.model import Command, RoutingConflict
from hotline.telephony.call_center import CallCenter
from hotline.telephony.ports import TransferRefused
from hotline.web.api.live.guards import driver_of, holding, own, phone_call
from hotline.web.api.live.schemas import CommandApplied
from hotline.web.auth import CurrentUser


async def apply_command(driver: LiveDriver, make: Callable[[float], Command]) -> CommandApplied:
    """Apply one engine command; 409 with the engine's reason when it does not fit."""
    try:
        result = await driver.command(make)
    except RoutingConflict as conflict:
        raise HTTPException(status.HTTP_409_CONFLICT, str(conflict)) from None
    return CommandApplied(ok=True, events=[e.kind.value for e in result.events])


def on_phone(action: Callable[[], None]) -> CommandApplied:
    """Carry out an action on the SIP call; 409 when the voice server refuses it."""
    try:
        action()
    except TransferRefused as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
    return CommandApplied(ok=True, events=[], phone=True)


async def control(
    request: Request,
    user: CurrentUser,
    agent_id: str,
    contact_id: str,
    *,
    command: Callable[[float], Command],
    phone: Callable[[CallCenter], None],
) -> CommandApplied:
    """One call control by the agent holding the contact: on the SIP call when it is a phone
    call (``phone``, which also tells the engine), else the engine ``command``."""
    own(user, agent_id)
    driver = driver_of(request)
    holding(driver, agent_id, contact_id)
    call = phone_call(request, contact_id)
    if call is not None:
        return on_phone(lambda: phone(call))
    return await apply_command(driver, command)
