"""Who is calling: the CRM and ticket facts the caller rules route on (the real adapter).

Before a caller reaches the IVR the voice server asks the system of record about the calling
number — the same look-up as the agent's screen pop (:func:`hotline.desk.customers.screen_pop`:
customers behind the number, their open tickets) — and keeps only what routing needs: the
highest VIP level among them and their open tickets' types and owners, newest first
(:class:`~hotline.config.caller_rules.CallerFacts`). The look-up is a few indexed reads; it
runs in a worker thread so the loop never waits on the database.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker

from hotline.config.caller_rules import CallerFacts, OpenTicket
from hotline.crm.phones import try_normalize
from hotline.desk.customers import screen_pop


class DatabaseCallerDirectory:
    """:class:`~hotline.telephony.ports.CallerDirectory` over the CRM and ticket tables.

    Example: ``facts = await DatabaseCallerDirectory(sessions).facts("13800000000")``.
    """

    def __init__(
        self, sessions: sessionmaker[Session], *, default_area_code: str | None = None
    ) -> None:
        self.sessions = sessions
        self.default_area_code = default_area_code

    async def facts(self, number: str) -> CallerFacts:
        """The caller's VIP level and open tickets (no customer: level 0, no tickets)."""
        return await asyncio.to_thread(self._facts, number)

    def _facts(self, number: str) -> CallerFacts:
        with self.sessions() as session:
            pop = screen_pop(
                session, calling_number=number, default_area_code=self.default_area_code
            )
        return CallerFacts(
            number=pop.e164 or number,
            vip_level=max((int(c.get("vip_level") or 0) for c in pop.customers), default=0),
            open_tickets=tuple(
                OpenTicket(type=str(t["type"]), owner=t.get("assignee")) for t in pop.open_tickets
            ),
        )

    def normalize(self, number: str) -> str | None:
        """The number in E.164, as the CRM stores it; ``None`` when it is not a number."""
        found = try_normalize(number, default_area_code=self.default_area_code)
        return found.e164 if found else None
