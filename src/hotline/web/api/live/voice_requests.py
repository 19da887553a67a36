"""Click-to-dial and transfers to outside numbers from a web node, through a voice node.

A web node (``hotline serve --web-only``) has no voice server: the agents' phones are
registered through the partition's voice nodes. A desk's request becomes a row in
``voice_requests`` (:mod:`hotline.store.voice_requests`) in the request's writer transaction
with its audit entry — committed at once, so that a voice node (another process) can claim it
while the request waits. The voice node through which the agent's phone is registered (a
dial), or that carries the call (a transfer), claims it, carries it out and answers; the desk
gets that answer: the call's contact id, or a 409 naming why it failed (``reason``: the voice
node refused — no trunk, the number on a do-not-call list —, the partition owner's engine
refused a transfer out (``routing_refused``: the call stays with the agent), no live node
took it within :data:`~hotline.store.voice_requests.CLAIM_S`, or the node died before it
answered). The desk shows the reason in the user's language (``desk.voice_<reason>``).
The request is audited when made (``voice.dial``, ``voice.transfer_out``) and what the desk
was told when it is told (``voice.answered``: the state, the contact id or the reason), so
the row can be deleted once answered a while (:func:`voice_requests.prune`, run by the
voice nodes).

The wait cannot go wrong late: when it ends the web node fails the request in one conditional
``UPDATE`` unless a node has begun placing it (:func:`voice_requests.give_up`), and a node
places nothing it could not first mark ``placing`` (:func:`voice_requests.begin`) — so a desk
told ``voice_node_silent`` never gets the call, and one whose request a node began hears that
node's answer. A request whose node died before it began goes back to ``pending`` and is
claimed by another node through which the phone is registered, within the same wait.

The one-process server started without a voice server (``hotline serve`` without ``--sip``)
asks the voice nodes the same way when its database has live ones
(:func:`voice_node_partition`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from hotline.identity import audit
from hotline.store import voice_requests
from hotline.store.db import reading, writing
from hotline.web.access import current_center

#: How often the request's answer is looked for (s).
POLL_S = 0.05
#: How long a claimed request may take to answer before the desk hears "no answer" (s): a
#: dial answers once the agent's phone is rung, a transfer at once.
ANSWER_S = 10.0
#: How long a request a node has begun placing may take to answer, from when it began or
#: from the end of the wait above, whichever is later (s).
PLACING_S = 5.0
#: The node began placing it and said nothing more in time (it may still ring): never said of
#: a request no node began, which fails ``voice_node_silent`` and is never placed.
UNCONFIRMED = "placing_unconfirmed"


class VoiceRequestFailed(HTTPException):
    """409 with the reason a voice node's request failed (the desk localizes ``reason``)."""

    def __init__(self, reason: str, detail: str, request_id: int) -> None:
        super().__init__(409, detail)
        self.reason = reason
        self.request_id = request_id

    def body(self) -> dict[str, Any]:
        """The JSON answer: ``error``, ``reason``, ``message``, ``request``."""
        return {
            "error": "voice_request_failed",
            "reason": self.reason,
            "message": str(self.detail),
            "request": self.request_id,
        }


