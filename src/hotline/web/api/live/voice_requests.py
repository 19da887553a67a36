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

#: How often the request's answer is looked for (s).
POLL_S = 0.05
#: How long a claimed request may take to answer before the desk hears "no answer" (s): a
#: dial answers once the agent's phone is rung, a transfer at once.
ANSWER_S = 10.0
NO_ANSWER = "voice_node_silent"


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
    answer_s: float = ANSWER_S,
) -> dict[str, Any]:
    """Ask the partition's voice nodes to carry out ``kind`` and wait for the answer; return
    its result (``{"contact_id": …}``); raise :class:`VoiceRequestFailed` when it failed."""
    claim_s = voice_requests.CLAIM_S
    request_id = voice_requests.submit(
        session,
        partition=partition,
        kind=kind,
        agent_id=agent_id,
        number=number,
        requested_by=actor,
        contact_id=contact_id,
    )
    audit.record(
        session,
        actor=actor,
        action="voice.dial" if kind == voice_requests.DIAL else "voice.transfer_out",
        target=contact_id or f"voice_request:{request_id}",
        detail={"agent_id": agent_id, "number": number, "voice_request": request_id},
    )
    # Committed now, not when the handler ends: a voice node must see the row (and on
    # SQLite the request's transaction would hold the database's write lock meanwhile).
    await run_in_threadpool(session.commit)
    factory = request.app.state.session_factory
    deadline = time.monotonic() + claim_s + answer_s
    expire_at = 0.0
    while True:
        found = await run_in_threadpool(_outcome, factory, request_id)
        assert found is not None
        if found.state == voice_requests.DONE:
            return found.result or {}
        if found.state == voice_requests.FAILED:
            result = found.result or {}
            raise VoiceRequestFailed(
                str(result.get("reason", voice_requests.REFUSED)),
                str(result.get("detail", "the voice node refused")),
                request_id,
            )
        if found.age_s >= claim_s and time.monotonic() >= expire_at:
            # Unclaimed too long, or claimed by a node that may have died since: fail it on
            # the database's clock (twice a second at most), then read what that left.
            expire_at = time.monotonic() + 0.5
            await run_in_threadpool(_expire, factory, partition, claim_s)
            continue
        if time.monotonic() > deadline:
            raise VoiceRequestFailed(
                NO_ANSWER,
                f"the voice node took the request but did not answer within {answer_s:g} s",
                request_id,
            )
        await asyncio.sleep(POLL_S)


def _outcome(factory: Any, request_id: int) -> voice_requests.Outcome | None:
    with reading(factory(), purpose="a voice request's answer") as session:
        return voice_requests.outcome(session, request_id)


def _expire(factory: Any, partition: str, claim_s: float) -> None:
    with writing(factory()) as session:
        voice_requests.expire(session, partition=partition, claim_s=claim_s)
        session.commit()
