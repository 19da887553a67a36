"""The matching pools: where waiting contacts and available agents meet.

Each queue's contacts wait in *pools*, one per (ageing ring, extra requirements, channel)
(:class:`~hotline.routing.state._Pool`). An agent is a member of every pool whose requirements
they meet — decided once, when they join (:func:`join`), not on every decision. A pool keeps
two sides:

* its waiting contacts, in one heap ordered by strict priority class, then credited waiting
  time, then arrival (:func:`wait_in`, :func:`head_contact`);
* its available agents, ordered by the queue strategy's key (:mod:`hotline.routing.strategies`):
  an agent coming free leaves only a note ``(agent, version)`` (:func:`push`), keyed and heaped
  when a contact next draws from the pool (:func:`merge`, :func:`head_agent`).

A contact entering a pool takes the best available agent of the pool and its inner rings
(:func:`best_agent`); an agent coming free takes, across all of their pools, the head contact
that has waited longest relative to its priority class and its queue's service-level threshold
(:func:`best_contact`). Entries are deleted lazily: each carries the version of its agent or
contact, and every change to availability or keys moves the version.

The engine keeps one invariant over the pools: **after each command, no pool holds both a
waiting contact and an available agent who could take it** — every such pair has been offered
(``tests/unit/routing/test_routing_pools.py`` checks it on random command sequences). So a
decision looks at a handful of heap heads, never at all agents. Pure: no I/O.
"""

from __future__ import annotations

import heapq
import random
from collections import deque

from hotline.core.events import Channel
from hotline.routing.model import Term, matches_any
from hotline.routing.state import (
    _READY,
    _WAITING,
    _Agent,
    _AgentEntry,
    _Contact,
    _Pool,
    _Queue,
    _refuses,
    _ring_terms,
)

#: Agent entries a pool keeps unsorted before heaping them (each draw scans them all).
_LOOSE_LIMIT = 12


def join(agent: _Agent, pool: _Pool) -> None:
    """Make the agent a member of ``pool`` if they have room on its channel and meet its terms."""
    if agent.capacity.get(pool.channel, 0) <= 0:
        return
    if not matches_any(pool.terms, agent.skills, agent.languages):
        return
    pool.members.add(agent.id)
    agent.pools.append(pool)
    if pool.channel not in agent.channels:
        agent.channels.append(pool.channel)
    # Keep push_pools (the innermost pool of each queue, extra terms and channel, in the
    # order the groups first appeared) up to date for this one pool, rather than rebuilt
    # from all of the agent's pools: pools are made lazily while contacts arrive, each
    # joined by all of the queue's members, so this runs inside decisions.
    group = (pool.queue.id, pool.extra, pool.channel)
    known = agent.innermost.get(group)
    if known is None:
        agent.innermost[group] = pool
        agent.push_pools.append(pool)
    elif pool.ring < known.ring:
        agent.innermost[group] = pool
        push_pools = agent.push_pools
        push_pools[push_pools.index(known)] = pool


def can_take(agent: _Agent, channel: Channel, exclusive: frozenset[Channel]) -> bool:
    """Whether the agent is ready with room for one more contact of ``channel`` now.

    Nothing while on an ``exclusive`` channel (a call), and nothing of such a channel while
    holding anything.
    """
    if agent.presence != _READY or agent.exclusive_load:
        return False
    if agent.load.get(channel, 0) >= agent.capacity.get(channel, 0):
        return False
    return not (channel in exclusive and agent.total_load)


