"""Live routing API: agent state and call controls, the wallboard, and the desktop's screen pop.

Every action is a command to the live driver (:mod:`hotline.live.driver`), which owns the one
routing engine. The routes are split by concern, all under ``/api/live``:

* :mod:`.agent_state` — an agent's desktop view and state (ready, not ready, log out);
* :mod:`.calls` — call controls (answer, decline, hold, transfer, consult, hang up, wrap up),
  call backs and click-to-dial;
* :mod:`.screen_pop` — the screen pop and the knowledge search;
* :mod:`.desk_tickets` — tickets opened from the desk for the contact in hand;
* :mod:`.supervision` — the wallboard, contacts queued by hand, the emergency announcement;
* :mod:`.softphone` — the desk's browser softphone: its registration and its SIP library;
* :mod:`.floor` — supervisor actions: the contacts waiting, moving or picking one, logging
  out a stuck agent;
* :mod:`.listening` — a supervisor listening in on a live call from their own phone.

Who may act is in :mod:`.guards`, how an action is carried out in :mod:`.commands`, and what
each route answers in :mod:`.schemas` (typed models, so ``/docs`` documents every answer).
"""

from __future__ import annotations

from fastapi import APIRouter

from hotline.web.api.live import (
    agent_state,
    calls,
    desk_tickets,
    floor,
    listening,
    screen_pop,
    softphone,
    supervision,
)

router = APIRouter()
for _part in (
    supervision,
    floor,
    listening,
    agent_state,
    calls,
    screen_pop,
    desk_tickets,
    softphone,
):
    router.include_router(_part.router)
router.include_router(softphone.library_router)
