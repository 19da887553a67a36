"""What a simulation run says: KPIs with confidence intervals, interval tables, charts, logs.

Every figure is computed by the metrics engine (:mod:`hotline.metrics.compute`) from each
replication's contact event log, exactly as for live traffic; replications are independent,
so a figure's spread across them gives a Student-t confidence interval for its mean.
Contacts that queued during the warm-up are left out (the center starts empty).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from hotline.core.events import Event
from hotline.metrics.compute import (
    HANDLING_STATES,
    IDLE_STATES,
    agent_state_segments,
    events_to_frame,
    queue_figures,
)
from hotline.metrics.definitions import MetricSettings, QueueThresholds
from hotline.sim.driver import SimulationRun
from hotline.sim.scenario import Scenario

#: Figures summarised across replications, in table order.
SUMMARY_FIGURES: tuple[str, ...] = (
    "offered",
    "answered",
    "abandoned",
    "service_level",
    "asa_s",
    "abandon_rate",
    "avg_abandon_wait_s",
    "aht_s",
    "longest_wait_s",
)
_INTERVAL_NAMES = {900.0: "15m", 1800.0: "30m", 3600.0: "1h"}


def metric_settings(scenario: Scenario) -> MetricSettings:
    """Each queue's service-level threshold as its routing configuration states it."""
    return MetricSettings(
        per_queue={
            q.id: QueueThresholds(service_level_s=q.config.target_threshold_s)
            for q in scenario.queues
        }
    )


def interval_name(scenario: Scenario) -> str:
    """The report interval matching the scenario's (15m, 30m or 1h)."""
    return _INTERVAL_NAMES.get(float(scenario.interval_s), "1h")


def replication_frames(run: SimulationRun) -> list[pl.DataFrame]:
    """Each replication's contacts (folded from its event log), warm-up left out."""
    cutoff = run.scenario.start + run.scenario.warmup_s
    return [
        events_to_frame(r.events).filter(pl.col("arrived_at") >= cutoff) for r in run.replications
    ]


