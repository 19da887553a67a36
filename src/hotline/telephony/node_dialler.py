"""The predictive dialler on a voice node: the node dials, the partition owner lends agents.

``hotline telephony serve --node-name voice-a --partition hefei --dialler`` runs the one
:class:`~hotline.telephony.dialler.Dialler` (pacing, claims, SIP legs, media, the safe
message, attempts) on the node that places the calls, with its trunk and its agents' phones.
What it asks of an ACD goes to the owner's engine instead (:class:`OwnerLending`, its
``acd``): an agent is held for a campaign only once the owner has lent them to this node run —
the node asks with a ``dialler_lend`` inbox row, the owner's engine checks
:meth:`~hotline.routing.engine.RoutingEngine.may_lend` (idle, no waiting caller for them, the
queues' outbound reserves kept), holds them not ready ``outbound`` and logs to whom
(:mod:`hotline.live.dialler_lends`); the node reads that from the log it follows anyway and
its dialler (:class:`NodeDialler`) takes them, or gives them straight back when no campaign
wants them any more. Handing one back is a ``dialler_return`` row.

Why there: the calls' timing (the 2 s connect-or-abandon rule, ring timeouts) lives with the
SIP legs, so the book that decides how many to dial and whom to connect runs beside them, and
the owner keeps only what only it knows — whether an agent may leave inbound. An agent is lent
to one node run at a time (the owner's engine decides in order), and every record is claimed
in the database by one call (``claim_next`` skips rows another claimer locked), so two nodes
dialling one campaign never dial one record twice. A record held by a call of a node that dies
is kept as a ``failed`` attempt by the owner (its retry rules bring it back) and the agents
lent to it go back to the ACD.

A lent agent goes back for an inbound caller waiting in one of their queues, as the log shows
the queues (:class:`~hotline.live.log_floor.LogFloor`: the log's open work when the node
starts, :func:`seed_floor`, then every event its log tail reads). Not
answered here (the owner's engine would know, the node does not yet): a campaign queue's
choice of held agent by what only the owner's state knows (fewest contacts, least occupied:
the rings and proficiency are ranked here from the center file), and recalling a lent agent
for a queue short of its outbound reserve (the owner checked the reserve when it lent them).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Event, EventKind
from hotline.live import recovery
from hotline.live.dialler_lends import LEND, LENT_REASON, RETURN
from hotline.live.log_floor import LogFloor
from hotline.routing.engine import RoutingEngine
from hotline.store.db import reading
from hotline.telephony.dialler import Dialler
from hotline.telephony.owner_routing import NodeOutbox
from hotline.telephony.ports import RoutingDecision

#: How long a lend the owner did not grant waits before it is asked again (s): the engine
#: refuses silently (a busy agent, a queue's reserve), and an agent's own state change seen
#: in the log asks again at once.
ASK_AGAIN_S = 3.0


class OwnerLending:
    """The dialler's ACD on a voice node: agents lent by the partition owner's engine.

    ``follow(events)`` gets every event of the owner's log, in order (the node's log tail).
    """

    def __init__(
        self,
        outbox: NodeOutbox,
        *,
        floor: LogFloor | None = None,
        ranker: RoutingEngine | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.outbox = outbox
        #: An engine of the center file alone (no agent signed in) ranking held agents by a
        #: campaign queue's rings and proficiency (:meth:`RoutingEngine.choose_held`).
        self.ranker = ranker
        #: The floor as the owner's log shows it since this node started (the callers
        #: waiting in each queue), so that a lent agent is given back for an inbound caller.
        self.floor = floor
        self.node_id = outbox.presence.node_id
        self._clock = clock
        #: The agents the owner lent to this node run and has not taken back.
        self.lent: set[str] = set()
        #: When each agent was last asked for; cleared by a change of their state.
        self._asked: dict[str, float] = {}

    # -- the owner's log

    def follow(self, events: Sequence[Event]) -> None:
        """Note the owner's lends to this node, and any other change of an agent's state."""
        for event in events:
            if self.floor is not None:
                self.floor.record(event)
            if event.kind is not EventKind.AGENT_STATE or not event.agent_id:
                continue
            agent_id, data = event.agent_id, event.data
            held = data.get("state") == "not_ready" and data.get("reason") == LENT_REASON
            if held and data.get("lent_to") == self.node_id:
                self.lent.add(agent_id)
            elif not held:
                self.lent.discard(agent_id)
                self._asked.pop(agent_id, None)  # free again (or not): ask anew if wanted

    # -- what the dialler asks (hotline.telephony.ports.CallRouter's blending part)

    def may_lend(self, agent_id: str) -> bool:
        """Lent to this node (the dialler takes them now); else ask the owner, at most every
        :data:`ASK_AGAIN_S` per agent, and say no for now."""
        if agent_id in self.lent:
            return True
        now = self._clock()
        asked = self._asked.get(agent_id)
        if asked is None or now - asked >= ASK_AGAIN_S:
            self._asked[agent_id] = now
            self.outbox.put(
                LEND,
                {
                    "agent_id": agent_id,
                    "node_id": self.node_id,
                    "voice_node": self.outbox.node,
                },
            )
        return False

    def hold_agent(self, *, at: float, agent_id: str, reason: str) -> list[RoutingDecision]:
        """Nothing: the owner's engine holds the agent not ready since it lent them."""
        return []

    def release_agent(self, *, at: float, agent_id: str, phone: bool) -> list[RoutingDecision]:
        """Give the agent back to the owner's ACD (a ``dialler_return`` row)."""
        self.lent.discard(agent_id)
        self._asked[agent_id] = self._clock()
        self.outbox.put(
            RETURN,
            {"agent_id": agent_id, "node_id": self.node_id, "voice_node": self.outbox.node},
        )
        return []

    def waiting_for(self, agent_id: str) -> int:
        """The inbound callers waiting, as the owner's log shows them, in the queues the agent
        serves: the dialler then gives the agent back once the abandon budget allows (the
        owner's engine offers them the caller)."""
        floor = self.floor
        if floor is None:
            return 0
        return sum(
            len(floor.waiting_contacts(queue_id))
            for queue_id, members in floor.members.items()
            if agent_id in members
        )

    def reserve_refill(self, held: Sequence[str]) -> list[str]:
        """Not known on the node (the owner checked the reserve when it lent them)."""
        return []

    def choose_held(self, queue_id: str, free: Sequence[str]) -> str | None:
        """Which free held agent takes an answered call of a campaign working ``queue_id``:
        the queue's first-ring agents first, then its strategy's order by proficiency, as
        the owner's engine ranks them; what only the owner's state knows (fewest contacts,
        least occupied) ties here and keeps the dialler's order (the free one longest).
        ``None`` without a ranker (the dialler's order)."""
        return None if self.ranker is None else self.ranker.choose_held(queue_id, free)


