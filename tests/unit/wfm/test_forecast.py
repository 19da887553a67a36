"""Forecasting on synthetic centers whose true pattern is known."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from hotline.wfm.forecast import (
    ForecastSettings,
    History,
    SpecialDay,
    backtest,
    forecast,
    seasonal_naive,
    staffed_mask,
    wape_and_bias,
)

START = date(2026, 1, 5)  # a Monday
SLOTS = 48


def true_rates(days: int, *, growth_per_week: float = 0.0, special: dict[int, float] | None = None):
    """Open 08:00–20:00; Mondays busiest, Sundays closed; a morning and afternoon peak."""
    weekday_level = np.array([1.4, 1.2, 1.1, 1.0, 0.9, 0.5, 0.0])
    hours = np.arange(SLOTS) / 2
    profile = np.where(
        (hours >= 8) & (hours < 20),
        1.0 + 0.6 * np.exp(-((hours - 10.5) ** 2) / 2) + 0.4 * np.exp(-((hours - 15) ** 2) / 2),
        0.0,
    )
    profile /= profile.sum()
    rates = np.zeros((days, SLOTS))
    for d in range(days):
        level = 1200 * weekday_level[(START + timedelta(days=d)).weekday()]
        level *= (1 + growth_per_week) ** (d / 7)
        if special and d in special:
            level *= special[d]
        rates[d] = level * profile
    return rates


def history_from(rates, seed=7):
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rates).astype(float)
    handle = counts * 200.0 + rng.normal(0, 5, counts.shape) * counts
    return History(START, 1800, "UTC", counts, counts.copy(), handle)


def test_forecast_recovers_the_weekday_and_intraday_pattern():
    rates = true_rates(70)
    history = history_from(rates[:56])
    result = forecast(history, days=14)
    truth = rates[56:]
    wape, bias = wape_and_bias(truth, result.offered)
    assert wape < 0.06
    assert abs(bias) < 0.03
    closed = truth == 0
    assert np.all(result.offered[closed] < 0.5)
    assert result.aht_s[~closed].mean() == pytest.approx(200.0, rel=0.02)


def test_forecast_follows_a_real_trend():
    rates = true_rates(126, growth_per_week=0.03)
    history = history_from(rates[:112])
    result = forecast(history, days=14)
    truth = rates[112:]
    _, bias = wape_and_bias(truth, result.offered)
    flat = forecast(history, days=14, settings=ForecastSettings(half_life_weeks=1000.0))
    assert abs(bias) < 0.04
    # without a trend term the level would sit at the training average, ~20 % low
    assert result.offered.sum() > flat.offered.sum() * 0.95


def test_prediction_intervals_cover_about_their_level():
    rates = true_rates(84)
    history = history_from(rates, seed=11)
    result = forecast(history.truncated(70), days=14)
    actual = history.offered[70:]
    open_ = rates[70:] > 0
    inside = (actual >= result.offered_low) & (actual <= result.offered_high)
    coverage = inside[open_].mean()
    assert 0.7 <= coverage <= 0.97  # nominal 80 %, integer counts make it a little wider


def test_a_learnt_holiday_is_forecast_low_and_an_unknown_label_is_noted():
    special = {17: 0.2, 38: 0.2, 59: 0.2}
    rates = true_rates(70, special=special)
    history = history_from(rates[:56])
    calendar = [SpecialDay(START + timedelta(days=d), "holiday") for d in special]
    result = forecast(history, days=14, calendar=calendar)
    assert result.labels[3] == "holiday"
    assert result.offered[3].sum() == pytest.approx(rates[59].sum(), rel=0.2)
    plain = forecast(history, days=14)
    assert plain.offered[3].sum() > 3 * result.offered[3].sum()

    promotion = [SpecialDay(START + timedelta(days=58), "promotion")]
    noted = forecast(history, days=14, calendar=promotion)
    assert any("promotion" in note for note in noted.notes)


def test_calendar_factor_and_like_override():
    rates = true_rates(70)
    history = history_from(rates[:56])
    day = START + timedelta(days=57)  # a Tuesday
    closed = forecast(history, days=7, calendar=[SpecialDay(day, "closed", factor=0.0)])
    assert closed.offered[1].sum() == 0
    like_saturday = forecast(history, days=7, calendar=[SpecialDay(day, "eve", like="saturday")])
    plain = forecast(history, days=7)
    assert like_saturday.offered[1].sum() == pytest.approx(plain.offered[5].sum(), rel=0.01)


def test_an_outage_day_in_history_does_not_drag_the_forecast_down():
    rates = true_rates(70)
    history = history_from(rates[:56])
    damaged = history.offered.copy()
    damaged[50] *= 0.02  # a recording gap on a Tuesday
    broken = History(START, 1800, "UTC", damaged, history.answered, history.handle_s)
    result = forecast(broken, days=14)
    assert any("unusual" in note for note in result.notes)
    wape, _ = wape_and_bias(rates[56:], result.offered)
    assert wape < 0.07


def test_backtest_reports_both_methods_per_horizon():
    rates = true_rates(98)
    history = history_from(rates)
    rows = backtest(history, horizon_days=14, origins=[56, 63, 70])
    methods = {r.method for r in rows}
    assert methods == {"hotline", "seasonal_naive"}
    overall = {r.method: r for r in rows if r.horizon_day == 0}
    assert overall["hotline"].wape < overall["seasonal_naive"].wape
    # horizon days 7 and 14 are closed Sundays: nothing to score
    assert {r.horizon_day for r in rows if r.method == "hotline"} == set(range(15)) - {7, 14}


def test_staffed_mask_and_seasonal_naive():
    rates = true_rates(28)
    history = history_from(rates)
    mask = staffed_mask(history, origin=21, days=7)
    assert mask[6].sum() == 0  # Sunday closed
    assert mask[0].sum() == 24  # 08:00–20:00
    naive = seasonal_naive(history, origin=21, days=7)
    assert np.array_equal(naive, history.offered[14:21])


def test_too_little_history_is_refused():
    history = history_from(true_rates(10))
    with pytest.raises(ValueError, match="two weeks"):
        forecast(history, days=7)


def test_history_from_contacts_uses_local_time():
    # 23:30 UTC on 4 Jan is 00:30 on 5 Jan in Jerusalem (UTC+2)
    moment = 1767569400.0
    history = History.from_contacts(
        queued_at=[moment], handle_s=[None], interval_s=3600, timezone="Asia/Jerusalem"
    )
    assert history.first_day == date(2026, 1, 5)
    assert history.offered[0, 1] == 1
    assert history.answered.sum() == 0


def test_a_first_holiday_learns_from_earlier_days_of_its_kind():
    # Two earlier eves of other holidays ran at 30 %; the new label has never been seen.
    special = {17: 0.3, 38: 0.3, 59: 0.3}
    rates = true_rates(70, special=special)
    history = history_from(rates[:56])
    calendar = [
        SpecialDay(START + timedelta(days=17), "new_year_eve", kind="holiday_eve"),
        SpecialDay(START + timedelta(days=38), "spring_eve", kind="holiday_eve"),
        SpecialDay(START + timedelta(days=59), "autumn_eve", kind="holiday_eve"),
    ]
    result = forecast(history, days=14, calendar=calendar)
    assert result.offered[3].sum() == pytest.approx(rates[59].sum(), rel=0.2)
    assert not any("autumn_eve" in note for note in result.notes)
    # Without the kind the same day is an unknown label: ordinary volume, and a note.
    unkind = [SpecialDay(s.day, s.label) for s in calendar]
    plain = forecast(history, days=14, calendar=unkind)
    assert plain.offered[3].sum() > 2.5 * result.offered[3].sum()
    assert any("autumn_eve" in note for note in plain.notes)


def test_a_calendar_prior_applies_only_until_the_history_shows_the_effect():
    special = {31: 0.6, 59: 0.6}  # a half-volume day, not the 0.1 the calendar assumed
    rates = true_rates(70, special=special)
    history = history_from(rates[:56])
    first = SpecialDay(START + timedelta(days=31), "festival", factor=0.1)
    second = SpecialDay(START + timedelta(days=59), "festival", factor=0.1)
    before = forecast(history.truncated(28), days=7, calendar=[first, second])
    assert before.offered[3].sum() == pytest.approx(0.1 * rates[31].sum() / 0.6, rel=0.2)
    learnt = forecast(history, days=14, calendar=[first, second])
    assert learnt.offered[3].sum() == pytest.approx(rates[59].sum(), rel=0.2)


def test_days_left_out_of_the_fit_are_listed_with_their_reason():
    rates = true_rates(70)
    history = history_from(rates[:56])
    offered = history.offered.copy()
    offered[43] *= 0.3  # an outage on a Tuesday
    offered[36] = 0.0  # a recording gap on a Tuesday
    broken = History(START, 1800, "UTC", offered, history.answered, history.handle_s)
    result = forecast(broken, days=7)
    by_day = {e.day: e for e in result.excluded}
    assert set(by_day) == {START + timedelta(days=36), START + timedelta(days=43)}
    gap, outage = by_day[START + timedelta(days=36)], by_day[START + timedelta(days=43)]
    assert "recording gap" in gap.describe() and gap.actual == 0
    assert outage.expected == pytest.approx(outage.actual / 0.3, rel=0.15)
    assert "unusual volume (0.3" in outage.describe(), outage.describe()
    # Sundays are closed every week: not a gap, not listed.
    assert all(e.day.weekday() != 6 for e in result.excluded)


def test_queue_forecasts_add_up_to_the_total_and_keep_their_own_split():
    from hotline.wfm.forecast import forecast_by_queue, reconcile

    rates = true_rates(70)
    sales = history_from(rates[:56] * 0.7, seed=1)
    care = history_from(rates[:56] * 0.3, seed=2)
    total = History(
        START,
        1800,
        "UTC",
        sales.offered + care.offered,
        sales.answered + care.answered,
        sales.handle_s + care.handle_s,
    )
    result = forecast_by_queue(total, {"sales": sales, "care": care}, days=7)
    summed = result.queues["sales"].offered + result.queues["care"].offered
    np.testing.assert_allclose(summed, result.total.offered, rtol=1e-9, atol=1e-9)
    share = result.queues["sales"].offered.sum() / result.total.offered.sum()
    assert share == pytest.approx(0.7, abs=0.03)
    for queue in result.queues.values():
        assert np.all(queue.offered_low <= queue.offered + 1e-9)
        assert np.all(queue.offered <= queue.offered_high + 1e-9)
    with pytest.raises(ValueError, match="every part must have"):
        reconcile(np.zeros((1, 2)), {"a": np.zeros((1, 3))})
