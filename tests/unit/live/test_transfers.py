"""The partition owner answers the transfers a voice node waits on (``hotline.live.transfers``):
an agent's REFER refused ends the conversation with a ``disconnected`` saying
``transfer_refused``; a desk's transfer out is answered in the owner's fenced write, applied
or refused, once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from hotline.core.clock import ManualClock
from hotline.live.driver import LiveDriver
from hotline.live.ownership import inbox_command
from hotline.live.transfers import Answer, TransferAnswers, answered_transfer, waits_for_answer
from hotline.routing.model import AgentLoggedIn, OfferAnswered, RoutingConflict
from hotline.store import voice_requests
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.cluster import PartitionInboxRow
from hotline.store.models.voice_requests import VoiceRequestRow
from tests.unit.live.test_driver import T0, center


def _row(row_id: int, **payload: Any) -> PartitionInboxRow:
    return PartitionInboxRow(
        id=row_id, partition="hefei", kind="transfer", payload=payload, accepted_at=T0
    )


def _talking(answers: TransferAnswers, *rows: PartitionInboxRow) -> list[Any]:
    """a002 talking on a contact of ``installation``; each row's job applied in turn: what
    each returned (its events' kinds and data) or the conflict it raised."""

    async def scenario() -> list[Any]:
        driver = LiveDriver(center=center(), clock=ManualClock(T0))
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a002"))
        contact = await driver.queue_contact("installation", customer="13800000001")
        await driver.command(lambda now: OfferAnswered(at=now, contact_id=contact, agent_id="a002"))
        seen: list[Any] = []
        for row in rows:
            row.payload = {"contact_id": contact, **row.payload}
            job = answered_transfer(row, inbox_command, answers)
            try:
                _, result = job(driver.engine, T0 + 5)
            except RoutingConflict as refused:
                seen.append(refused)
                continue
            seen.append([(e.kind.value, e.agent_id, dict(e.data)) for e in result.events])
        await driver.stop()
        return seen

    return asyncio.run(scenario())


def test_a_refused_refer_ends_the_conversation_and_the_disconnected_says_so() -> None:
    answers = TransferAnswers()
    refer = _row(7, to_agent="a009", refer="1009")  # a009 is not signed in: refused
    assert waits_for_answer(refer) and not waits_for_answer(_row(8, to_agent="a009"))
    [events] = _talking(answers, refer)
    kinds = [kind for kind, _, _ in events]
    assert kinds[0] == "disconnected" and "transferred" not in kinds
    _, agent, data = events[0]
    assert agent == "a002"
    assert data["by"] == "agent" and data["transfer_refused"] == "1009"
    assert "a009" in data["reason"] and "talk_s" in data  # the engine's own figures kept
    assert answers.owed == [], "a REFER answers no desk"


def test_a_desks_transfer_out_is_answered_applied_or_refused() -> None:
    answers = TransferAnswers()
    out = _row(9, to_number="13900001111", voice_request=41)
    again = _row(10, to_number="13900001111", voice_request=42)  # the contact has gone
    applied, refused = _talking(answers, out, again)
    assert next(kind for kind, _, _ in applied) == "transferred"
    assert isinstance(refused, RoutingConflict)
    contact = out.payload["contact_id"]
    assert answers.owed[0] == Answer(9, 41, True, {"contact_id": contact})
    assert (answers.owed[1].row, answers.owed[1].request, answers.owed[1].ok) == (10, 42, False)
    assert answers.owed[1].result["reason"] == voice_requests.ROUTING_REFUSED


def test_the_answers_are_written_with_the_batch_that_covers_their_row_once() -> None:
    engine = make_engine("sqlite://")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        ids = [
            voice_requests.submit(
                session,
                partition="hefei",
                kind="transfer_out",
                agent_id="a002",
                number="13900001111",
                requested_by="a002",
                contact_id=f"c{n}",
            )
            for n in range(2)
        ]
        session.commit()
        for request_id in ids:
            assert voice_requests.claim(session, request_id, node_id="voice-a")
        session.commit()
    answers = TransferAnswers()
    answers.add(Answer(5, ids[0], True, {"contact_id": "c0"}))
    answers.add(Answer(9, ids[1], False, {"reason": "routing_refused", "detail": "gone"}))
    with factory() as session:  # a batch that fails keeps what it owed
        answers.before_write(session, 9)
        session.rollback()
    assert len(answers.owed) == 2
    with factory() as session:  # a batch covering row 5 only answers that one
        answers.before_write(session, 5)
        session.commit()
    assert [a.row for a in answers.owed] == [9] and answers.answered == 1
    with factory() as session:
        answers.before_write(session, 9)
        session.commit()
    with factory() as session:
        rows = session.scalars(select(VoiceRequestRow).order_by(VoiceRequestRow.id)).all()
        assert [(r.state, r.result) for r in rows] == [
            ("done", {"contact_id": "c0"}),
            ("failed", {"reason": "routing_refused", "detail": "gone"}),
        ]
        # answered already: a batch written again changes nothing
        assert not voice_requests.answer_by_owner(session, ids[0], ok=False, result={})


@pytest.mark.parametrize("kind", ["answer", "end"])
def test_other_rows_wait_for_nothing(kind: str) -> None:
    row = PartitionInboxRow(
        id=1, partition="hefei", kind=kind, payload={"contact_id": "c1"}, accepted_at=T0
    )
    assert not waits_for_answer(row)