def push(agent: _Agent, exclusive: frozenset[Channel]) -> None:
    """Announce an available agent to the innermost pools they belong to.

    Only a note ``(agent, version)`` is appended: the strategy key is computed and the
    entry heaped when a contact next draws from that pool (:func:`merge`). An agent
    serves many pools and usually gets work from one of them soon, so most notes go
    stale unread — and a stale note costs an append, not a heap push and pop. The key is
    the same either way: every change that moves a key also moves the version.
    """
    note = (agent, agent.version)
    if agent.total_load == 0 and agent.presence == _READY:
        # Idle and ready: every channel the agent has pools for has room (a pool is only
        # joined with capacity on its channel), so no per-channel check (can_take).
        for pool in agent.push_pools:
            pending = pool.pending
            pending.append(note)
            if len(pending) > 2 * len(pool.members) + 16:
                pool.pending = [n for n in pending if n[1] == n[0].version]
        return
    takeable = [ch for ch in agent.channels if can_take(agent, ch, exclusive)]
    if not takeable:
        return
    for pool in agent.push_pools:
        if pool.channel in takeable:
            pending = pool.pending
            pending.append(note)
            if len(pending) > 2 * len(pool.members) + 16:
                pool.pending = [n for n in pending if n[1] == n[0].version]


def merge(pool: _Pool, rng: random.Random) -> None:
    """Heap the pool's pending agent notes that are still current."""
    pending = pool.pending
    if not pending:
        return
    pool.pending = []
    queue = pool.queue
    key = queue.key
    channel = pool.channel
    # A current version means nothing about the agent's availability has changed since
    # the note was made (every such change bumps the version), and notes are only made
    # while the agent can take this channel — so no availability check is needed here.
    heap = pool.agents
    run = pool.run
    loose = pool.loose
    for agent, version in pending:
        if version != agent.version:
            continue
        entry = (key(agent, queue.id, channel, rng), agent.index, version, agent)
        # Keys mostly arrive in order (longest idle: the time the agent came free), so
        # in-order entries go to a run — O(1) in and out. The rest wait in a short loose
        # list first: most agents get work from another pool before this one draws
        # again, and an entry dropped from the loose list never costs a heap push and pop.
        if not run or entry > run[-1]:
            run.append(entry)
        else:
            loose.append(entry)
    if len(loose) > _LOOSE_LIMIT:
        if len(loose) > len(heap) // 4:
            heap.extend(e for e in loose if e[2] == e[3].version)
            heapq.heapify(heap)
        else:
            for entry in loose:
                if entry[2] == entry[3].version:
                    heapq.heappush(heap, entry)
        loose.clear()
    limit = 2 * len(pool.members) + 16
    if len(heap) > limit:
        heap[:] = [e for e in heap if e[2] == e[3].version]
        heapq.heapify(heap)
    if len(run) > limit:
        pool.run = deque([e for e in run if e[2] == e[3].version])


def best_contact(agent: _Agent, now: float, exclusive: frozenset[Channel]) -> _Contact | None:
    """The contact an agent coming free takes: across their pools with room, the head that
    has waited longest relative to its class and its queue's service-level threshold."""
    best: _Contact | None = None
    best_score: tuple[int, float, int] = (0, 0.0, 0)
    can: dict[Channel, bool] = {}
    for pool in agent.pools:
        if not pool.waiting:
            continue
        channel = pool.channel
        ok = can.get(channel)
        if ok is None:
            ok = can[channel] = can_take(agent, channel, exclusive)
        if not ok:
            continue
        contact = head_contact(pool, agent)
        if contact is None:
            continue
        score = (contact.cls, (now - contact.credited_at) / pool.queue.target_s, -contact.seq)
        if best is None or score > best_score:
            best = contact
            best_score = score
    return best


def head_contact(pool: _Pool, agent: _Agent) -> _Contact | None:
    """The first waiting contact of ``pool`` the agent may take (stale entries dropped)."""
    heap = pool.contacts
    while heap:
        entry = heap[0]
        contact = entry[4]
        if entry[3] != contact.version:
            heapq.heappop(heap)
            continue
        if (contact.declined and agent.id in contact.declined) or contact.id in agent.items:
            # Rare: this agent declined the head, or is still wrapping it up after
            # transferring it to a queue; look further down without disturbing.
            for other in sorted(heap):
                candidate = other[4]
                if other[3] == candidate.version and not _refuses(agent, candidate):
                    return candidate
            return None
        return contact
    return None


