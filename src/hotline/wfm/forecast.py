"""Contact volume and AHT forecasts per interval, with prediction intervals and backtests.

A planner needs, for every 15/30/60-minute interval of the coming days, how many contacts
will be *offered* (queued, METRICS.md ``offered``) and their average handling time (``aht_s``).
The model is the one most contact-center planners use, made robust and honest:

* **daily volume** — ``log(volume of day d) = weekday level + slope · d``, fitted by weighted
  least squares with exponentially fading weights (recent weeks count more), one round of
  outlier rejection (data gaps, overload days) and a shrunken slope so that noise is not
  extrapolated as a trend; Duan's smearing estimator turns the log-scale fit into a mean;
* **intraday profile** — each weekday's share of its volume per interval, from the same
  weighted weeks;
* **special days** from a user calendar (public holidays, promotions, elections): a labelled
  day is left out of the ordinary fit; its volume factor and intraday shape are learnt from
  earlier days with the same label, or taken from the calendar's ``factor`` / ``like`` columns;
* **prediction intervals** — negative-binomial bounds whose over-dispersion is measured on
  pseudo-out-of-sample forecasts made inside the training history (so the bounds reflect real
  forecast error, not the in-sample fit);
* **AHT** per weekday × interval, shrunk toward the weekday's AHT where intervals are thin.

Everything works on a :class:`History`: day × interval matrices of offered contacts, answered
contacts and handling seconds in the center's local time. Building one from contact records
is done by :mod:`hotline.wfm.files`. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FloatArray = NDArray[np.float64]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class SpecialDay:
    """One calendar entry: a date with a label, optionally a kind, and how it may behave.

    The effect of a special day is learnt from the data: its volume factor (against the level
    an ordinary day of its weekday would have) and its intraday shape come from earlier days
    with the same ``label`` (e.g. ``passover``), else from earlier days of the same ``kind``
    (e.g. ``holiday_eve``: every eve of every holiday). Only when the history holds neither do
    the calendar's own priors apply: ``like`` names a weekday whose level and intraday shape
    the day follows (a holiday eve that behaves like a Friday), ``factor`` multiplies the
    day's volume (0 = closed). Without any, the day is forecast as an ordinary one and a note
    says so.
    """

    day: date
    label: str
    factor: float | None = None
    like: str | None = None
    kind: str | None = None

    def __post_init__(self) -> None:
        if self.like is not None and self.like.lower() not in WEEKDAYS:
            raise ValueError(f"like must be a weekday name, got {self.like!r}")
        if self.factor is not None and self.factor < 0:
            raise ValueError("factor must not be negative")


@dataclass(frozen=True)
class History:
    """Offered, answered and handling seconds per local day × interval.

    ``offered[d, s]`` counts contacts queued on day ``first_day + d`` in interval ``s``.
    """

    first_day: date
    interval_s: int
    timezone: str
    offered: FloatArray
    answered: FloatArray
    handle_s: FloatArray

    def __post_init__(self) -> None:
        if 86400 % self.interval_s:
            raise ValueError("the interval must divide a day (e.g. 15, 30 or 60 minutes)")
        shape = (self.offered.shape[0], 86400 // self.interval_s)
        for name in ("offered", "answered", "handle_s"):
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} must have shape {shape}")

    @property
    def days(self) -> int:
        """Number of days covered."""
        return int(self.offered.shape[0])

    @property
    def slots(self) -> int:
        """Intervals per day."""
        return 86400 // self.interval_s

    def day(self, index: int) -> date:
        """The local date of day ``index``."""
        return self.first_day + timedelta(days=index)

    def weekday(self, index: int) -> int:
        """Monday = 0 … Sunday = 6 of day ``index``."""
        return self.day(index).weekday()

    def truncated(self, days: int) -> History:
        """The first ``days`` days only (what was known before day ``days``)."""
        return History(
            self.first_day,
            self.interval_s,
            self.timezone,
            self.offered[:days],
            self.answered[:days],
            self.handle_s[:days],
        )

    @classmethod
    def from_contacts(
        cls,
        *,
        queued_at: Iterable[float],
        handle_s: Iterable[float | None],
        interval_s: int,
        timezone: str,
        first_day: date | None = None,
        last_day: date | None = None,
    ) -> History:
        """Bin contacts (epoch seconds when queued; handling seconds or ``None`` if not
        answered) into a history in the local time zone.

        >>> h = History.from_contacts(queued_at=[0.0, 60.0, 1900.0], handle_s=[100, None, 50],
        ...                           interval_s=1800, timezone="UTC")
        >>> h.first_day, h.offered[0, :2].tolist(), h.handle_s[0, :2].tolist()
        (datetime.date(1970, 1, 1), [2.0, 1.0], [100.0, 50.0])
        """
        zone = ZoneInfo(timezone)
        times = list(queued_at)
        handles = list(handle_s)
        if len(times) != len(handles):
            raise ValueError("queued_at and handle_s must have the same length")
        local = [datetime.fromtimestamp(t, zone) for t in times]
        if not local and (first_day is None or last_day is None):
            raise ValueError("no contacts to build a history from")
        start = first_day or min(t.date() for t in local)
        end = last_day or max(t.date() for t in local)
        days = (end - start).days + 1
        slots = 86400 // interval_s
        offered = np.zeros((days, slots))
        answered = np.zeros((days, slots))
        handled = np.zeros((days, slots))
        for moment, handle in zip(local, handles, strict=True):
            d = (moment.date() - start).days
            if not 0 <= d < days:
                continue
            s = (moment.hour * 3600 + moment.minute * 60 + moment.second) // interval_s
            offered[d, s] += 1
            if handle is not None:
                answered[d, s] += 1
                handled[d, s] += handle
        return cls(start, interval_s, timezone, offered, answered, handled)


@dataclass(frozen=True, slots=True)
class ForecastSettings:
    """Knobs of the forecaster; the defaults are meant for any center, not one data set."""

    training_weeks: int = 16
    half_life_weeks: float = 5.0
    level: float = 0.8  # coverage of the prediction interval
    pseudo_origins: int = 3  # weeks of pseudo-out-of-sample forecasts for the bounds
    aht_prior_contacts: float = 30.0
    outlier_log_ratio: float = 0.4  # |log(actual / fit)| beyond this (and 4 MADs) is dropped


@dataclass(frozen=True, slots=True)
class IntervalForecast:
    """One forecast interval: offered contacts and AHT with their prediction bounds."""

    interval_start: datetime
    offered: float
    offered_low: float
    offered_high: float
    aht_s: float
    aht_s_low: float
    aht_s_high: float
    special_day: str | None = None

    def as_row(self) -> dict[str, object]:
        """A flat row for CSV/JSON output."""
        return {
            "interval_start": self.interval_start.isoformat(),
            "offered": round(self.offered, 3),
            "offered_low": round(self.offered_low, 3),
            "offered_high": round(self.offered_high, 3),
            "aht_s": round(self.aht_s, 1),
            "aht_s_low": round(self.aht_s_low, 1),
            "aht_s_high": round(self.aht_s_high, 1),
            "special_day": self.special_day or "",
        }


@dataclass(frozen=True, slots=True)
class ExcludedDay:
    """A day of the training window left out of the fit, and why (shown to the planner)."""

    day: date
    reason: str
    actual: float
    expected: float | None = None

    def describe(self) -> str:
        """One line: the day, its volume and the reason.

        >>> ExcludedDay(date(1999, 3, 8), "unusual volume", 474.0, 1890.0).describe()
        '1999-03-08 (Monday): 474 contacts against 1890 expected: unusual volume'
        """
        against = f" against {self.expected:.0f} expected" if self.expected is not None else ""
        return (
            f"{self.day} ({WEEKDAYS[self.day.weekday()].capitalize()}): "
            f"{self.actual:.0f} contacts{against}: {self.reason}"
        )


@dataclass(frozen=True)
class _PointModel:
    """Point forecasts for ``days`` days from ``origin`` (a day index of the history)."""

    origin: int
    offered: FloatArray  # days × slots
    aht_s: FloatArray
    labels: list[str | None]
    notes: list[str]
    excluded: list[ExcludedDay] = field(default_factory=list)


@dataclass(frozen=True)
class Forecast:
    """A forecast over whole days, with its bounds, as produced by :func:`forecast`."""

    history: History
    origin: int
    offered: FloatArray
    offered_low: FloatArray
    offered_high: FloatArray
    aht_s: FloatArray
    aht_s_low: FloatArray
    aht_s_high: FloatArray
    labels: list[str | None]
    dispersion: float
    notes: list[str] = field(default_factory=list)
    excluded: list[ExcludedDay] = field(default_factory=list)
    """Days of the training window left out of the fit, each with its reason."""

    def intervals(self) -> list[IntervalForecast]:
        """One :class:`IntervalForecast` per interval, in time order, with local timestamps."""
        zone = ZoneInfo(self.history.timezone)
        rows = []
        for d in range(self.offered.shape[0]):
            day = self.history.day(self.origin + d)
            midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
            for s in range(self.offered.shape[1]):
                rows.append(
                    IntervalForecast(
                        interval_start=midnight + timedelta(seconds=s * self.history.interval_s),
                        offered=float(self.offered[d, s]),
                        offered_low=float(self.offered_low[d, s]),
                        offered_high=float(self.offered_high[d, s]),
                        aht_s=float(self.aht_s[d, s]),
                        aht_s_low=float(self.aht_s_low[d, s]),
                        aht_s_high=float(self.aht_s_high[d, s]),
                        special_day=self.labels[d],
                    )
                )
        return rows


# --------------------------------------------------------------------------- overrides


@dataclass(frozen=True, slots=True)
class ForecastOverride:
    """A planner's manual correction of the forecast: ``percent`` more (or fewer, when
    negative) contacts on ``day`` between ``start`` and ``end`` (local clock, ``end`` not
    included), with the reason kept beside it, e.g. +20 % on Tuesday 09:00–12:00 for a
    mailing that lands that morning. ``queue`` ``None`` applies to every queue's forecast.

    An interval is corrected when it *starts* inside [``start``, ``end``).
    """

    day: date
    start: time
    end: time
    percent: float
    reason: str
    queue: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"the override ends ({self.end:%H:%M}) before it starts")
        if self.percent < -100:
            raise ValueError("an override takes away at most 100 % of the contacts")

    def describe(self) -> str:
        """One line for the forecast's notes.

        >>> ForecastOverride(date(2026, 3, 3), time(9), time(12), 20.0, "mailing").describe()
        'override +20 % on 2026-03-03 09:00–12:00 (all queues): mailing'
        """
        return (
            f"override {self.percent:+g} % on {self.day} {self.start:%H:%M}–{self.end:%H:%M} "
            f"({self.queue or 'all queues'}): {self.reason}"
        )


def apply_overrides(result: Forecast, overrides: Iterable[ForecastOverride]) -> Forecast:
    """The forecast with each override's factor applied to the offered contacts (and their
    bounds) of the intervals it covers; each override applied is noted. AHT is unchanged: an
    override says how many will call, not how long they talk.

    Overrides compound where they overlap (+20 % and +10 % give +32 %).

    >>> h = History(date(2026, 3, 2), 21600, "UTC", np.ones((1, 4)), np.ones((1, 4)),
    ...             np.ones((1, 4)))
    >>> f = Forecast(h, 0, np.full((1, 4), 10.0), np.full((1, 4), 8.0), np.full((1, 4), 12.0),
    ...              np.full((1, 4), 180.0), np.full((1, 4), 170.0), np.full((1, 4), 190.0),
    ...              [None], 0.0)
    >>> o = ForecastOverride(date(2026, 3, 2), time(6), time(12), 20.0, "mailing")
    >>> g = apply_overrides(f, [o])
    >>> g.offered[0].tolist(), round(float(g.offered_high[0, 1]), 2)
    ([10.0, 12.0, 10.0, 10.0], 14.4)
    >>> g.notes
    ['override +20 % on 2026-03-02 06:00–12:00 (all queues): mailing']
    """
    factor = np.ones_like(result.offered)
    notes = list(result.notes)
    first = result.history.day(result.origin)
    step = result.history.interval_s
    for override in overrides:
        d = (override.day - first).days
        if not 0 <= d < factor.shape[0]:
            continue
        begin = override.start.hour * 3600 + override.start.minute * 60
        finish = override.end.hour * 3600 + override.end.minute * 60
        slots = [s for s in range(factor.shape[1]) if begin <= s * step < finish]
        if not slots:
            continue
        factor[d, slots] *= 1.0 + override.percent / 100.0
        notes.append(override.describe())
    return replace(
        result,
        offered=result.offered * factor,
        offered_low=result.offered_low * factor,
        offered_high=result.offered_high * factor,
        notes=notes,
    )


# --------------------------------------------------------------------------- the model


def _weights(history_days: Sequence[int], origin: int, half_life_days: float) -> FloatArray:
    return np.array([0.5 ** ((origin - d) / half_life_days) for d in history_days])


def _point_forecast(
    history: History,
    origin: int,
    days: int,
    calendar: Mapping[date, SpecialDay],
    settings: ForecastSettings,
) -> _PointModel:
    """Fit on days before ``origin`` and forecast ``days`` days from it."""
    notes: list[str] = []
    first = max(0, origin - 7 * settings.training_weeks)
    totals = history.offered.sum(axis=1)
    half_life = 7.0 * settings.half_life_weeks
    ordinary = [d for d in range(first, origin) if history.day(d) not in calendar and totals[d] > 0]
    if origin - first < 14 or not ordinary:
        raise ValueError("a forecast needs at least two weeks of history")
    # A weekday with no contacts at all in the window is a closed day, not missing data.
    open_days = sorted({history.weekday(d) for d in ordinary})
    excluded = [
        ExcludedDay(
            history.day(d),
            "no contacts on a day this weekday is open: a recording gap or an unlisted closure",
            0.0,
        )
        for d in range(first, origin)
        if totals[d] == 0 and history.day(d) not in calendar and history.weekday(d) in open_days
    ]

    # Daily level: log(total) = weekday level + slope·(d − origin), WLS, one outlier round.
    def fit(days_used: list[int]) -> tuple[FloatArray, FloatArray, float]:
        x = np.zeros((len(days_used), 8))
        for row, d in enumerate(days_used):
            x[row, history.weekday(d)] = 1.0
            x[row, 7] = (d - origin) / 7.0
        x = x[:, [*open_days, 7]]
        y = np.log(totals[days_used])
        w = _weights(days_used, origin, half_life)
        sw = np.sqrt(w)
        coef, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
        residual = y - x @ coef
        # Standard error of the slope, to shrink it toward zero when it is mostly noise.
        dof = max(1.0, float(w.sum()) - x.shape[1])
        sigma2 = float((w * residual**2).sum()) / dof
        try:
            cov = sigma2 * np.linalg.inv((x * w[:, None]).T @ x)
            slope_se = math.sqrt(max(cov[-1, -1], 0.0))
        except np.linalg.LinAlgError:
            slope_se = math.inf
        slope = float(coef[-1])
        keep = 0.0
        if slope and math.isfinite(slope_se):
            # James–Stein-like shrinkage: a slope within its own noise is mostly not a trend.
            keep = max(0.0, 1.0 - (slope_se / abs(slope)) ** 2)
        full = np.full(8, -np.inf)
        full[open_days] = coef[:-1]
        full[7] = slope * keep
        return full, residual, sigma2

    coef, residual, _ = fit(ordinary)
    mad = float(np.median(np.abs(residual - np.median(residual)))) * 1.4826
    limit = max(settings.outlier_log_ratio, 4.0 * mad)
    kept = [d for d, r in zip(ordinary, residual, strict=True) if abs(r) <= limit]
    outliers = [(d, r) for d, r in zip(ordinary, residual, strict=True) if abs(r) > limit]
    if {history.weekday(d) for d in kept} == set(open_days):
        if outliers:
            notes.append(
                f"{len(outliers)} unusual day(s) left out of the fit at origin "
                f"{history.day(origin)}"
            )
        coef, residual, _ = fit(kept)
    else:
        kept, outliers = ordinary, []
    weights = _weights(kept, origin, half_life)
    smearing = float((weights * np.exp(residual)).sum() / weights.sum())

    def level(d: int, weekday: int) -> float:
        if weekday not in open_days:
            return 0.0
        return math.exp(coef[weekday] + coef[7] * (d - origin) / 7.0) * smearing

    for d, r in outliers:
        expected = level(d, history.weekday(d))
        excluded.append(
            ExcludedDay(
                history.day(d),
                f"unusual volume ({totals[d] / expected:.2f}× the level fitted without it; "
                f"|log ratio| {abs(r):.2f} beyond {limit:.2f}, the larger of "
                f"{settings.outlier_log_ratio} and 4 MADs)",
                float(totals[d]),
                expected,
            )
        )
    excluded.sort(key=lambda e: e.day)

    # Intraday shape per weekday, and AHT per weekday × interval, from the kept days.
    slots = history.slots
    shape = np.zeros((7, slots))
    handle = np.zeros((7, slots))
    answered = np.zeros((7, slots))
    weight_sum = np.zeros(7)
    weight_square = np.zeros(7)
    volume = np.zeros(7)
    for d, w in zip(kept, weights, strict=True):
        wd = history.weekday(d)
        shape[wd] += w * history.offered[d] / totals[d]
        handle[wd] += w * history.handle_s[d]
        answered[wd] += w * history.answered[d]
        weight_sum[wd] += w
        weight_square[wd] += w * w
        volume[wd] += w * totals[d]
    sums = shape.sum(axis=1, keepdims=True)
    shape = np.divide(shape, sums, out=np.zeros_like(shape), where=sums > 0)
    shape = _pool_shapes(shape, weight_sum, weight_square, volume)
    all_handle = history.handle_s[kept].sum()
    all_answered = max(history.answered[kept].sum(), 1.0)
    overall_aht = float(all_handle / all_answered) if all_answered else 0.0
    day_aht = np.where(
        answered.sum(axis=1) > 0,
        handle.sum(axis=1) / np.maximum(answered.sum(axis=1), 1e-12),
        overall_aht,
    )
    # Weights are ~1 for recent weeks, so the prior acts like that many contacts.
    prior = settings.aht_prior_contacts
    aht_table = (handle + prior * day_aht[:, None]) / (answered + prior)

    offered = np.zeros((days, slots))
    aht = np.zeros((days, slots))
    labels: list[str | None] = []
    for k in range(days):
        d = origin + k
        day = history.day(d)
        weekday = day.weekday()
        special = calendar.get(day)
        labels.append(special.label if special else None)
        day_shape = shape[weekday]
        day_volume = level(d, weekday)
        if special is not None:
            learnt = _learn_special(
                history,
                origin=origin,
                calendar=calendar,
                level=level,
                label=special.label,
            )
            if learnt is None and special.kind is not None:
                learnt = _learn_special(
                    history,
                    origin=origin,
                    calendar=calendar,
                    level=level,
                    kind=special.kind,
                )
            if learnt is not None:
                day_volume *= learnt[0]
                day_shape = learnt[1]
            elif special.like is not None or special.factor is not None:
                if special.like is not None:
                    like = WEEKDAYS.index(special.like.lower())
                    day_volume, day_shape, weekday = level(d, like), shape[like], like
                if special.factor is not None:
                    day_volume *= special.factor
            else:
                notes.append(
                    f"{day} ({special.label}): no earlier day with this label or kind, no "
                    "factor or like given; forecast as an ordinary day"
                )
        offered[k] = day_volume * day_shape
        aht[k] = aht_table[weekday]
    return _PointModel(origin, offered, aht, labels, notes, excluded)


def _pool_shapes(
    shape: FloatArray, weight_sum: FloatArray, weight_square: FloatArray, volume: FloatArray
) -> FloatArray:
    """Shrink each weekday's intraday shape toward the pooled shape, James–Stein style.

    A weekday seen on a handful of days has a noisy shape (a 30-minute share from five
    Poisson counts of ten is ±14 %). Weekdays whose true shapes are alike (Monday to Thursday
    in most centers) gain from pooling; a weekday that differs (a half-day Friday) keeps its
    own, because the shrinkage factor compares the Poisson noise of its shares with how far
    they actually are from the pool (Efron & Morris, JASA 70, 1975).
    """
    open_days = weight_sum > 0
    if open_days.sum() < 2:
        return shape
    effective = np.where(open_days, weight_sum**2 / np.maximum(weight_square, 1e-12), 0.0)
    mean_volume = np.where(open_days, volume / np.maximum(weight_sum, 1e-12), 0.0)
    counts = effective * mean_volume
    pooled = (shape * counts[:, None]).sum(axis=0) / counts.sum()
    result = shape.copy()
    for wd in np.flatnonzero(open_days):
        noise = float((shape[wd] / max(counts[wd], 1e-9)).sum())  # Σ var of each share
        spread = float(((shape[wd] - pooled) ** 2).sum())
        shrink = noise / spread if spread > noise else 1.0
        result[wd] = (1.0 - shrink) * shape[wd] + shrink * pooled
    return result


def _learn_special(
    history: History,
    *,
    origin: int,
    calendar: Mapping[date, SpecialDay],
    level: Callable[[int, int], float],
    label: str | None = None,
    kind: str | None = None,
) -> tuple[float, FloatArray] | None:
    """Volume factor and intraday shape of earlier special days with this ``label`` (or, if
    given instead, this ``kind``), if any: Σ actual ÷ Σ the ordinary level of their
    weekdays, and their pooled intraday shape."""

    def matches(special: SpecialDay) -> bool:
        return special.label == label if label is not None else special.kind == kind

    seen = [
        d for d in range(origin) if (s := calendar.get(history.day(d))) is not None and matches(s)
    ]
    if not seen:
        return None
    totals = history.offered[seen].sum(axis=1)
    expected = np.array([level(d, history.weekday(d)) for d in seen])
    if expected.sum() <= 0:
        return None
    factor = float(totals.sum() / expected.sum())
    if totals.sum() > 0:
        shape = history.offered[seen].sum(axis=0) / totals.sum()
    else:
        shape = np.full(history.slots, 1.0 / history.slots)
    return factor, shape


def forecast(
    history: History,
    *,
    days: int,
    origin: int | None = None,
    calendar: Iterable[SpecialDay] = (),
    settings: ForecastSettings | None = None,
) -> Forecast:
    """Forecast ``days`` whole days starting at day index ``origin`` (default: after the end).

    Only days before ``origin`` are used, so the same call serves live forecasting and
    backtesting.

    >>> rng = np.random.default_rng(1)
    >>> daily = np.tile(np.r_[np.zeros(16), np.full(32, 10.0)], (56, 1))
    >>> counts = rng.poisson(daily).astype(float)
    >>> h = History(date(2026, 1, 5), 1800, "UTC", counts, counts, counts * 180)
    >>> f = forecast(h, days=7)
    >>> mean, high, low = f.offered[0, 16:].mean(), f.offered_high[0, 20], f.offered_low[0, 20]
    >>> bool(9 < mean < 11), bool(high > 10 > low)
    (True, True)
    """
    settings = settings or ForecastSettings()
    by_day = {s.day: s for s in calendar}
    origin = history.days if origin is None else origin
    point = _point_forecast(history, origin, days, by_day, settings)

    # Over-dispersion from pseudo-out-of-sample weeks inside the history: var = μ + κ·μ².
    observed: list[FloatArray] = []
    predicted: list[FloatArray] = []
    aht_errors: list[tuple[float, float]] = []
    for k in range(1, settings.pseudo_origins + 1):
        start = origin - 7 * k
        try:
            past = _point_forecast(history, start, 7, by_day, settings)
        except ValueError:
            break
        span = min(7, history.days - start)
        for j in range(span):
            if history.offered[start + j].sum() == 0 or past.labels[j] is not None:
                continue
            observed.append(history.offered[start + j])
            predicted.append(past.offered[j])
            mask = history.answered[start + j] > 0
            for n, h, a in zip(
                history.answered[start + j][mask],
                history.handle_s[start + j][mask],
                past.aht_s[j][mask],
                strict=True,
            ):
                aht_errors.append((float(n), float(h / n / a - 1.0) if a > 0 else 0.0))
    dispersion = 0.0
    if observed:
        y = np.concatenate(observed)
        mu = np.concatenate(predicted)
        mask = mu > 0.5
        if mask.any():
            excess = float(((y[mask] - mu[mask]) ** 2 - mu[mask]).sum())
            dispersion = max(0.0, excess / float((mu[mask] ** 2).sum()))
    low, high = _count_bounds(point.offered, dispersion, settings.level)
    # AHT of an interval's mean: relative variance ≈ c / answered (per-contact spread) + τ².
    c = float(np.mean([n * e * e for n, e in aht_errors])) if aht_errors else 1.0
    expected_answered = np.maximum(point.offered, 1.0)
    relative_sd = np.sqrt(c / expected_answered)
    z = float(stats.norm.ppf(0.5 + settings.level / 2.0))
    aht_low = point.aht_s * np.maximum(0.0, 1.0 - z * relative_sd)
    aht_high = point.aht_s * (1.0 + z * relative_sd)
    return Forecast(
        history=history,
        origin=origin,
        offered=point.offered,
        offered_low=low,
        offered_high=high,
        aht_s=point.aht_s,
        aht_s_low=aht_low,
        aht_s_high=aht_high,
        labels=point.labels,
        dispersion=dispersion,
        notes=point.notes,
        excluded=point.excluded,
    )


def _count_bounds(
    mean: FloatArray, dispersion: float, level: float
) -> tuple[FloatArray, FloatArray]:
    """Central ``level`` interval of a negative binomial with var = μ + κμ² (Poisson if κ=0)."""
    lower_q, upper_q = (1.0 - level) / 2.0, (1.0 + level) / 2.0
    safe = np.maximum(mean, 1e-9)
    if dispersion <= 1e-9:
        low = stats.poisson.ppf(lower_q, safe)
        high = stats.poisson.ppf(upper_q, safe)
    else:
        n = 1.0 / dispersion
        p = n / (n + safe)
        low = stats.nbinom.ppf(lower_q, n, p)
        high = stats.nbinom.ppf(upper_q, n, p)
    zero = mean <= 1e-9
    return np.where(zero, 0.0, low).astype(np.float64), np.where(zero, 0.0, high).astype(np.float64)


# --------------------------------------------------------------------------- backtesting


def seasonal_naive(history: History, *, origin: int, days: int) -> FloatArray:
    """Same interval of the same weekday in the last week before ``origin``.

    >>> h = History(date(2026, 1, 5), 43200, "UTC", np.arange(28.0).reshape(14, 2),
    ...             np.zeros((14, 2)), np.zeros((14, 2)))
    >>> seasonal_naive(h, origin=14, days=8)[:, 0].tolist()
    [14.0, 16.0, 18.0, 20.0, 22.0, 24.0, 26.0, 14.0]
    """
    if origin < 7:
        raise ValueError("seasonal naive needs one week of history")
    rows = [history.offered[origin - 7 + (k % 7)] for k in range(days)]
    return np.array(rows)


def staffed_mask(history: History, *, origin: int, days: int, weeks: int = 8) -> FloatArray:
    """Intervals the center is open: the same weekday interval had contacts in at least half
    of the last ``weeks`` weeks before ``origin`` (so the mask itself is not peeked)."""
    mask = np.zeros((days, history.slots))
    for k in range(days):
        weekday = history.weekday(origin + k)
        past = [
            d
            for d in range(max(0, origin - 7 * weeks), origin)
            if history.weekday(d) == weekday and history.offered[d].sum() > 0
        ]
        if past:
            mask[k] = (history.offered[past] > 0).mean(axis=0) >= 0.5
    return mask


@dataclass(frozen=True, slots=True)
class BacktestRow:
    """Accuracy of one method at one horizon day over all origins."""

    method: str
    horizon_day: int
    wape: float
    bias: float
    intervals: int


def wape_and_bias(actual: FloatArray, predicted: FloatArray) -> tuple[float, float]:
    """WAPE = Σ|f − a| ÷ Σa and bias = Σ(f − a) ÷ Σa.

    >>> wape_and_bias(np.array([10.0, 10.0]), np.array([12.0, 9.0]))
    (0.15, 0.05)
    """
    total = float(actual.sum())
    if total <= 0:
        return math.nan, math.nan
    return (
        round(float(np.abs(predicted - actual).sum()) / total, 12),
        round(float((predicted - actual).sum()) / total, 12),
    )


def rolling_origins(
    history: History, *, horizon_days: int, step_days: int = 7, min_training_days: int = 56
) -> list[int]:
    """Origins from ``min_training_days`` on, every ``step_days``, leaving a full horizon."""
    return list(range(min_training_days, history.days - horizon_days + 1, step_days))


def backtest(
    history: History,
    *,
    horizon_days: int = 14,
    origins: Sequence[int] | None = None,
    calendar: Iterable[SpecialDay] = (),
    settings: ForecastSettings | None = None,
    extra_methods: Mapping[str, object] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[BacktestRow]:
    """WAPE and bias per horizon day, Hotline vs seasonal naive (and any ``extra_methods``:
    callables ``(history, origin, days) -> array``), over staffed intervals of days with data.

    Rows for horizon day 0 summarise the whole horizon. ``progress(done, total)`` is called
    before each origin.
    """
    calendar = list(calendar)
    origins = (
        list(origins)
        if origins is not None
        else rolling_origins(history, horizon_days=horizon_days)
    )
    if not origins:
        raise ValueError("the history is too short for a backtest with this horizon")
    methods: dict[str, object] = {
        "hotline": lambda h, o, n: (
            forecast(h, days=n, origin=o, calendar=calendar, settings=settings).offered
        ),
        "seasonal_naive": lambda h, o, n: seasonal_naive(h, origin=o, days=n),
    }
    methods.update(extra_methods or {})
    actual_by: dict[int, list[FloatArray]] = {k: [] for k in range(horizon_days)}
    predicted_by: dict[str, dict[int, list[FloatArray]]] = {
        m: {k: [] for k in range(horizon_days)} for m in methods
    }
    for done, origin in enumerate(origins):
        if progress is not None:
            progress(done, len(origins))
        known = history.truncated(origin + horizon_days)
        mask = staffed_mask(known, origin=origin, days=horizon_days) > 0
        outputs = {}
        for name, method in methods.items():
            assert callable(method)
            outputs[name] = method(known.truncated(origin), origin, horizon_days)
        for k in range(horizon_days):
            if known.offered[origin + k].sum() == 0:
                continue  # a day missing from the data (recording gap) cannot be scored
            actual_by[k].append(known.offered[origin + k][mask[k]])
            for name in methods:
                predicted_by[name][k].append(np.asarray(outputs[name][k])[mask[k]])
    rows = []
    for name in methods:
        all_actual = np.concatenate([np.concatenate(v) for v in actual_by.values() if v])
        all_predicted = np.concatenate(
            [np.concatenate(v) for v in predicted_by[name].values() if v]
        )
        wape, bias = wape_and_bias(all_actual, all_predicted)
        rows.append(BacktestRow(name, 0, wape, bias, int(all_actual.size)))
        for k in range(horizon_days):
            if not actual_by[k]:
                continue
            a = np.concatenate(actual_by[k])
            p = np.concatenate(predicted_by[name][k])
            wape, bias = wape_and_bias(a, p)
            rows.append(BacktestRow(name, k + 1, wape, bias, int(a.size)))
    return rows


# --------------------------------------------------------------------------- per queue


@dataclass(frozen=True)
class QueueForecasts:
    """A forecast of the total and one per queue, reconciled: per interval the queues'
    offered contacts (and their bounds) add up to the total's."""

    total: Forecast
    queues: dict[str, Forecast]