def seed_floor(floor: LogFloor, session_factory: sessionmaker[Session], *, upto: int) -> int:
    """Fold into ``floor`` the log's open work up to position ``upto`` (where the node's log
    tail starts): each agent's last state and the contacts not finished, so callers already
    waiting when the node started count too. Blocking (a worker thread); returns how many
    events it folded."""
    with reading(session_factory(), purpose="the node dialler's floor") as session:
        work = recovery.open_work(session)
    events = {e.seq: e for e in (*work.agent_states.values(), *work.contact_events)}
    opening = [events[seq] for seq in sorted(events) if seq <= upto]
    for event in opening:
        floor.record(event)
    return len(opening)


class NodeDialler(Dialler):
    """The dialler of a voice node: :class:`Dialler` with the owner's lending as its ACD, and
    any agent the owner lent that no campaign takes (the campaign paused meanwhile, the agent
    no longer reserved, their phone gone from this node) given straight back."""

    def __init__(self, *args: Any, lending: OwnerLending, **kwargs: Any) -> None:
        super().__init__(*args, acd=lending, **kwargs)
        self.lending = lending

    async def round(self, *, refresh: bool = True) -> None:
        """One round of the dialler; then the lent agents it did not take go back (those
        lent before the round began: one lent while it awaited is taken at the next)."""
        before = set(self.lending.lent)
        await super().round(refresh=refresh)
        held = {agent_id for campaign in self.campaigns.values() for agent_id in campaign.held}
        for agent_id in sorted((before & self.lending.lent) - held):
            self.lending.release_agent(
                at=self.center.clock.now(),
                agent_id=agent_id,
                phone=agent_id in self.center.phone_of,
            )