async def through_voice_node(
    request: Request,
    session: Session,
    *,
    actor: str,
    partition: str,
    kind: str,
    agent_id: str,
    number: str,
    contact_id: str | None = None,
    answer_s: float | None = None,
) -> dict[str, Any]:
    """Ask the partition's voice nodes to carry out ``kind`` and wait for the answer; return
    its result (``{"contact_id": …}``); raise :class:`VoiceRequestFailed` when it failed."""
    claim_s = voice_requests.CLAIM_S
    answer_s = ANSWER_S if answer_s is None else answer_s
    request_id = voice_requests.submit(
        session,
        partition=partition,
        kind=kind,
        agent_id=agent_id,
        number=number,
        requested_by=actor,
        contact_id=contact_id,
    )
    target = contact_id or f"voice_request:{request_id}"
    audit.record(
        session,
        actor=actor,
        action="voice.dial" if kind == voice_requests.DIAL else "voice.transfer_out",
        target=target,
        detail={"agent_id": agent_id, "number": number, "voice_request": request_id},
    )
    # Committed now, not when the handler ends: a voice node must see the row (and on
    # SQLite the request's transaction would hold the database's write lock meanwhile).
    await run_in_threadpool(session.commit)
    factory = request.app.state.session_factory
    deadline = time.monotonic() + claim_s + answer_s
    expire_at = 0.0
    placing_until: float | None = None
    while True:
        found = await run_in_threadpool(_outcome, factory, request_id)
        assert found is not None
        if found.state in voice_requests.FINAL:
            # What the desk is told goes to the audit log too: the row itself is deleted
            # once past the voice nodes' retention (voice_requests.prune).
            await run_in_threadpool(_audit_answer, factory, actor, target, found)
        if found.state == voice_requests.DONE:
            return found.result or {}
        if found.state == voice_requests.FAILED:
            result = found.result or {}
            raise VoiceRequestFailed(
                str(result.get("reason", voice_requests.REFUSED)),
                str(result.get("detail", "the voice node refused")),
                request_id,
            )
        now = time.monotonic()
        unclaimed_too_long = found.state == voice_requests.PENDING and found.waiting_s >= claim_s
        if (unclaimed_too_long or found.state == voice_requests.CLAIMED) and now >= expire_at:
            # Unclaimed too long, or claimed by a node that may have died since (then it goes
            # back to pending for another node): settle it on the database's clock, twice a
            # second at most, then read what that left.
            expire_at = now + 0.5
            await run_in_threadpool(_expire, factory, partition, claim_s)
            continue
        if now > deadline and found.state in (voice_requests.PENDING, voice_requests.CLAIMED):
            # Stop waiting — unless a node begins placing it first: the one conditional UPDATE
            # decides, and the next read says which (failed with its reason, or placing).
            waited = round(claim_s + answer_s, 1)
            await run_in_threadpool(_give_up, factory, request_id, waited)
            continue
        if found.state == voice_requests.PLACING:
            # The node is dialling or transferring: what it answers is what the desk hears,
            # within PLACING_S more (originate and transfer_out answer in well under a second).
            placing_until = placing_until or max(now, deadline) + PLACING_S
            if now > placing_until:
                await run_in_threadpool(_audit_answer, factory, actor, target, found)
                raise VoiceRequestFailed(
                    UNCONFIRMED,
                    f"the voice node began placing it but did not confirm within "
                    f"{PLACING_S:g} s: it may still ring",
                    request_id,
                )
        await asyncio.sleep(POLL_S)


def voice_node_partition(request: Request, session: Session, agent_id: str) -> str | None:
    """On the one-process server without a voice server (no ``--sip``): the partition whose
    live voice nodes to ask for ``agent_id`` — the agent's site when it has live voice nodes,
    else the one partition that has; ``None`` (this server takes no phone calls) when this
    server has a voice server, no voice node is live, or several partitions have live nodes
    and none is the agent's site."""
    if getattr(request.app.state, "voice", None) is not None:
        return None
    live = voice_requests.live_partitions(session)
    center = current_center(request)
    site = center.agent_sites().get(agent_id) if center is not None else None
    if site is not None and site in live:
        return site
    return live[0] if len(live) == 1 else None


def _outcome(factory: Any, request_id: int) -> voice_requests.Outcome | None:
    with reading(factory(), purpose="a voice request's answer") as session:
        return voice_requests.outcome(session, request_id)


#: The audit action of what a desk was told of its request (after ``voice.dial`` or
#: ``voice.transfer_out``, which name the same ``voice_request``).
ANSWERED = "voice.answered"


def _audit_answer(factory: Any, actor: str, target: str, found: voice_requests.Outcome) -> None:
    """Record what the desk is told: ``done`` (the call's contact id), ``failed`` (the
    reason), or still ``placing`` (:data:`UNCONFIRMED`)."""
    result = found.result or {}
    detail: dict[str, Any] = {"voice_request": found.id, "state": found.state}
    if found.state == voice_requests.PLACING:
        detail["reason"] = UNCONFIRMED
    elif "reason" in result:
        detail["reason"] = result["reason"]
    if "contact_id" in result:
        detail["contact_id"] = result["contact_id"]
    with writing(factory()) as session:
        audit.record(session, actor=actor, action=ANSWERED, target=target, detail=detail)
        session.commit()


def _give_up(factory: Any, request_id: int, waited_s: float) -> bool:
    with writing(factory()) as session:
        gave_up = voice_requests.give_up(session, request_id, waited_s=waited_s)
        session.commit()
    return gave_up


def _expire(factory: Any, partition: str, claim_s: float) -> None:
    with writing(factory()) as session:
        voice_requests.expire(session, partition=partition, claim_s=claim_s)
        session.commit()