def reconcile(total: FloatArray, parts: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
    """Scale the parts so that they add up to ``total`` in every cell (top-down with the
    parts' own forecast proportions: the total, forecast from more contacts, sets the level;
    the queues set the split). A cell where every part is zero is split by the parts' shares
    of the whole horizon.

    >>> out = reconcile(np.array([[10.0, 4.0]]), {"a": np.array([[3.0, 0.0]]),
    ...                                           "b": np.array([[9.0, 0.0]])})
    >>> out["a"].tolist(), out["b"].tolist()
    ([[2.5, 1.0]], [[7.5, 3.0]])
    """
    if not parts:
        return {}
    names = list(parts)
    stack = np.stack([np.asarray(parts[n], dtype=np.float64) for n in names])
    if stack.shape[1:] != total.shape:
        raise ValueError("every part must have the total's shape")
    sums = stack.sum(axis=0)
    overall = stack.reshape(len(names), -1).sum(axis=1)
    fallback = (
        overall / overall.sum() if overall.sum() > 0 else np.full(len(names), 1.0 / len(names))
    )
    shares = np.where(
        sums > 0,
        stack / np.where(sums > 0, sums, 1.0),
        fallback[:, None, None] * np.ones_like(stack),
    )
    return {name: shares[k] * total for k, name in enumerate(names)}


def forecast_by_queue(
    total: History,
    queues: Mapping[str, History],
    *,
    days: int,
    calendar: Iterable[SpecialDay] = (),
    settings: ForecastSettings | None = None,
) -> QueueForecasts:
    """Forecast the total and each queue (same days and intervals), then reconcile the queues'
    offered contacts with the total's (:func:`reconcile`); each queue keeps its own AHT, its
    intraday split and its relative prediction band around the reconciled level. A queue with
    too little history to forecast on its own gets the total's pattern scaled by its share of
    the training contacts.
    """
    calendar = list(calendar)
    whole = forecast(total, days=days, calendar=calendar, settings=settings)
    own: dict[str, Forecast] = {}
    for name, history in queues.items():
        if history.days != total.days or history.first_day != total.first_day:
            raise ValueError(f"queue {name!r}: its history must cover the total's days")
        try:
            own[name] = forecast(history, days=days, calendar=calendar, settings=settings)
        except ValueError:
            share = history.offered.sum() / max(total.offered.sum(), 1.0)
            own[name] = replace(
                whole,
                offered=whole.offered * share,
                offered_low=whole.offered_low * share,
                offered_high=whole.offered_high * share,
                notes=[
                    *whole.notes,
                    f"{name}: too little history; the total's pattern × {share:.3f}",
                ],
            )
    offered = reconcile(whole.offered, {n: f.offered for n, f in own.items()})
    reconciled: dict[str, Forecast] = {}
    for name, own_forecast in own.items():
        # Each queue keeps its own relative uncertainty around its reconciled level.
        scale = np.divide(
            offered[name],
            own_forecast.offered,
            out=np.ones_like(offered[name]),
            where=own_forecast.offered > 1e-9,
        )
        reconciled[name] = replace(
            own_forecast,
            offered=offered[name],
            offered_low=np.minimum(own_forecast.offered_low * scale, offered[name]),
            offered_high=np.maximum(own_forecast.offered_high * scale, offered[name]),
        )
    return QueueForecasts(total=whole, queues=reconciled)
