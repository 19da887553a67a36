"""Who may act on the live routes, and the running parts they act on.

An agent acts only for their own agent id (their account's ``agent_id``); supervisors, team
leads and managers may also change an agent's state (send them on a break, log out a forgotten
session) but never answer or hang up for them; a team lead only for their own team(s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends, HTTPException, Path, Request, status

from hotline.config.center import CenterConfig
from hotline.live.driver import LiveDriver
from hotline.live.log_board import LogBoard
from hotline.telephony.call_center import CallCenter
from hotline.web.access import current_center, require_agent, scope_of
from hotline.web.auth import CurrentUser, RoleGuard, current_user

SUPERVISION = ("supervisor", "team_lead", "manager", "wfm", "qa")
STATE_CONTROL = ("agent", "supervisor", "team_lead", "manager")
DESK = ("agent",)


def driver_of(request: Request) -> LiveDriver:
    """The app's live driver; 503 when this server runs without live routing."""
    driver: LiveDriver | None = getattr(request.app.state, "live", None)
    if driver is None or not driver.running:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "live routing is not running")
    return driver


def web_only_partition(request: Request) -> str | None:
    """The partition whose inbox takes this node's desk commands, when the node runs without
    the engine (``hotline serve --web-only``); ``None`` when the engine is in process."""
    if getattr(request.app.state, "live", None) is not None:
        return None
    partition: str | None = getattr(request.app.state, "partition", None)
    return partition


def log_board_of(request: Request) -> LogBoard | None:
    """The wallboard and desk views a web node without the engine keeps from the event log
    (``hotline serve --web-only``); ``None`` when the engine is in process."""
    if web_only_partition(request) is None:
        return None
    board: LogBoard | None = getattr(request.app.state, "log_board", None)
    if board is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "this web node does not follow the event log"
        )
    return board


def voice_of(request: Request) -> CallCenter | None:
    """The running voice driver, when this server takes phone calls."""
    voice = getattr(request.app.state, "voice", None)
    if voice is None or voice.parts is None:
        return None
    center: CallCenter = voice.center
    return center


def phone_call(request: Request, contact_id: str) -> CallCenter | None:
    """The voice driver when ``contact_id`` is one of its phone calls, else ``None``."""
    center = voice_of(request)
    return center if center is not None and center.handles(contact_id) else None


def own(user: CurrentUser, agent_id: str) -> None:
    """403 unless ``user`` is the agent ``agent_id``."""
    if user.agent_id != agent_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "agents act only for their own agent id")


class OwnDesk(RoleGuard):
    """Admits an agent acting for their own agent id (the path's ``agent_id``).

    Checked at the door, before the request body is read, so a call control for another
    agent is a 403 whatever its body: nobody answers, holds or hangs up for an agent, not
    even an admin (who has no agent id of their own).
    """

    async def __call__(
        self,
        user: CurrentUser = Depends(current_user, scope="function"),
        agent_id: str = Path(),
    ) -> CurrentUser:
        admitted = self.admit(user)
        own(admitted, agent_id)
        return admitted


OWN_DESK = OwnDesk(DESK)


def may_set_state(request: Request, user: CurrentUser, agent_id: str) -> None:
    """403 unless ``user`` may change ``agent_id``'s state (themselves, or overseeing them)."""
    if user.agent_id == agent_id:
        return
    if user.has("supervisor", "team_lead", "manager"):
        # A team lead only for the agents of their own team(s).
        require_agent(scope_of(request, user), agent_id)
        return
    raise HTTPException(status.HTTP_403_FORBIDDEN, "agents act only for their own agent id")


def holding(driver: LiveDriver, agent_id: str, contact_id: str) -> None:
    """409 unless ``contact_id`` is in ``agent_id``'s hands."""
    if not driver.holds(agent_id, contact_id):
        raise HTTPException(status.HTTP_409_CONFLICT, f"{contact_id} is not with agent {agent_id}")


@dataclass(frozen=True)
class HeldContact:
    """A contact in an agent's hands, as the desk's panels (screen pop, ticket) need it."""

    attached: dict[str, Any]
    queue: str | None
    center: CenterConfig


def held_contact(request: Request, agent_id: str, contact_id: str) -> HeldContact:
    """``contact_id`` in ``agent_id``'s hands (409 otherwise): from the engine where it runs,
    from the log on a web node without it."""
    board = log_board_of(request)
    if board is None:
        driver = driver_of(request)
        holding(driver, agent_id, contact_id)
        attached = dict(driver.attached.get(contact_id, {}))
        return HeldContact(attached, driver.engine.contact_queue(contact_id), driver.center)
    if contact_id not in board.holding(agent_id):
        raise HTTPException(status.HTTP_409_CONFLICT, f"{contact_id} is not with agent {agent_id}")
    center = current_center(request)
    if center is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no center configuration")
    return HeldContact(board.attached(contact_id), board.contact_queue(contact_id), center)
