"""The monthly QA sampling plan: which of an agent's contacts the QA team evaluates.

Each agent gets ``per_agent_month`` evaluations. First come the **targeted** picks — the
contacts most likely to hide a problem: long calls (at least ``long_call_s`` of talk and
hold), transferred contacts, contacts whose customer came back within 24 hours (the
repeat-contact rule of METRICS.md ``fcr``: the first contact did not resolve it), and calls
the automated speech checks flagged (a missed script item, a forbidden phrase, a long
silence or over-talk: :mod:`hotline.quality.speech`). The rest
are drawn **at random, stratified by queue and channel**: each (queue, channel) stratum gets
a share of the random picks in proportion to its share of the agent's contacts (largest
remainder), so a sample of six from an agent who works repair calls and chats is not six
repair calls by chance. The draw is seeded per agent: the same seed and contacts give the
same plan.

Pure: no I/O.

>>> contacts = [Candidate(f"c{i}", "a1", "repair", "voice", 100.0 + i, arrived_at=i * 3600.0)
...             for i in range(10)]
>>> picks = plan_sample(contacts, per_agent=3, seed=7, long_call_s=600, long_calls=1,
...                     transfers=1, repeat_callers=1)
>>> len(picks), {p.reason for p in picks}
(3, {'random'})
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

REPEAT_WINDOW_S = 24 * 3600.0


@dataclass(frozen=True)
class Candidate:
    """One handled contact that may be sampled."""

    contact_id: str
    agent: str
    queue: str | None
    channel: str
    handle_s: float
    arrived_at: float
    transferred: bool = False
    customer: str | None = None
    speech_flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pick:
    """A contact chosen for evaluation and why: ``long_call``, ``transfer``,
    ``repeat_caller``, ``speech_flags`` or ``random`` (then ``stratum`` says from which
    queue/channel)."""

    contact_id: str
    agent: str
    reason: str
    stratum: str


def repeat_contacts(candidates: Sequence[Candidate]) -> set[str]:
    """Contacts whose customer made another contact within 24 h after them.

    >>> cs = [Candidate("c1", "a", "q", "voice", 60, 0.0, customer="138"),
    ...       Candidate("c2", "b", "q", "chat", 60, 3600.0, customer="138"),
    ...       Candidate("c3", "a", "q", "voice", 60, 0.0, customer="139")]
    >>> sorted(repeat_contacts(cs))
    ['c1']
    """
    by_customer: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        if candidate.customer:
            by_customer[candidate.customer].append(candidate)
    repeated: set[str] = set()
    for contacts in by_customer.values():
        contacts.sort(key=lambda c: c.arrived_at)
        for first, following in itertools.pairwise(contacts):
            if 0 < following.arrived_at - first.arrived_at <= REPEAT_WINDOW_S:
                repeated.add(first.contact_id)
    return repeated


def allocate(sizes: dict[str, int], picks: int) -> dict[str, int]:
    """Split ``picks`` over strata in proportion to ``sizes`` (largest remainder; ties by
    name), never more than a stratum holds.

    >>> allocate({"repair/voice": 30, "care/chat": 10}, 4)
    {'care/chat': 1, 'repair/voice': 3}
    """
    total = sum(sizes.values())
    picks = min(picks, total)
    if picks <= 0:
        return {name: 0 for name in sorted(sizes)}
    quotas = {name: picks * size / total for name, size in sizes.items()}
    shares = {name: int(quota) for name, quota in quotas.items()}
    order = sorted(sizes, key=lambda name: (-(quotas[name] - shares[name]), name))
    left = picks - sum(shares.values())
    while left > 0:
        for name in order:
            if left and shares[name] < sizes[name]:
                shares[name] += 1
                left -= 1
    return {name: shares[name] for name in sorted(sizes)}


def plan_sample(
    candidates: Sequence[Candidate],
    *,
    per_agent: int,
    seed: int,
    long_call_s: float,
    long_calls: int,
    transfers: int,
    repeat_callers: int,
    speech_flags: int = 0,
    already: frozenset[str] = frozenset(),
) -> list[Pick]:
    """The sampling plan over ``candidates`` (one month's handled contacts), agent by agent.

    ``already`` lists contacts evaluated before: they are not picked again, and count
    towards nothing (the plan is for the contacts still to evaluate).
    """
    repeated = repeat_contacts(candidates)
    by_agent: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        if candidate.contact_id not in already:
            by_agent[candidate.agent].append(candidate)
    plan: list[Pick] = []
    for agent in sorted(by_agent):
        plan.extend(
            _agent_plan(
                agent,
                sorted(by_agent[agent], key=lambda c: (c.arrived_at, c.contact_id)),
                repeated=repeated,
                per_agent=per_agent,
                rng=random.Random(f"{seed}:{agent}"),
                targets=(
                    ("long_call", long_calls),
                    ("transfer", transfers),
                    ("repeat_caller", repeat_callers),
                    ("speech_flags", speech_flags),
                ),
                long_call_s=long_call_s,
            )
        )
    return plan


def _agent_plan(
    agent: str,
    contacts: list[Candidate],
    *,
    repeated: set[str],
    per_agent: int,
    rng: random.Random,
    targets: tuple[tuple[str, int], ...],
    long_call_s: float,
) -> list[Pick]:
    pools = {
        "long_call": sorted(
            (c for c in contacts if c.handle_s >= long_call_s), key=lambda c: -c.handle_s
        ),
        "transfer": [c for c in contacts if c.transferred],
        "repeat_caller": [c for c in contacts if c.contact_id in repeated],
        "speech_flags": sorted(
            (c for c in contacts if c.speech_flags), key=lambda c: -len(c.speech_flags)
        ),
    }
    chosen: list[Pick] = []
    taken: set[str] = set()
    for reason, count in targets:
        picked = 0
        for candidate in pools[reason]:
            if picked >= count or len(chosen) >= per_agent:
                break
            if candidate.contact_id not in taken:
                taken.add(candidate.contact_id)
                chosen.append(Pick(candidate.contact_id, agent, reason, _stratum(candidate)))
                picked += 1
    strata: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in contacts:
        if candidate.contact_id not in taken:
            strata[_stratum(candidate)].append(candidate)
    sizes = {name: len(pool) for name, pool in strata.items()}
    for name, share in allocate(sizes, per_agent - len(chosen)).items():
        for candidate in rng.sample(strata[name], share):
            chosen.append(Pick(candidate.contact_id, agent, "random", name))
    return chosen


def _stratum(candidate: Candidate) -> str:
    return f"{candidate.queue or '-'}/{candidate.channel}"
