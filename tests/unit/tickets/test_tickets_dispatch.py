"""Dispatch rules and provider figures, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.tickets.dispatch import (
    ProviderOffer,
    Visit,
    fit,
    provider_figures,
    rank_providers,
)


def at(hour: int, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


HEFEI = ProviderOffer("hf", "Hefei", ("hefei", "lujiang"), ("water_heater",), 3, 1)


def test_a_provider_fits_when_it_serves_the_region_and_product_and_has_room() -> None:
    assert fit(HEFEI, region="lujiang", category="water_heater").eligible
    assert fit(HEFEI, region="chengdu", category="water_heater").reasons == (
        "does not serve region chengdu",
    )
    assert fit(HEFEI, region="hefei", category="refrigerator").reasons == (
        "does not repair refrigerator",
    )
    assert fit(HEFEI, region="", category="water_heater").reasons == (
        "the work order has no region",
    )


def test_a_provider_at_capacity_takes_no_more_work() -> None:
    full = ProviderOffer("hf", "Hefei", ("hefei",), (), 3, 3)
    assert fit(full, region="hefei", category="anything").reasons == ("is full (3 of 3 open)",)
    assert fit(
        ProviderOffer("hf", "Hefei", ("hefei",), (), 3, 2), region="hefei", category=""
    ).eligible


def test_an_empty_category_list_repairs_everything() -> None:
    anything = ProviderOffer("any", "Any", ("hefei",), (), 5, 0)
    assert fit(anything, region="hefei", category="refrigerator").eligible


def test_ranking_puts_fitting_providers_first_least_loaded_by_share_of_capacity() -> None:
    busy = ProviderOffer("busy", "Busy", ("hefei",), (), 10, 5)  # half full
    small = ProviderOffer("small", "Small", ("hefei",), (), 2, 0)  # empty
    big = ProviderOffer("big", "Big", ("hefei",), (), 100, 20)  # a fifth full
    far = ProviderOffer("far", "Far", ("chengdu",), (), 100, 0)
    ranked = rank_providers([busy, far, big, small], region="hefei", category="")
    assert [(f.code, f.eligible) for f in ranked] == [
        ("small", True),
        ("big", True),
        ("busy", True),
        ("far", False),
    ]


def test_first_visit_fix_counts_each_work_order_by_its_first_visit() -> None:
    figures = provider_figures(
        [
            Visit(1, at(10), fixed=True),
            # Order 2: not fixed first, fixed on the second visit: not a first-visit fix.
            Visit(2, at(16), fixed=True),
            Visit(2, at(9), fixed=False),
            Visit(3, at(11), fixed=True),
        ]
    )
    assert (figures.work_orders, figures.visits, figures.first_visit_fixes) == (3, 4, 2)
    assert figures.first_visit_fix_rate == 2 / 3


def test_on_time_counts_only_visits_with_a_window_and_includes_its_edges() -> None:
    figures = provider_figures(
        [
            Visit(1, at(9), fixed=True, window_from=at(9), window_to=at(11)),
            Visit(2, at(11), fixed=True, window_from=at(9), window_to=at(11)),
            Visit(3, at(12), fixed=True, window_from=at(9), window_to=at(11)),
            Visit(4, at(12), fixed=True),
        ]
    )
    assert (figures.timed_visits, figures.on_time_visits) == (3, 2)
    assert figures.on_time_rate == 2 / 3
    assert Visit(4, at(12), fixed=True).on_time is None


def test_no_visits_means_no_rates_not_zero() -> None:
    figures = provider_figures([])
    assert figures.first_visit_fix_rate is None and figures.on_time_rate is None
