"""The campaigns' lists in the database, as the voice server's dialler works them.

:class:`DatabaseDialLists` is the real :class:`~hotline.telephony.dialler.DialLists`: the
running progressive and predictive campaigns, a record claimed for one call
(:func:`hotline.campaigns.service.claim_next`: both do-not-call lists asked again, a listed
record blocked and the refusal audited, calling hours in the customer's time zone), and each
call's result kept as the campaign's attempt (:func:`~hotline.campaigns.service.record_result`:
the retry rules decide whether and when the record comes back), and the day's answers and
abandons a dialler started mid-day resumes its abandon budget from; a connected call's record
handed to its agent (:func:`~hotline.campaigns.service.hand_over`), whose desk then pops it
and keeps the agent's disposition. Every write, its wait
for the database's writer turn included, runs in a worker thread (see ``_write``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from hotline.campaigns.service import (
    answers_since,
    campaign_rules,
    claim_next,
    hand_over,
    keep_pacing,
    list_campaigns,
    record_result,
    skip_record,
)
from hotline.core.errors import Conflict
from hotline.desk.followup_calls import result_to_followup
from hotline.store.db import reading, writing
from hotline.telephony.dialler import DIALLED_MODES, DialCampaign, DialRecord, PacingSnapshot

_T = TypeVar("_T")


class DatabaseDialLists:
    """The dialler's campaigns and records, kept by :mod:`hotline.campaigns.service`."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def _running(self) -> list[DialCampaign]:
        with reading(self.session_factory(), purpose="dialler campaigns") as session:
            running: list[DialCampaign] = []
            for c in list_campaigns(session):
                if c.state != "running" or c.mode not in DIALLED_MODES:
                    continue
                # "Today" in the campaign's own zone: the abandon cap counts per day.
                zone = ZoneInfo(campaign_rules(c).hours.time_zone)
                midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
                answered, abandoned = answers_since(session, campaign_id=c.id, since=midnight)
                running.append(
                    DialCampaign(
                        id=c.id,
                        mode=c.mode,
                        agents=tuple(c.agents or ()),
                        queue=c.queue,
                        answered_today=answered,
                        abandoned_today=abandoned,
                        day=midnight.date().isoformat(),
                    )
                )
            return running

    async def running(self) -> list[DialCampaign]:
        """The running campaigns the dialler works (progressive, predictive)."""
        return await asyncio.to_thread(self._running)

    async def _write(self, work: Callable[[Session], _T]) -> _T:
        # The whole transaction, its wait for the writer turn included, runs in one worker
        # thread: the voice server's loop flushes the event log with a blocking writer turn,
        # so a writer that held the turn while it awaited the loop (``writing_async``, then
        # ``to_thread``) would wait for a loop that waits for it.
        return await asyncio.to_thread(_write_in_thread, self.session_factory, work)

    async def claim(self, *, campaign_id: int, holder: str, now: datetime) -> DialRecord | None:
        """The next record to dial for ``holder`` (one call), or ``None``."""

        def work(session: Session) -> DialRecord | None:
            try:
                record = claim_next(session, campaign_id=campaign_id, agent_id=holder, now=now)
            except Conflict:  # paused or finished since the dialler last looked: no record
                return None
            return None if record is None else DialRecord(id=record.id, number=record.phone)

        return await self._write(work)

    async def result(
        self,
        *,
        record_id: int,
        holder: str,
        result: str,
        now: datetime,
        contact_id: str,
        answered: bool,
        connected: bool,
    ) -> None:
        """Keep one call's result as the campaign's attempt (and as the follow-up task's, for
        a follow-up's record: :func:`~hotline.desk.followup_calls.result_to_followup`)."""

        def work(session: Session) -> None:
            record = record_result(
                session,
                record_id=record_id,
                agent_id=holder,
                result=result,
                now=now,
                contact_id=contact_id,
                answered=answered,
                connected=connected,
            )
            result_to_followup(session, record=record, result=result, actor="dialler", now=now)

        await self._write(work)

    async def connected(
        self, *, record_id: int, holder: str, agent_id: str, contact_id: str, now: datetime
    ) -> None:
        """The call is connected: the record passes to the agent, who dispositions it."""
        await self._write(
            lambda session: hand_over(
                session,
                record_id=record_id,
                holder=holder,
                agent_id=agent_id,
                contact_id=contact_id,
                now=now,
            )
        )

    async def pacing(self, snapshots: list[PacingSnapshot]) -> None:
        """Keep what the dialler sees of its campaigns now, one row per campaign."""

        def work(session: Session) -> None:
            for snapshot in snapshots:
                keep_pacing(session, **asdict(snapshot))

        await self._write(work)

    async def release(self, *, record_id: int, holder: str, now: datetime) -> None:
        """Give a claimed record back undialled (no attempt counted)."""
        await self._write(
            lambda session: skip_record(session, record_id=record_id, agent_id=holder, now=now)
        )


def _write_in_thread(factory: sessionmaker[Session], work: Callable[[Session], _T]) -> _T:
    with writing(factory()) as session:
        value = work(session)
        session.commit()
        return value
