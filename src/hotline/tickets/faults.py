"""Fault statistics per product line and model, for the product units (产品质量信息).

The product units ask the service desk which of their models fail, how, and how well the
field repairs them. From the repair orders opened in a period:

- ``repairs`` per product line and model (the customer's product as the desk recorded it;
  the ticket's own category and model where no product was named);
- ``faults``: repairs by fault category — what the provider's technician found on the last
  visit reported, else the ticket's custom field ``fault`` (the desk's diagnosis), else
  ``unreported``; ``parts``: the parts used on every visit, counted per part;
- ``repeat_repairs``: repairs of a serial number that had another repair opened within the
  90 days before (the earlier one may fall before the period);
- ``first_visit_fix_rate`` = repairs fixed on the first visit reported ÷ repairs with a
  visit reported (``None`` when no visit was reported);
- ``monthly``: repairs per month (``YYYY-MM`` of the opening, in the center's time zone).

Pure: the tickets service reads the rows (:func:`hotline.tickets.service.fault_statistics`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

#: A repair of the same serial number this soon after another is a repeat repair.
REPEAT_WINDOW = timedelta(days=90)
UNREPORTED = "unreported"


@dataclass(frozen=True)
class RepairVisit:
    """One visit a provider reported on a repair: when, what was found, parts, fixed."""

    arrived_at: datetime
    fault_found: str
    parts: tuple[str, ...]
    fixed: bool


@dataclass(frozen=True)
class Repair:
    """A repair order as the fault statistics see it."""

    ticket_id: int
    opened_at: datetime
    product_line: str
    model: str
    serial_number: str | None = None
    desk_fault: str = ""
    visits: tuple[RepairVisit, ...] = ()

    @property
    def fault(self) -> str:
        """The fault category: the technician's finding, else the desk's, else unreported."""
        for visit in sorted(self.visits, key=lambda v: v.arrived_at, reverse=True):
            if visit.fault_found.strip():
                return visit.fault_found.strip()
        return self.desk_fault.strip() or UNREPORTED

    @property
    def fixed_on_first_visit(self) -> bool | None:
        """Whether the first visit reported fixed it (``None``: no visit reported)."""
        if not self.visits:
            return None
        return min(self.visits, key=lambda v: v.arrived_at).fixed


@dataclass
class ModelFaults:
    """The fault statistics of one model of one product line."""

    product_line: str
    model: str
    repairs: int = 0
    repeat_repairs: int = 0
    visited: int = 0
    first_visit_fixes: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    parts: dict[str, int] = field(default_factory=dict)
    monthly: dict[str, int] = field(default_factory=dict)

    @property
    def first_visit_fix_rate(self) -> float | None:
        """First-visit fixes ÷ repairs with a visit reported."""
        return self.first_visit_fixes / self.visited if self.visited else None


def repeat_repairs(repairs: Iterable[Repair], window: timedelta = REPEAT_WINDOW) -> set[int]:
    """Ids of the repairs opened within ``window`` after another repair of the same serial.

    >>> from datetime import UTC
    >>> day = lambda d: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=d)
    >>> rows = [Repair(1, day(0), "washer", "W1", "S1"), Repair(2, day(80), "washer", "W1", "S1"),
    ...         Repair(3, day(200), "washer", "W1", "S1"), Repair(4, day(10), "washer", "W1")]
    >>> sorted(repeat_repairs(rows))
    [2]
    """
    by_serial: dict[str, list[Repair]] = defaultdict(list)
    for repair in repairs:
        if repair.serial_number:
            by_serial[repair.serial_number].append(repair)
    repeats: set[int] = set()
    for found in by_serial.values():
        found.sort(key=lambda r: (r.opened_at, r.ticket_id))
        for before, after in pairwise(found):
            if after.opened_at - before.opened_at <= window:
                repeats.add(after.ticket_id)
    return repeats


def fault_statistics(
    repairs: Sequence[Repair],
    *,
    start: datetime,
    end: datetime,
    month_of: dict[int, str],
) -> list[ModelFaults]:
    """Per product line and model, the repairs opened in ``[start, end)``; ``repairs`` may
    hold earlier ones (up to :data:`REPEAT_WINDOW` before) so repeats are found across the
    period's start. ``month_of`` maps a ticket id to its month (``YYYY-MM``). Busiest first.

    >>> from datetime import UTC
    >>> day = lambda d: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=d)
    >>> fixed = lambda d, fault, ok: RepairVisit(day(d), fault, ("thermostat",), ok)
    >>> rows = [Repair(1, day(-30), "water_heater", "JSQ25", "S1"),
    ...         Repair(2, day(5), "water_heater", "JSQ25", "S1", visits=(fixed(6, "E1", True),)),
    ...         Repair(3, day(40), "water_heater", "JSQ25", "S2",
    ...                visits=(fixed(41, "E1", False), fixed(43, "E4", True)))]
    >>> [m] = fault_statistics(rows, start=day(0), end=day(60),
    ...                        month_of={2: "2026-01", 3: "2026-02"})
    >>> m.repairs, m.repeat_repairs, m.first_visit_fix_rate, m.faults, m.parts["thermostat"]
    (2, 1, 0.5, {'E1': 1, 'E4': 1}, 3)
    """
    repeats = repeat_repairs(repairs)
    models: dict[tuple[str, str], ModelFaults] = {}
    for repair in repairs:
        if not start <= repair.opened_at < end:
            continue
        key = (repair.product_line, repair.model)
        row = models.setdefault(key, ModelFaults(*key))
        row.repairs += 1
        row.repeat_repairs += repair.ticket_id in repeats
        first = repair.fixed_on_first_visit
        if first is not None:
            row.visited += 1
            row.first_visit_fixes += first
        _count(row.faults, [repair.fault])
        _count(row.parts, [part for visit in repair.visits for part in visit.parts])
        _count(row.monthly, [month_of[repair.ticket_id]])
    ordered = sorted(models.values(), key=lambda m: (-m.repairs, m.product_line, m.model))
    for row in ordered:
        row.faults = dict(Counter(row.faults).most_common())
        row.parts = dict(Counter(row.parts).most_common())
        row.monthly = dict(sorted(row.monthly.items()))
    return ordered


def _count(into: dict[str, int], keys: Iterable[str]) -> None:
    for key in keys:
        into[key] = into.get(key, 0) + 1
