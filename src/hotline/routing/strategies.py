"""Agent selection strategies and the estimated-wait method.

When several agents could take a contact, the queue's **strategy** orders them. Each strategy
is a sort key over facts the engine keeps per agent; the smallest key wins and the agent's
registration order breaks every remaining tie, so the same inputs always pick the same agent.

=====================  ==================================================================
strategy               key (smallest first)
=====================  ==================================================================
longest_idle           time the agent last became free (earliest first)
least_occupied         share of channel capacity in use, then handling seconds today,
                       then longest idle
fewest_contacts        contacts answered today, then longest idle
round_robin            when this queue last offered the agent a contact (never first)
highest_proficiency    sum of the agent's levels in the queue's skills (highest first),
                       then longest idle
random                 a number drawn from the engine's seeded generator
=====================  ==================================================================

The estimated wait uses the **queue-length (QL) predictor** of Whitt, "Predicting Queueing
Delays", *Management Science* 45(6), 1999: in a multi-server queue with ``s`` busy agents each
finishing at rate ``μ = 1 / AHT``, a customer at position ``n`` (``n − 1`` ahead) waits on
average ``n / (s·μ)`` — each departure moves the line on by one, and departures come at rate
``s·μ``. Hotline takes ``s`` as the queue's ready (or busy) logged-in agents times their channel
capacity, and AHT as an exponentially weighted mean of the queue's observed handle times (talk +
hold + wrap-up) seeded with the queue's configured ``expected_handle_s``. Agents shared by
several queues make ``s`` an over-estimate; the tests measure the error against simulation.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Protocol

from hotline.core.events import Channel
from hotline.routing.model import Strategy

#: Weight of the newest observation in the handle-time moving average (about the last 20).
HANDLE_TIME_SMOOTHING = 0.05


class AgentFacts(Protocol):
    """What a strategy may look at: the engine's running facts about one agent."""

    idle_since: float
    contacts_today: int
    handling_s_today: float
    load: dict[Channel, int]
    capacity: dict[Channel, int]
    last_offered: dict[str, int]
    proficiency: dict[str, int]


AgentKey = Callable[[AgentFacts, str, Channel, random.Random], tuple[float, ...]]


def longest_idle(
    agent: AgentFacts, queue: str, channel: Channel, rng: random.Random
) -> tuple[float, ...]:
    """Earliest-free first."""
    return (agent.idle_since,)


def least_occupied(
    agent: AgentFacts, queue: str, channel: Channel, rng: random.Random
) -> tuple[float, ...]:
    """Smallest share of the channel's capacity in use, then least handling today, then idle."""
    share = agent.load.get(channel, 0) / (agent.capacity.get(channel, 0) or 1)
    return (share, agent.handling_s_today, agent.idle_since)


def fewest_contacts(
    agent: AgentFacts, queue: str, channel: Channel, rng: random.Random
) -> tuple[float, ...]:
    """Fewest contacts answered today, then longest idle.

    >>> from types import SimpleNamespace
    >>> fewest_contacts(SimpleNamespace(contacts_today=3, idle_since=5.0), "q",
    ...                 Channel.VOICE, random.Random(0))
    (3.0, 5.0)
    """
    return (float(agent.contacts_today), agent.idle_since)


def round_robin(
    agent: AgentFacts, queue: str, channel: Channel, rng: random.Random
) -> tuple[float, ...]:
    """The agent this queue offered to least recently (never offered: first)."""
    return (float(agent.last_offered.get(queue, -1)),)


def highest_proficiency(
    agent: AgentFacts, queue: str, channel: Channel, rng: random.Random
) -> tuple[float, ...]:
    """Highest summed proficiency in the queue's skills, then longest idle."""
    return (-float(agent.proficiency.get(queue, 0)), agent.idle_since)


def random_draw(
    agent: AgentFacts, queue: str, channel: Channel, rng: random.Random
) -> tuple[float, ...]:
    """A fresh draw from the engine's seeded generator each time the agent becomes available."""
    return (rng.random(),)


#: The key function of each strategy (smallest key wins; agent order breaks ties).
AGENT_KEYS: Mapping[Strategy, AgentKey] = MappingProxyType(
    {
        Strategy.LONGEST_IDLE: longest_idle,
        Strategy.LEAST_OCCUPIED: least_occupied,
        Strategy.FEWEST_CONTACTS: fewest_contacts,
        Strategy.ROUND_ROBIN: round_robin,
        Strategy.HIGHEST_PROFICIENCY: highest_proficiency,
        Strategy.RANDOM: random_draw,
    }
)


def estimated_wait_s(*, position: int, serving_slots: int, average_handle_s: float) -> float | None:
    """Estimated seconds until a contact at ``position`` is answered (Whitt's QL predictor).

    ``None`` when nobody serves the queue (no estimate can be honest then).

    >>> estimated_wait_s(position=3, serving_slots=2, average_handle_s=120.0)
    180.0
    """
    if serving_slots <= 0:
        return None
    return position * average_handle_s / serving_slots


def smoothed_handle_s(previous: float, observed: float) -> float:
    """Fold one observed handle time into the queue's moving average."""
    return previous + HANDLE_TIME_SMOOTHING * (observed - previous)