def best_agent(contact: _Contact, pool: _Pool, rng: random.Random) -> _Agent | None:
    """The available agent the queue's strategy picks for a contact of ``pool``."""
    family = pool.family
    if len(family) == 1:
        # A queue without ageing rings: one pool to look at (inlined for performance).
        head = head_agent(pool, contact, rng)
        return None if head is None else head[3]
    best: _AgentEntry | None = None
    for member in family:
        entry = head_agent(member, contact, rng)
        if entry is not None and (best is None or entry[:2] < best[:2]):
            best = entry
    return None if best is None else best[3]


def head_agent(pool: _Pool, contact: _Contact, rng: random.Random) -> _AgentEntry | None:
    """The best available agent entry of one pool for this contact (stale ones dropped)."""
    if pool.pending:
        merge(pool, rng)
    # A current version means the agent is still available (see merge).
    heap = pool.agents
    while heap and heap[0][2] != heap[0][3].version:
        heapq.heappop(heap)
    run = pool.run
    while run and run[0][2] != run[0][3].version:
        run.popleft()
    entry: _AgentEntry | None = None
    if run and (not heap or run[0] < heap[0]):
        entry = run[0]
    elif heap:
        entry = heap[0]
    loose = pool.loose
    if loose:
        kept = [e for e in loose if e[2] == e[3].version]
        if len(kept) != len(loose):
            pool.loose = loose = kept
        for other in loose:
            if entry is None or other < entry:
                entry = other
    if entry is None:
        return None
    if (contact.declined and entry[3].id in contact.declined) or contact.id in entry[3].items:
        # Rare: this agent declined the contact, or is still wrapping it up after
        # transferring it to a queue; look further down without disturbing.
        for other in sorted([*run, *heap, *pool.loose]):
            candidate = other[3]
            if other[2] == candidate.version and not _refuses(candidate, contact):
                return other
        return None
    return entry


def pool_of(
    queue: _Queue,
    ring: int,
    extra: tuple[Term, ...],
    channel: Channel,
    exclusive: frozenset[Channel],
) -> _Pool:
    """The queue's pool for (ring, extra terms, channel), made and joined by its members if new."""
    key = (ring, extra, channel)
    pool = queue.pools.get(key)
    if pool is not None:
        return pool
    pool = _Pool(queue, ring, extra, channel, _ring_terms(queue, ring, extra))
    queue.pools[key] = pool
    family = sorted(
        (p for p in queue.pools.values() if p.extra == extra and p.channel == channel),
        key=lambda p: p.ring,
    )
    for member in family:
        member.family = [p for p in family if p.ring <= member.ring]
    # A new pool has no contacts yet, so its ready members need no search: their current
    # entries elsewhere stay valid and each gets one note here (not a full refresh, which
    # would push every member into every pool of theirs at once).
    for agent in queue.members.values():
        join(agent, pool)
        if agent.id in pool.members and can_take(agent, channel, exclusive):
            pool.pending.append((agent, agent.version))
    return pool


def wait_in(contact: _Contact, pool: _Pool) -> None:
    """The contact waits in ``pool`` (of its queue) until an agent of it comes free."""
    contact.pool = pool
    contact.version += 1
    assert contact.queue is not None
    contact.queue.waiting[contact.id] = contact
    pool.waiting += 1
    heap = pool.contacts
    heapq.heappush(heap, (-contact.cls, contact.credited_at, contact.seq, contact.version, contact))
    if len(heap) > 2 * pool.waiting + 16:
        heap[:] = [e for e in heap if e[3] == e[4].version]
        heapq.heapify(heap)


def leave_pool(contact: _Contact) -> None:
    """The contact no longer waits (offered, moved, gone): its heap entry goes stale."""
    pool = contact.pool
    if pool is not None and contact.stage == _WAITING:
        pool.waiting -= 1
        assert contact.queue is not None
        contact.queue.waiting.pop(contact.id, None)
    contact.pool = None
    contact.version += 1
