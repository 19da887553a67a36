"""Competitions: team or individual contests over chosen figures and a period.

A team lead or manager runs a contest — "best FCR and CSAT in the repair teams this month" —
between agents (or teams) of chosen teams. Each chosen figure is a leaderboard of its own
(:mod:`hotline.people.leaderboard`: handle time, wrap-up, hold and FCR ranked on the index
against each entrant's queue mix, so the repair queue's long calls do not lose to billing's
short ones). The contest's standing adds **place points** across the figures, as a
multi-event athletics score does: on a figure where ``n`` entrants are ranked, rank ``r``
earns ``n - r + 1`` points (entrants sharing a rank share its points), an entrant not ranked
on a figure (no value, too few contacts) earns none there. The most points win; ties share a
rank. Place points keep figures on different scales (seconds, percentages, scores) from
outweighing each other without any weights to argue about.

This module is pure.

Example::

    >>> from hotline.people.leaderboard import Standing
    >>> boards = {
    ...     "fcr": [Standing(1, "a1", 0.8, None, None, 9), Standing(2, "a2", 0.7, None, None, 9)],
    ...     "csat": [Standing(1, "a2", 0.9, None, None, 9), Standing(2, "a1", 0.8, None, None, 9)],
    ... }
    >>> [(s.rank, s.name, s.points) for s in combine(boards)]
    [(1, 'a1', 3), (1, 'a2', 3)]
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from hotline.people.leaderboard import RANKABLE, Standing

#: Who competes in a contest.
LEVELS: tuple[str, ...] = ("agent", "team")
#: The most figures one contest runs over (more makes the place points a lottery).
MAX_METRICS = 4
#: The longest name a contest has.
MAX_NAME = 120


@dataclass(frozen=True, slots=True)
class ContestStanding:
    """One place of a contest: the place points and, per figure, the entrant's rank on it."""

    rank: int
    name: str
    points: int
    places: Mapping[str, int] = field(default_factory=dict)


def combine(boards: Mapping[str, Sequence[Standing]]) -> list[ContestStanding]:
    """Add each entrant's place points over the figures' leaderboards ``boards`` (figure →
    standings, best first); most points first, ties sharing a rank (1, 1, 3).

    >>> combine({"csat": [Standing(1, "x", 0.9, None, None, 3)], "fcr": []})
    [ContestStanding(rank=1, name='x', points=1, places={'csat': 1})]
    """
    points: dict[str, int] = {}
    places: dict[str, dict[str, int]] = {}
    for metric, board in boards.items():
        ranked = len(board)
        for standing in board:
            points[standing.name] = points.get(standing.name, 0) + ranked - standing.rank + 1
            places.setdefault(standing.name, {})[metric] = standing.rank
    order = sorted(points, key=lambda name: (-points[name], name))
    out: list[ContestStanding] = []
    for place, name in enumerate(order, start=1):
        shared = out and out[-1].points == points[name]
        out.append(
            ContestStanding(out[-1].rank if shared else place, name, points[name], places[name])
        )
    return out


def problems(
    *,
    name: str,
    level: str,
    metrics: Sequence[str],
    start: date,
    end: date,
    teams: Collection[str],
    known_teams: Collection[str],
) -> list[tuple[str, str]]:
    """What is wrong with a contest as asked, as (field, rule broken) pairs; empty when it
    can run. The period's own rules are the scorecard's (checked by the caller).

    >>> for found in problems(name=" ", level="crew", metrics=["aht_s", "aht_s"],
    ...                       start=date(2026, 3, 1), end=date(2026, 3, 31), teams=["t9"],
    ...                       known_teams=["t1"]):
    ...     print(*found, sep=": ")
    name: give the contest a name
    level: agent or team, not 'crew'
    metrics: each figure once: aht_s is named twice
    teams: no team t9
    """
    found: list[tuple[str, str]] = []
    if not name.strip():
        found.append(("name", "give the contest a name"))
    elif len(name) > MAX_NAME:
        found.append(("name", f"at most {MAX_NAME} characters, not {len(name)}"))
    if level not in LEVELS:
        found.append(("level", f"agent or team, not {level!r}"))
    if not metrics:
        found.append(("metrics", "choose at least one figure"))
    elif len(metrics) > MAX_METRICS:
        found.append(("metrics", f"at most {MAX_METRICS} figures, not {len(metrics)}"))
    for metric in metrics:
        if metric not in RANKABLE:
            found.append(("metrics", f"one of {', '.join(RANKABLE)}, not {metric!r}"))
    repeated = sorted({m for m in metrics if list(metrics).count(m) > 1})
    if repeated:
        found.append(("metrics", f"each figure once: {', '.join(repeated)} is named twice"))
    unknown = sorted(set(teams) - set(known_teams))
    if unknown:
        found.append(("teams", f"no team {', '.join(unknown)}"))
    return found


def running(start: date, end: date, today: date) -> str:
    """Where a contest stands on ``today``: ``upcoming``, ``running`` or ``finished``.

    >>> running(date(2026, 3, 1), date(2026, 3, 31), date(2026, 3, 31))
    'running'
    """
    if today < start:
        return "upcoming"
    return "running" if today <= end else "finished"
