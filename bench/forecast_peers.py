"""The forecasting peers of ``bench/forecast.py``, run in their own environment.

statsforecast pins ``pandas<3`` while the project locks pandas 3, so the peers live in a
separate virtual environment (``var/forecast-peers``, made by ``bench/forecast.py`` on first
use: ``pip install statsforecast lightgbm``) and this script imports nothing from Hotline. It
reads the offered-calls matrix and the origins from an ``.npz`` file, forecasts ``horizon``
days from every origin with each peer, and writes the forecasts (origins × days × intervals)
to another ``.npz`` file:

* ``sf_seasonal_window_average`` — statsforecast ``SeasonalWindowAverage``: the mean of the
  same interval in the last 4 weeks;
* ``sf_mstl`` — statsforecast ``MSTL`` (seasons of a day and a week) with ``AutoETS`` on the
  trend, the MSTL peer;
* ``sf_auto_ets_daily`` — statsforecast ``AutoETS`` (weekly season) on daily totals, spread
  over the day by the last 4 weeks' intraday shape per weekday (a classic top-down method);
* ``lightgbm`` — one gradient-boosted global model over every interval of every day (Poisson
  loss), with calendar features (interval, weekday, special day) and lags of 14, 21, 28 and 35
  days plus their mean, so every horizon day is forecast directly from known values.

Each model sees the last ``training_weeks`` weeks before the origin; days with no calls at all
(recording gaps) are filled with the same day one week earlier, so peers are not misled by
holes that Hotline's own model skips.

    var/forecast-peers/bin/python bench/forecast_peers.py IN.npz OUT.npz
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np


def fill_gaps(offered: np.ndarray) -> np.ndarray:
    """Days with no calls at all take the same day one week earlier (when there is one)."""
    filled = offered.copy()
    for d in range(filled.shape[0]):
        if filled[d].sum() == 0 and d >= 7:
            filled[d] = filled[d - 7]
    return filled


def statsforecast_models(
    offered: np.ndarray, origin: int, horizon: int, training_weeks: int
) -> dict[str, np.ndarray]:
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS, SeasonalWindowAverage

    slots = offered.shape[1]
    first = max(0, origin - 7 * training_weeks)
    series = offered[first:origin].ravel()
    stamps = pd.date_range("2000-01-03", periods=series.size, freq="30min")
    frame = pd.DataFrame({"unique_id": "total", "ds": stamps, "y": series})
    models = [
        SeasonalWindowAverage(season_length=7 * slots, window_size=4),
        MSTL(season_length=[slots, 7 * slots], trend_forecaster=AutoETS(model="ZZN")),
    ]
    fitted = StatsForecast(models=models, freq="30min", n_jobs=1).forecast(
        df=frame, h=horizon * slots
    )
    out = {
        "sf_seasonal_window_average": fitted["SeasWA"].to_numpy(),
        "sf_mstl": fitted["MSTL"].to_numpy(),
    }
    daily = offered[first:origin].sum(axis=1)
    days = pd.date_range("2000-01-03", periods=daily.size, freq="D")
    daily_frame = pd.DataFrame({"unique_id": "total", "ds": days, "y": daily})
    daily_fit = StatsForecast(models=[AutoETS(season_length=7)], freq="D", n_jobs=1).forecast(
        df=daily_frame, h=horizon
    )
    totals = np.clip(daily_fit["AutoETS"].to_numpy(), 0.0, None)
    recent = offered[max(0, origin - 28) : origin]
    shape = np.zeros((7, slots))
    for k in range(recent.shape[0]):
        shape[(origin - recent.shape[0] + k) % 7] += recent[k]
    sums = shape.sum(axis=1, keepdims=True)
    shape = np.divide(shape, sums, out=np.full_like(shape, 1.0 / slots), where=sums > 0)
    out["sf_auto_ets_daily"] = np.array(
        [totals[k] * shape[(origin + k) % 7] for k in range(horizon)]
    ).ravel()
    return {k: np.clip(v, 0.0, None).reshape(horizon, slots) for k, v in out.items()}


LAGS_DAYS = (14, 21, 28, 35)


def lightgbm_model(
    offered: np.ndarray,
    special: np.ndarray,
    weekday: np.ndarray,
    origin: int,
    horizon: int,
    training_weeks: int,
) -> np.ndarray:
    import lightgbm as lgb

    slots = offered.shape[1]

    def features(days: range) -> np.ndarray:
        rows = []
        for d in days:
            lags = np.stack([offered[d - lag] for lag in LAGS_DAYS], axis=1)  # slots × lags
            rows.append(
                np.column_stack(
                    [
                        np.arange(slots),
                        np.full(slots, weekday[d]),
                        np.full(slots, special[d]),
                        lags,
                        lags.mean(axis=1),
                        np.full(slots, offered[d - 14].sum()),
                    ]
                )
            )
        return np.vstack(rows)

    first = max(*LAGS_DAYS, origin - 7 * training_weeks)
    train_days = range(first, origin)
    x = features(train_days)
    y = offered[first:origin].ravel()
    parameters = {
        "objective": "poisson",
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_data_in_leaf": 20,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "feature_fraction": 0.9,
        "seed": 7,
        "verbose": -1,
        "num_threads": 1,
    }
    dataset = lgb.Dataset(x, y, categorical_feature=[1, 2])
    model = lgb.train(parameters, dataset, num_boost_round=300)
    predicted = model.predict(features(range(origin, origin + horizon)))
    return np.clip(np.asarray(predicted, dtype=float), 0.0, None).reshape(horizon, slots)


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    data = np.load(source)
    offered = fill_gaps(data["offered"].astype(float))
    special = data["special"].astype(int)
    weekday = data["weekday"].astype(int)
    origins = [int(o) for o in data["origins"]]
    horizon = int(data["horizon"])
    training_weeks = int(data["training_weeks"])
    results: dict[str, list[np.ndarray]] = {}
    seconds: dict[str, float] = {"statsforecast": 0.0, "lightgbm": 0.0}
    # Each peer reads days before the origin only: the LightGBM lags are at least 14 days,
    # the horizon, so every feature of a forecast day is known at its origin.
    for origin in origins:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, values in statsforecast_models(
                offered, origin, horizon, training_weeks
            ).items():
                results.setdefault(name, []).append(values)
        seconds["statsforecast"] += time.perf_counter() - started
        started = time.perf_counter()
        results.setdefault("lightgbm", []).append(
            lightgbm_model(offered, special, weekday, origin, horizon, training_weeks)
        )
        seconds["lightgbm"] += time.perf_counter() - started
    np.savez(
        target,
        **{name: np.stack(values) for name, values in results.items()},
        seconds=np.array([seconds["statsforecast"], seconds["lightgbm"]]),
    )


if __name__ == "__main__":
    main()