def confidence_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the Student-t confidence interval of the mean.

    >>> mean, half = confidence_interval([1.0, 2.0, 3.0])
    >>> mean, round(half, 3)
    (2.0, 2.484)
    """
    clean = [v for v in values if v is not None and not math.isnan(v)]
    if not clean:
        return math.nan, math.nan
    mean = float(np.mean(clean))
    if len(clean) < 2:
        return mean, math.nan
    sd = float(np.std(clean, ddof=1))
    t = float(stats.t.ppf((1 + level) / 2, len(clean) - 1))
    return mean, t * sd / math.sqrt(len(clean))


@dataclass(frozen=True)
class Summary:
    """Mean and 95 % confidence half-width of each figure, per queue and for the center."""

    table: pl.DataFrame
    replications: int

    def rows(self) -> list[dict[str, Any]]:
        """The table as dicts."""
        return self.table.to_dicts()


def summarise(run: SimulationRun, frames: list[pl.DataFrame] | None = None) -> Summary:
    """Summarise a run: one row per (queue or ``*`` for the center, figure)."""
    frames = frames if frames is not None else replication_frames(run)
    settings = metric_settings(run.scenario)
    per_rep: list[pl.DataFrame] = []
    for index, frame in enumerate(frames):
        by_queue = queue_figures(frame, interval="all", by=("queue",), settings=settings).table
        center = queue_figures(frame, interval="all", by=(), settings=settings).table
        center = center.with_columns(pl.lit("*").alias("queue"))
        both = pl.concat([by_queue, center.select(by_queue.columns)], how="vertical")
        per_rep.append(both.with_columns(pl.lit(index).alias("replication")))
    if not per_rep:
        raise ValueError("a run without replications has nothing to summarise")
    data = pl.concat(per_rep, how="vertical")
    rows: list[dict[str, Any]] = []
    for queue in sorted(data["queue"].unique().to_list()):
        subset = data.filter(pl.col("queue") == queue)
        for figure in SUMMARY_FIGURES:
            values = [float(v) if v is not None else math.nan for v in subset[figure].to_list()]
            mean, half = confidence_interval(values)
            rows.append({"queue": queue, "figure": figure, "mean": mean, "ci95_half_width": half})
    scenario = run.scenario
    occupancy = [
        center_occupancy(
            r.events,
            since=scenario.start + scenario.warmup_s,
            until=scenario.start + scenario.duration_s,
        )
        for r in run.replications
    ]
    mean, half = confidence_interval(occupancy)
    rows.append({"queue": "*", "figure": "occupancy", "mean": mean, "ci95_half_width": half})
    return Summary(table=pl.DataFrame(rows), replications=len(frames))


def center_occupancy(events: Sequence[Event], *, since: float, until: float) -> float:
    """Handling ÷ (handling + available idle time) over all agents between two instants.

    METRICS.md ``occupancy``, from the agent states the routing engine logged; the warm-up
    before ``since`` and the drain after ``until`` (when arrivals stop) are cut off.
    """
    segments = (
        agent_state_segments(events)
        .with_columns(
            pl.max_horizontal(pl.col("start"), pl.lit(since)).alias("start"),
            pl.min_horizontal(pl.col("end"), pl.lit(until)).alias("end"),
        )
        .filter(pl.col("end") > pl.col("start"))
    )
    length = pl.col("end") - pl.col("start")
    handling = segments.filter(pl.col("state").is_in(list(HANDLING_STATES))).select(length.sum())
    idle = segments.filter(pl.col("state").is_in(list(IDLE_STATES))).select(length.sum())
    busy = float(handling.item() or 0.0)
    free = float(idle.item() or 0.0)
    return busy / (busy + free) if busy + free > 0 else math.nan


def queue_length_by_interval(
    frame: pl.DataFrame, *, start: float, interval_s: float, intervals: int
) -> np.ndarray:
    """Time-average number of contacts waiting in each interval.

    A contact waits from ``queued_at`` until it is answered, abandons, or (callback, overflow)
    finishes; its overlap with each interval, summed and divided by the interval length, is
    the interval's average queue length (Little's law, piecewise).
    """
    queued = frame.filter(pl.col("queued_at").is_not_null())
    begin = queued["queued_at"].to_numpy()
    leave = (
        queued.select(pl.coalesce("answered_at", "abandoned_at", "ended_at", "queued_at"))
        .to_series()
        .to_numpy()
    )
    edges = start + interval_s * np.arange(intervals + 1)
    out = np.zeros(intervals)
    for k in range(intervals):
        overlap = np.minimum(leave, edges[k + 1]) - np.maximum(begin, edges[k])
        out[k] = np.clip(overlap, 0, None).sum() / interval_s
    return out


def interval_table(run: SimulationRun, frames: list[pl.DataFrame] | None = None) -> pl.DataFrame:
    """Center figures per interval, averaged over replications (with the queue length)."""
    frames = frames if frames is not None else replication_frames(run)
    scenario = run.scenario
    settings = metric_settings(scenario)
    name = interval_name(scenario)
    parts = []
    for index, frame in enumerate(frames):
        table = queue_figures(
            frame, interval=name, by=(), settings=settings, timezone=scenario.timezone
        ).table
        lengths = queue_length_by_interval(
            frame,
            start=scenario.start,
            interval_s=scenario.interval_s,
            intervals=scenario.intervals,
        )
        starts = [int(scenario.start + k * scenario.interval_s) for k in range(scenario.intervals)]
        queue_frame = pl.DataFrame(
            {"_epoch": starts, "queue_length": lengths},
            schema={"_epoch": pl.Int64(), "queue_length": pl.Float64()},
        )
        table = table.with_columns(pl.col("interval_start").dt.epoch("s").alias("_epoch")).join(
            queue_frame, on="_epoch", how="full", coalesce=True
        )
        parts.append(table.with_columns(pl.lit(index).alias("replication")))
    data = pl.concat(parts, how="diagonal_relaxed")
    return (
        data.group_by("_epoch")
        .agg(
            pl.col("offered").mean(),
            pl.col("service_level").mean(),
            pl.col("asa_s").mean(),
            pl.col("abandon_rate").mean(),
            pl.col("queue_length").mean(),
            # Half-width of the normal-approximation 95 % interval of the mean SL.
            (1.96 * pl.col("service_level").std() / pl.col("service_level").count().sqrt()).alias(
                "service_level_ci95"
            ),
        )
        .sort("_epoch")
        .with_columns(
            pl.from_epoch("_epoch", time_unit="s")
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(scenario.timezone)
            .alias("interval_start")
        )
        .select(
            "interval_start",
            "offered",
            "service_level",
            "service_level_ci95",
            "asa_s",
            "abandon_rate",
            "queue_length",
        )
    )


def write_event_log(run: SimulationRun, path: Path) -> int:
    """Write every replication's contact event log to one Parquet file; return its rows."""
    columns: dict[str, list[Any]] = {
        "replication": [], "seq": [], "at": [], "kind": [], "contact_id": [], "agent_id": [],
        "queue": [], "channel": [], "data": [],
    }  # fmt: skip
    for replication in run.replications:
        for event in replication.events:
            columns["replication"].append(replication.replication)
            columns["seq"].append(event.seq)
            columns["at"].append(event.at)
            columns["kind"].append(event.kind.value)
            columns["contact_id"].append(event.contact_id)
            columns["agent_id"].append(event.agent_id)
            columns["queue"].append(event.queue)
            columns["channel"].append(event.channel.value if event.channel else None)
            columns["data"].append(json.dumps(dict(event.data), sort_keys=True, default=str))
    frame = pl.DataFrame(
        columns,
        schema={
            "replication": pl.Int32(), "seq": pl.Int64(), "at": pl.Float64(),
            "kind": pl.String(), "contact_id": pl.String(), "agent_id": pl.String(),
            "queue": pl.String(), "channel": pl.String(), "data": pl.String(),
        },
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return frame.height


def write_charts(
    run: SimulationRun,
    directory: Path,
    *,
    intervals: pl.DataFrame | None = None,
    frames: list[pl.DataFrame] | None = None,
) -> list[Path]:
    """Draw service level and queue length by interval, and the wait distribution (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = frames if frames is not None else replication_frames(run)
    intervals = intervals if intervals is not None else interval_table(run, frames)
    directory.mkdir(parents=True, exist_ok=True)
    labels = [d.strftime("%m-%d %H:%M") for d in intervals["interval_start"].to_list()]
    x = np.arange(len(labels))
    step = max(1, len(labels) // 12)
    written: list[Path] = []

    def finish(fig: Any, ax: Any, name: str, title: str, ylabel: str) -> None:
        ax.set_title(
            f"{run.scenario.name}: {title} ({len(run.replications)} replications, seed {run.seed})",
            fontsize=10,
        )
        ax.set_ylabel(ylabel)
        if labels:
            ax.set_xticks(x[::step], labels[::step], rotation=45, ha="right", fontsize=8)
        fig.tight_layout()
        path = directory / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    fig, ax = plt.subplots(figsize=(9, 4))
    level = intervals["service_level"].fill_null(float("nan")).to_numpy() * 100
    band = intervals["service_level_ci95"].fill_null(float("nan")).to_numpy() * 100
    ax.fill_between(x, level - band, level + band, alpha=0.25, label="95 % CI of the mean")
    ax.plot(x, level, marker="o", label="mean over replications")
    ax.set_ylim(0, 100)
    ax.legend(loc="lower left", fontsize=8)
    finish(fig, ax, "service_level_by_interval.png", "service level by interval", "%")

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.bar(x, intervals["queue_length"].fill_null(0.0).to_numpy())
    finish(
        fig,
        ax,
        "queue_length_by_interval.png",
        "average queue length by interval",
        "contacts waiting",
    )

    waits = (
        pl.concat(frames, how="vertical")
        .select(
            (pl.coalesce("answered_at", "abandoned_at") - pl.col("queued_at")).alias("wait"),
            pl.col("answered_at").is_not_null().alias("answered"),
        )
        .drop_nulls("wait")
    )
    fig, ax = plt.subplots(figsize=(9, 4))
    top = float(waits["wait"].quantile(0.99) or 1.0) if waits.height else 1.0
    bins = [float(b) for b in np.linspace(0, max(top, 1.0), 50)]
    ax.hist(
        waits.filter(pl.col("answered"))["wait"].to_numpy(), bins=bins, alpha=0.7, label="answered"
    )
    ax.hist(
        waits.filter(~pl.col("answered"))["wait"].to_numpy(),
        bins=bins,
        alpha=0.7,
        label="abandoned",
    )
    ax.legend()
    ax.set_xlabel("wait (s)")
    finish(fig, ax, "wait_distribution.png", "wait distribution", "contacts")
    return written
