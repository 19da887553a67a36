"""The do-not-call lists in the database, as the voice server's outbound paths ask them.

:class:`DatabaseScreen` is the real :class:`~hotline.telephony.ports.NumberScreen`: it reads
the campaigns' do-not-call lists through :func:`hotline.campaigns.service.listing` (the
center-wide list: click-to-dial and callbacks belong to no campaign) and keeps each refusal in
the audit log (``campaign.dnc_refused``). The read runs in a worker thread as a reader; the
audit entry waits for the database's writer turn on the event loop (``writing_async``),
holding no thread, so a web request that holds the writer turn while it asks never waits on
itself.

>>> # screen = DatabaseScreen(make_session_factory(engine))
>>> # await screen.listed("13800000000")   # -> "center" when it is on the center's list
"""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker

from hotline.campaigns.service import audit_refusal, list_name, listing
from hotline.store.db import reading, writing_async


class DatabaseScreen:
    """Asks the center-wide do-not-call list in the database; audits each refusal."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def _listed(self, number: str) -> str | None:
        with reading(self.session_factory(), purpose="do-not-call screen") as session:
            entry = listing(session, number=number)
            return None if entry is None else list_name(entry)

    async def listed(self, number: str) -> str | None:
        """The list holding ``number`` (``center``), or ``None`` when it may be dialled."""
        return await asyncio.to_thread(self._listed, number)

    async def refused(
        self, *, number: str, list_name: str, agent_id: str, path: str, contact_id: str | None
    ) -> None:
        """Write the refusal to the audit log (``campaign.dnc_refused``)."""
        session = self.session_factory()
        try:
            await writing_async(session)
            await asyncio.to_thread(
                _write_refusal, session, number, list_name, agent_id, path, contact_id
            )
        finally:
            await asyncio.to_thread(session.close)


def _write_refusal(
    session: Session,
    number: str,
    list_name: str,
    agent_id: str,
    path: str,
    contact_id: str | None,
) -> None:
    audit_refusal(
        session,
        number=number,
        list_name=list_name,
        actor=agent_id,
        path=path,
        contact_id=contact_id,
    )
    session.commit()
