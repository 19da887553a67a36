"""Field-service dispatch rules: which provider may take a work order, and how providers do.

A repair or installation order goes to a field-service provider (服务网点) that serves the
order's **region**, repairs its **product category**, and has room: its open work orders
are fewer than its **capacity** (all three from the center configuration's
``service_providers``). Among those that fit, the least loaded (open orders over capacity)
comes first, so work spreads instead of piling on the first name in the list.

The provider reports each visit: the fault found, the parts used, whether the problem is
fixed, and when the technician arrived. Two figures per provider follow from the visits:

- **first-visit fix rate**: of the work orders visited, the share fixed on the first visit
  (a second trip costs the customer a day and the center a repeat contact);
- **on-time visits**: of the visits made with an agreed appointment window, the share that
  arrived inside it.

Everything here is pure: the service layer brings the loads and the visits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ProviderOffer:
    """A provider as dispatch sees it: service area, categories, capacity, open load."""

    code: str
    name: str
    regions: tuple[str, ...]
    categories: tuple[str, ...]
    capacity: int
    open_load: int


@dataclass(frozen=True)
class ProviderFit:
    """Whether a provider may take one work order, and why not when it may not."""

    code: str
    name: str
    open_load: int
    capacity: int
    reasons: tuple[str, ...]

    @property
    def eligible(self) -> bool:
        """True when nothing stands against dispatching to this provider."""
        return not self.reasons


def fit(provider: ProviderOffer, *, region: str, category: str) -> ProviderFit:
    """Check one provider against a work order's region and category.

    >>> offer = ProviderOffer("hf", "Hefei", ("hefei",), ("water_heater",), 2, 2)
    >>> fit(offer, region="chengdu", category="refrigerator").reasons
    ('does not serve region chengdu', 'does not repair refrigerator', 'is full (2 of 2 open)')
    """
    reasons: list[str] = []
    if not region:
        reasons.append("the work order has no region")
    elif region not in provider.regions:
        reasons.append(f"does not serve region {region}")
    if provider.categories and category not in provider.categories:
        reasons.append(f"does not repair {category or 'uncategorised products'}")
    if provider.open_load >= provider.capacity:
        reasons.append(f"is full ({provider.open_load} of {provider.capacity} open)")
    return ProviderFit(
        provider.code, provider.name, provider.open_load, provider.capacity, tuple(reasons)
    )


def rank_providers(
    providers: Iterable[ProviderOffer], *, region: str, category: str
) -> list[ProviderFit]:
    """Every provider checked for a work order: those that fit first, least loaded first.

    >>> near = ProviderOffer("a", "A", ("hefei",), (), 10, 6)
    >>> idle = ProviderOffer("b", "B", ("hefei",), (), 10, 1)
    >>> far = ProviderOffer("c", "C", ("chengdu",), (), 10, 0)
    >>> [(f.code, f.eligible) for f in rank_providers([near, idle, far], region="hefei",
    ...                                                category="")]
    [('b', True), ('a', True), ('c', False)]
    """
    fits = [fit(p, region=region, category=category) for p in providers]
    return sorted(fits, key=lambda f: (not f.eligible, f.open_load / f.capacity, f.code))


@dataclass(frozen=True)
class Visit:
    """One visit a provider reported on a work order."""

    ticket_id: int
    arrived_at: datetime
    fixed: bool
    window_from: datetime | None = None
    window_to: datetime | None = None

    @property
    def on_time(self) -> bool | None:
        """Whether the visit was inside its appointment window (``None``: no window agreed)."""
        if self.window_from is None or self.window_to is None:
            return None
        return self.window_from <= self.arrived_at <= self.window_to


@dataclass(frozen=True)
class ProviderFigures:
    """A provider's field-service figures over the visits given."""

    work_orders: int
    visits: int
    first_visit_fixes: int
    timed_visits: int
    on_time_visits: int

    @property
    def first_visit_fix_rate(self) -> float | None:
        """Share of visited work orders fixed on their first visit (``None``: no visits)."""
        return self.first_visit_fixes / self.work_orders if self.work_orders else None

    @property
    def on_time_rate(self) -> float | None:
        """Share of visits with a window that arrived inside it (``None``: none had one)."""
        return self.on_time_visits / self.timed_visits if self.timed_visits else None


def provider_figures(visits: Sequence[Visit]) -> ProviderFigures:
    """First-visit fix and on-time figures of one provider's visits.

    >>> from datetime import UTC
    >>> at = lambda h: datetime(2026, 12, 1, h, tzinfo=UTC)
    >>> figures = provider_figures([
    ...     Visit(1, at(10), fixed=True, window_from=at(9), window_to=at(11)),
    ...     Visit(2, at(15), fixed=False, window_from=at(9), window_to=at(11)),
    ...     Visit(2, at(16), fixed=True),
    ... ])
    >>> figures.first_visit_fix_rate, figures.on_time_rate
    (0.5, 0.5)
    """
    first: dict[int, Visit] = {}
    for visit in sorted(visits, key=lambda v: v.arrived_at):
        first.setdefault(visit.ticket_id, visit)
    timed = [v for v in visits if v.on_time is not None]
    return ProviderFigures(
        work_orders=len(first),
        visits=len(visits),
        first_visit_fixes=sum(1 for v in first.values() if v.fixed),
        timed_visits=len(timed),
        on_time_visits=sum(1 for v in timed if v.on_time),
    )
