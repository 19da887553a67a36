"""The partition owner's answers to the transfers a voice node asks it for (issue #20).

A voice node has no engine: a transfer on one of its calls moves nothing until the owner has
applied it. Two kinds of ``transfer`` inbox row wait for an answer, and the owner gives one
either way, in the same fenced batch as the inbox position (so a takeover that re-applies the
row answers it again, and a batch written twice answers nothing twice):

* **An agent's phone's REFER** (the row's ``refer``: the phone has left the call). Applied,
  the engine logs ``transferred`` and the node moves the call. Refused (the agent busy or
  absent, the queue closed…), the owner ends the conversation in its engine at once — the
  phone is gone, as on the one-process server — and the ``disconnected`` it logs says
  ``transfer_refused`` (the REFER's target) and ``reason`` (the engine's): that event is the
  answer the node acts on (the caller gets the survey). A field on the event the refusal
  causes anyway, not an event of its own: one event, nothing new for reports, web nodes'
  boards or a takeover's fold to learn, and the end can never come without the answer.
  The node never takes silence for a refusal, so it cannot give up on a transfer that the
  owner applies later: only the owner decides, once, in its log.
* **A desk's transfer to an outside number** through a voice node (the row's
  ``voice_request``, :mod:`hotline.telephony.voice_requests`). The owner answers the desk's
  request itself — ``done`` when its engine applied the transfer (the node then carries out
  the logged ``transferred``), ``failed`` with :data:`~hotline.store.voice_requests.
  ROUTING_REFUSED` when it refused (the call stays with the agent) — so the desk hears the
  owner's decision, and the call never moves before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from hotline.core.events import Channel, Event, EventKind
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import Command, ContactEnded, RoutingConflict
from hotline.store import voice_requests
from hotline.store.models.cluster import PartitionInboxRow


def waits_for_answer(row: PartitionInboxRow) -> bool:
    """Whether an inbox row is a transfer a voice node waits on the owner to answer."""
    return row.kind == "transfer" and bool(
        row.payload.get("refer") or row.payload.get("voice_request")
    )


@dataclass(frozen=True)
class Answer:
    """The owner's answer to a desk's request, due with the batch covering inbox ``row``."""

    row: int
    request: int
    ok: bool
    result: dict[str, Any]


class TransferAnswers:
    """The answers to desks' requests the owner owes, written in its fenced batches.

    :meth:`before_write` runs in each write transaction: it answers the requests whose inbox
    row the batch's position covers and forgets them only once that transaction commits (a
    batch that fails is written again, with them)."""

    def __init__(self) -> None:
        self.owed: list[Answer] = []
        self.answered = 0

    def add(self, answer: Answer) -> None:
        """Owe ``answer`` (written with the batch that covers its row)."""
        self.owed.append(answer)

    def before_write(self, session: Session, position: int) -> None:
        """Answer, in the owner's write transaction, the requests its position covers."""
        due = [a for a in self.owed if a.row <= position]
        for answer in due:
            voice_requests.answer_by_owner(
                session, answer.request, ok=answer.ok, result=answer.result
            )
        if due:

            def written(_: Session) -> None:
                self.owed = [a for a in self.owed if a not in due]
                self.answered += len(due)

            sa_event.listen(session, "after_commit", written, once=True)


def _refused_refer(
    engine: RoutingEngine, contact_id: str, target: str, why: str, now: float
) -> Result:
    """End the conversation whose phone left by REFER and whose transfer the engine refused;
    its ``disconnected`` says ``transfer_refused`` (the answer the voice node acts on)."""
    said = {"by": "agent", "transfer_refused": target, "reason": why}
    try:
        ended = engine.handle(ContactEnded(at=now, contact_id=contact_id))
    except RoutingConflict:
        ended = Result()  # not in conversation in the engine any more: the node still waits
    events = [
        Event(e.seq, e.at, e.kind, e.contact_id, e.agent_id, e.queue, e.channel, {**e.data, **said})
        if e.kind is EventKind.DISCONNECTED and e.contact_id == contact_id
        else e
        for e in ended.events
    ]
    if not any(e.kind is EventKind.DISCONNECTED for e in events):
        events.insert(
            0, Event(0, now, EventKind.DISCONNECTED, contact_id, None, None, Channel.VOICE, said)
        )
    return Result(ended.effects, events)


def answered_transfer(
    row: PartitionInboxRow,
    command: Callable[[PartitionInboxRow, float], Command],
    answers: TransferAnswers,
) -> Callable[[RoutingEngine, float], tuple[None, Result]]:
    """The engine job applying a transfer row a voice node waits on (:func:`waits_for_answer`)
    and answering it either way. A refused desk's transfer out still raises the engine's
    :class:`RoutingConflict` (counted and logged as any refused row) after owing its answer."""
    p = row.payload
    contact_id = str(p.get("contact_id"))
    request = p.get("voice_request")

    def job(engine: RoutingEngine, now: float) -> tuple[None, Result]:
        try:
            result = engine.handle(command(row, now))
        except RoutingConflict as refused:
            if request is not None:
                detail = {"reason": voice_requests.ROUTING_REFUSED, "detail": str(refused)}
                answers.add(Answer(row.id, int(request), False, detail))
            if p.get("refer"):
                return None, _refused_refer(engine, contact_id, str(p["refer"]), str(refused), now)
            raise
        if request is not None:
            answers.add(Answer(row.id, int(request), True, {"contact_id": contact_id}))
        return None, result

    return job
