"""The voice server's do-not-call screen on the real database (SQLite and PostgreSQL).

The screen reads the center-wide list as a reader and writes each refusal to the audit log
in a writer turn of its own; on SQLite it must not wait for a writer turn that its caller
holds (the web request placing the call).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.campaigns import service as campaigns
from hotline.store.db import make_session_factory, writing_async
from hotline.store.models.campaigns import DoNotCall
from hotline.store.models.core import AuditEntry
from hotline.telephony.do_not_call import DatabaseScreen

NUMBER = "+8613555550123"


@pytest.fixture
def factory(db_engine: Engine) -> Iterator[sessionmaker[Session]]:
    made = make_session_factory(db_engine)
    with made() as session:
        campaigns.add_do_not_call(session, number=NUMBER, actor="boss", reason="asked")
        session.commit()
    yield made
    with made() as session:  # committed for real: leave the shared database as found
        session.execute(delete(DoNotCall).where(DoNotCall.number == NUMBER))
        session.execute(delete(AuditEntry).where(AuditEntry.target == NUMBER))
        session.commit()


def refusals(factory: sessionmaker[Session]) -> list[AuditEntry]:
    with factory() as session:
        query = select(AuditEntry).where(
            AuditEntry.action == "campaign.dnc_refused", AuditEntry.target == NUMBER
        )
        return list(session.scalars(query))


def test_the_screen_finds_listed_numbers_as_written_and_audits_refusals(
    factory: sessionmaker[Session],
) -> None:
    screen = DatabaseScreen(factory)

    async def scenario() -> None:
        assert await screen.listed("135-5555-0123") == "center"
        assert await screen.listed("13555550124") is None
        # the caller holds the writer turn while the refusal is kept: it waits, not deadlocks
        holder = factory()
        await writing_async(holder)
        keep = asyncio.create_task(
            screen.refused(
                number="135-5555-0123",
                list_name="center",
                agent_id="a001",
                path="click_to_dial",
                contact_id=None,
            )
        )
        await asyncio.sleep(0.05)
        await asyncio.to_thread(holder.commit)
        holder.close()
        await asyncio.wait_for(keep, 10)

    asyncio.run(scenario())
    [entry] = refusals(factory)
    assert (entry.actor, entry.detail["path"], entry.detail["list"]) == (
        "a001",
        "click_to_dial",
        "center",
    )
