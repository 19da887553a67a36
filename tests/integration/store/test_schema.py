"""The schema: migrations equal the models, and the contact event log is append-only."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

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
def test_contact_events_refuse_changes(db_session: Session, statement: object) -> None:
    db_session.add(_event(1))
    db_session.flush()
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(statement)
