"""The schema: migrations equal the models, and the contact event log is append-only."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from hotline.store.db import Base
from hotline.store.models import registered_tables
from hotline.store.models.core import ContactEventRow


def test_migrations_create_exactly_the_models(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert {"users", "audit_log", "contact_events"} <= registered_tables()
    assert differences == []


def _event(seq: int) -> ContactEventRow:
    return ContactEventRow(
        seq=seq, at=1000.0 + seq, kind="queued", contact_id="c1", queue="repair", data={}
    )


def test_contact_events_accept_inserts(db_session: Session) -> None:
    db_session.add_all([_event(1), _event(2)])
    db_session.flush()
    rows = db_session.scalars(select(ContactEventRow.seq).order_by(ContactEventRow.id)).all()
    assert rows[-2:] == [1, 2]


@pytest.mark.parametrize(
    "statement",
    [
        update(ContactEventRow).values(kind="answered"),
        delete(ContactEventRow),
    ],
    ids=["update", "delete"],
)
def test_contact_events_refuse_changes(db_session: Session, statement: Executable) -> None:
    db_session.add(_event(1))
    db_session.flush()
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(statement)


def test_event_log_append_keeps_order_and_fields(db_session: Session) -> None:
    from hotline.core.events import Channel, Event, EventKind
    from hotline.store.event_log import append

    events = [
        Event(
            seq=1,
            at=10.0,
            kind=EventKind.QUEUED,
            contact_id="c9",
            queue="vip",
            channel=Channel.VOICE,
        ),
        Event(
            seq=2,
            at=10.0,
            kind=EventKind.OFFERED,
            contact_id="c9",
            agent_id="a001",
            data={"ring": 1},
        ),
    ]
    assert append(db_session, events, source="sim") == 2
    rows = db_session.scalars(
        select(ContactEventRow)
        .where(ContactEventRow.contact_id == "c9")
        .order_by(ContactEventRow.id)
    ).all()
    assert [(r.seq, r.kind, r.source) for r in rows] == [
        (1, "queued", "sim"),
        (2, "offered", "sim"),
    ]
    assert rows[0].channel == "voice" and rows[1].data == {"ring": 1}
