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

from hotline.routing.model import Strategy

#: Weight of the newest observation in the handle-time moving average (about the last 20).
HANDLE_TIME_SMOOTHING = 0.05


def agent_key(
    strategy: Strategy,
    *,
    idle_since: float,
    load_share: float,
    handling_s_today: float,
    contacts_today: int,
    last_offered: int,
    proficiency: int,
    draw: float,
) -> tuple[float, ...]:
    """Return the ordering key of an available agent under ``strategy`` (smallest wins).

    >>> agent_key(Strategy.FEWEST_CONTACTS, idle_since=5.0, load_share=0.0,
    ...           handling_s_today=0.0, contacts_today=3, last_offered=-1, proficiency=4,
    ...           draw=0.5)
    (3.0, 5.0)
    """
    if strategy is Strategy.LONGEST_IDLE:
        return (idle_since,)
    if strategy is Strategy.LEAST_OCCUPIED:
        return (load_share, handling_s_today, idle_since)
    if strategy is Strategy.FEWEST_CONTACTS:
        return (float(contacts_today), idle_since)
    if strategy is Strategy.ROUND_ROBIN:
        return (float(last_offered),)
    if strategy is Strategy.HIGHEST_PROFICIENCY:
        return (-float(proficiency), idle_since)
    return (draw,)


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
