"""Voice calls in the database: the contact event log, recordings and CSAT from survey answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Event, EventKind
from hotline.metrics import service as metrics
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.core import ContactEventRow
from hotline.store.models.telephony import Recording
from hotline.telephony.event_store import DatabaseSink, TeeSink, recording_rows
from tests.unit.telephony.test_call_center import Rig, _to_queue, run


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'voice.db'}")
    upgrade(engine)
    return make_session_factory(engine)


def test_a_voice_call_lands_in_the_event_log_with_its_recording_and_csat(
    factory: sessionmaker[Session],
) -> None:
    database = DatabaseSink(factory)

    async def scenario(rig: Rig) -> None:
        rig.center.sink = TeeSink([rig.sink, database])
        await _to_queue(rig)
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        await rig.settle()
        rig.center.answered("out-1", "v=0 agent")
        await rig.settle()
        assert database.flush() > 0  # mid-call flushes keep the order of the sequence
        rig.center.hung_up("out-1")
        await rig.settle()
        await rig.key("5")
        await rig.settle()

    rig = run(scenario)
    database.close()
    with factory() as session:
        rows = session.scalars(select(ContactEventRow).order_by(ContactEventRow.seq)).all()
        assert [r.kind for r in rows] == [e.kind.value for e in rig.sink.events]
        assert {r.source for r in rows} == {"live"}
        assert [r.seq for r in rows] == sorted(r.seq for r in rows)
        [recording] = session.scalars(select(Recording)).all()
        assert recording.contact_id == rig.contact
        assert recording.agent_id == "a001"
        assert recording.path == f"/recordings/{rig.contact}.wav"
        # METRICS.md CSAT: the caller's 5 of 5 is a top-two-box answer
        figures = metrics.experience_report(session=session, source="live", by=())
        assert figures["surveys"].sum() == 1
        assert figures["csat"].to_list() == [1.0]


def test_a_failed_write_keeps_the_events_for_the_next_flush(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    broken = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}"))
    sink = DatabaseSink(broken)
    event = Event(seq=1, at=10.0, kind=EventKind.ARRIVED, contact_id="v-1")
    sink.append(event)
    assert sink.flush() == 0  # the folder does not exist: the write fails
    sink.session_factory = factory
    sink.append(Event(seq=2, at=11.0, kind=EventKind.ABANDONED, contact_id="v-1"))
    assert sink.flush() == 2
    with factory() as session:
        assert [r.seq for r in session.scalars(select(ContactEventRow))] == [1, 2]


def test_only_decoded_recordings_are_kept() -> None:
    stopped = Event(
        seq=1,
        at=5.0,
        kind=EventKind.RECORDING_STOPPED,
        contact_id="v-1",
        agent_id="a001",
        data={"path": "/r/v-1.wav", "seconds": 12.5, "channels": ["caller", "agent"]},
    )
    undecodable = Event(
        seq=2, at=6.0, kind=EventKind.RECORDING_STOPPED, contact_id="v-2", data={"error": "x"}
    )
    other = Event(seq=3, at=7.0, kind=EventKind.FINISHED, contact_id="v-1")
    [row] = recording_rows([stopped, undecodable, other])
    assert (row.contact_id, row.seconds, row.channels) == ("v-1", 12.5, ["caller", "agent"])
