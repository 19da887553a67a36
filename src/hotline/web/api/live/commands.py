"""Carrying out a desk action: a command to the one routing engine, or to the phone call, or
to the partition's owner through its inbox.

A command that does not fit the engine's state — answering a call the caller already left —
is a 409 with the engine's reason. When the contact is a phone call of the voice server, the
action goes to the SIP call instead (hold plays music to the caller, hang-up ends the agent's
leg, ...), which also tells the engine.

On a web node without the engine (``hotline serve --web-only``) the action is checked against
the floor as the log shows it (:class:`hotline.live.log_board.LogBoard`: a 409 when the log
shows it cannot be done — answering a contact not ringing at the agent, wrapping up one still
in conversation) and goes into the partition's inbox in the request's writer transaction. The
answer is at once, as for a state change: ``accepted`` names the inbox row and ``events`` is
empty; what the owner did arrives on the live stream, from the log. We chose not to wait for
the owner's event: the owner applies the inbox within a poll (tens of milliseconds), a desk
already follows the stream for everything else the owner does, and a request that waited would
tie the web node's answers to the owner's health (a takeover takes seconds) for no more than
the stream tells. An action the owner still refuses (the caller hung up meanwhile) is logged
there and changes nothing, as a refused command does on one node.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hotline.live.driver import LiveDriver
from hotline.live.log_board import LogBoard
from hotline.routing.model import Command, RoutingConflict
from hotline.store import partitions
from hotline.telephony.call_center import CallCenter
from hotline.telephony.ports import TransferRefused
from hotline.web.api.live.guards import (
    driver_of,
    holding,
    log_board_of,
    own,
    phone_call,
    web_only_partition,
)
from hotline.web.api.live.schemas import CommandApplied
from hotline.web.auth import CurrentUser


@dataclass(frozen=True)
class InboxAction:
    """A desk action as the partition's inbox carries it to the owner (from a web node).

    ``kind`` and ``payload`` are the inbox row's (:func:`hotline.live.ownership.inbox_command`
    reads them back into the engine's command); ``stages`` are where the log must show the
    contact in the agent's hands, ``on_hold`` whether it must be on hold (``None``: either).
    """

    kind: str
    payload: dict[str, Any]
    stages: tuple[str, ...] = ("talking",)
    on_hold: bool | None = None


def check_on_log(board: LogBoard, agent_id: str, contact_id: str, action: InboxAction) -> None:
    """409 unless the log shows ``contact_id`` with ``agent_id`` as ``action`` needs it."""
    stage = board.holding(agent_id).get(contact_id)
    if stage not in action.stages:
        shown = f"{stage}" if stage else "not with them"
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"{contact_id} is not {' or '.join(action.stages)} at agent {agent_id} "
            f"(the log shows it {shown})",
        )
    if action.on_hold is not None and board.on_hold(contact_id) != action.on_hold:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"{contact_id} is {'not ' if action.on_hold else 'already '}on hold",
        )


async def on_web_node(
    request: Request, session: Session, agent_id: str, contact_id: str, action: InboxAction
) -> CommandApplied | None:
    """Carry out ``action`` through the inbox when this is a web node without the engine
    (checked against the log first); ``None`` when the engine is in process.

    The row goes in ``session``, the request's writer transaction (committed as the handler
    ends): the signed-in user's session is that one, and on SQLite it holds the write gate
    until then, so a second session would wait for it for ever.
    """
    board = log_board_of(request)
    if board is None:
        return None
    check_on_log(board, agent_id, contact_id, action)
    return await to_owner(request, session, action.kind, action.payload)


async def to_owner(
    request: Request, session: Session, kind: str, payload: dict[str, Any]
) -> CommandApplied:
    """Put one action (an inbox ``kind`` and its ``payload``) in the partition's inbox for its
    owner, in ``session`` — the request's writer transaction (see :func:`on_web_node`)."""
    partition = web_only_partition(request)
    assert partition is not None, "only a web node without the engine sends to the owner"
    row = await run_in_threadpool(
        partitions.accept, session, partition=partition, kind=kind, payload=payload, at=time.time()
    )
    return CommandApplied(ok=True, events=[], accepted=row)


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
    session: Session,
    user: CurrentUser,
    agent_id: str,
    contact_id: str,
    *,
    command: Callable[[float], Command],
    phone: Callable[[CallCenter], None],
    inbox: InboxAction,
) -> CommandApplied:
    """One call control by the agent holding the contact: on the SIP call when it is a phone
    call (``phone``, which also tells the engine), else the engine ``command``; on a web node
    without the engine, ``inbox`` to the owner."""
    own(user, agent_id)
    sent = await on_web_node(request, session, agent_id, contact_id, inbox)
    if sent is not None:
        return sent
    driver = driver_of(request)
    holding(driver, agent_id, contact_id)
    call = phone_call(request, contact_id)
    if call is not None:
        return on_phone(lambda: phone(call))
    return await apply_command(driver, command)
