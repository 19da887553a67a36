"""The metrics engine: every queue figure of METRICS.md, per interval and dimension, on Polars.

Contact records (from a file, the database, or folded from the contact event log) become one
columnar frame (:data:`FRAME_SCHEMA`); :func:`queue_figures` groups it by the interval in which
each contact *queued* (METRICS.md) and by queue, channel, team or agent, and computes the
figures with vectorised expressions, so a year of a large center takes seconds.

Thresholds are per queue (:class:`~hotline.metrics.definitions.MetricSettings`): each contact
is judged against its own queue's service-level time and short-abandon threshold, so a report
by agent over several queues stays correct. A :class:`KpiReport` carries the settings it used.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from hotline.core.errors import Problem, ValidationFailed
from hotline.core.events import OUTCOMES, Event, EventKind, Outcome
from hotline.core.spreadsheet import FORMULA_PATTERN
from hotline.metrics.definitions import (
    DIMENSIONS,
    FCR_WINDOW_S,
    INTERVALS,
    QUEUE_FIGURES,
    SERVICE_LEVEL_VARIANTS,
    MetricSettings,
)
from hotline.metrics.records import (
    CHANNELS,
    CLOCK_TOLERANCE_S,
    RECORD_COLUMNS,
    ContactRecord,
    fold_events,
)

#: Column types of the contact frame; timestamps are epoch seconds (UTC) as floats.
FRAME_SCHEMA: dict[str, pl.DataType] = {
    "contact_id": pl.String(),
    "arrived_at": pl.Float64(),
    "outcome": pl.String(),
    "channel": pl.String(),
    "direction": pl.String(),
    "customer": pl.String(),
    "queue": pl.String(),
    "priority": pl.Int64(),
    "queued_at": pl.Float64(),
    "answered_at": pl.Float64(),
    "abandoned_at": pl.Float64(),
    "ended_at": pl.Float64(),
    "agent": pl.String(),
    "team": pl.String(),
    "talk_s": pl.Float64(),
    "hold_s": pl.Float64(),
    "wrap_s": pl.Float64(),
    "transferred": pl.Boolean(),
    "case_id": pl.String(),
    "entry": pl.String(),
}
assert tuple(FRAME_SCHEMA) == RECORD_COLUMNS

_EVERY = {"15m": "15m", "30m": "30m", "1h": "1h", "day": "1d", "month": "1mo"}


def records_to_frame(records: Iterable[ContactRecord]) -> pl.DataFrame:
    """Turn contact records into the engine's frame (attributes are left out).

    >>> records_to_frame([ContactRecord(contact_id="c1", arrived_at=0.0, outcome="closed")]).shape
    (1, 20)
    """
    columns: dict[str, list[Any]] = {name: [] for name in RECORD_COLUMNS}
    for record in records:
        for name in RECORD_COLUMNS:
            columns[name].append(getattr(record, name))
    return pl.DataFrame(columns, schema=FRAME_SCHEMA)


def events_to_frame(
    events: Iterable[Event], *, teams: dict[str, str] | None = None
) -> pl.DataFrame:
    """Fold a contact event log into contact records and return their frame."""
    return records_to_frame(fold_events(events, teams=teams))


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Add any missing contact-record columns (empty) and cast to :data:`FRAME_SCHEMA`.

    Lets the engine run on any frame that has at least the columns it needs, e.g. a Parquet
    export with METRICS.md column names.
    """
    defaults: dict[str, Any] = {
        "channel": "voice",
        "direction": "inbound",
        "priority": 0,
        "talk_s": 0.0,
        "hold_s": 0.0,
        "wrap_s": 0.0,
        "transferred": False,
    }
    missing = [
        pl.lit(defaults.get(name), dtype=dtype).alias(name)
        for name, dtype in FRAME_SCHEMA.items()
        if name not in frame.columns
    ]
    if missing:
        frame = frame.with_columns(missing)
    return frame.select(
        [pl.col(name).cast(dtype) for name, dtype in FRAME_SCHEMA.items()]
    ).with_columns(
        [pl.col(n).fill_null(0.0) for n in ("talk_s", "hold_s", "wrap_s")]
        + [pl.col("transferred").fill_null(False)]
    )


def with_teams(frame: pl.DataFrame, teams: Mapping[str, str]) -> pl.DataFrame:
    """Fill the ``team`` column from each contact's agent where the record has no team.

    >>> f = records_to_frame([ContactRecord(contact_id="c", arrived_at=0.0, outcome="closed",
    ...                                     agent="a1")])
    >>> with_teams(f, {"a1": "north"})["team"].to_list()
    ['north']
    """
    if not teams:
        return frame
    lookup = pl.DataFrame(
        {"agent": list(teams), "_team": list(teams.values())},
        schema={"agent": pl.String(), "_team": pl.String()},
    )
    return (
        frame.join(lookup, on="agent", how="left")
        .with_columns(pl.coalesce("team", "_team").alias("team"))
        .drop("_team")
    )


def with_sites(
    frame: pl.DataFrame, *, queues: Mapping[str, str], agents: Mapping[str, str]
) -> pl.DataFrame:
    """Add the ``site`` column: the site of the contact's queue, else of its agent.

    A contact belongs to the site that answers its queue (the site map's and the reports'
    grouping); a contact with no queue of a site (an outbound call) to its agent's.

    >>> f = records_to_frame([
    ...     ContactRecord(contact_id="c1", arrived_at=0.0, outcome="closed", queue="vip"),
    ...     ContactRecord(contact_id="c2", arrived_at=0.0, outcome="closed", agent="a1"),
    ...     ContactRecord(contact_id="c3", arrived_at=0.0, outcome="closed")])
    >>> with_sites(f, queues={"vip": "chengdu"}, agents={"a1": "hefei"})["site"].to_list()
    ['chengdu', 'hefei', None]
    """
    by_queue = pl.col("queue").replace_strict(dict(queues), default=None, return_dtype=pl.String)
    by_agent = pl.col("agent").replace_strict(dict(agents), default=None, return_dtype=pl.String)
    return frame.with_columns(pl.coalesce(by_queue, by_agent).alias("site"))


@dataclass(frozen=True)
class KpiReport:
    """Queue figures per interval and dimension, with the settings that produced them."""

    table: pl.DataFrame
    interval: str
    by: tuple[str, ...]
    timezone: str
    settings: MetricSettings
    notes: list[str] = field(default_factory=list)

    def header(self) -> dict[str, Any]:
        """Return what a reader must know to compare these figures with others."""
        return {
            "interval": self.interval,
            "by": list(self.by),
            "timezone": self.timezone,
            "interval_of": "the interval in which each contact queued (METRICS.md)",
            "thresholds": self.settings.describe(),
            "notes": self.notes,
        }

    def rows(self) -> list[dict[str, Any]]:
        """Return the figures as JSON-ready dicts (interval start as ISO 8601 text)."""
        table = self.table.with_columns(pl.col("interval_start").dt.to_string("%+"))
        return table.to_dicts()

    def to_json(self) -> str:
        """Return the report (header and rows) as JSON."""
        return json.dumps({"report": self.header(), "rows": self.rows()}, indent=2)

    def to_csv(self) -> str:
        """Return the figures as plain CSV: the header row first, as spreadsheets and
        ``pandas.read_csv`` expect. The settings used travel beside it
        (:meth:`metadata_json`: a sidecar file, or an HTTP header), never inside it."""
        table = self.table.with_columns(pl.col("interval_start").dt.to_string("%+"))
        return safe_text(table).write_csv()

    def metadata_json(self) -> str:
        """Return :meth:`header` as one line of ASCII JSON (fit for a sidecar file or an HTTP
        header), stating the settings a CSV export of this report was computed with."""
        return json.dumps(self.header(), ensure_ascii=True)


def _thresholds(frame: pl.LazyFrame, settings: MetricSettings) -> pl.LazyFrame:
    """Attach each contact's thresholds and headline variant (its queue's settings)."""
    default = settings.default
    variant = SERVICE_LEVEL_VARIANTS.index
    if not settings.per_queue:
        return frame.with_columns(
            pl.lit(default.service_level_s).alias("_sl_t"),
            pl.lit(default.short_abandon_s).alias("_short_t"),
            pl.lit(variant(default.variant), dtype=pl.Int8()).alias("_variant"),
        )
    table = pl.LazyFrame(
        {
            "queue": list(settings.per_queue),
            "_sl_t": [t.service_level_s for t in settings.per_queue.values()],
            "_short_t": [t.short_abandon_s for t in settings.per_queue.values()],
            "_variant": [variant(t.variant) for t in settings.per_queue.values()],
        },
        schema={
            "queue": pl.String(),
            "_sl_t": pl.Float64(),
            "_short_t": pl.Float64(),
            "_variant": pl.Int8(),
        },
    )
    return frame.join(table, on="queue", how="left").with_columns(
        pl.col("_sl_t").fill_null(default.service_level_s),
        pl.col("_short_t").fill_null(default.short_abandon_s),
        pl.col("_variant").fill_null(variant(default.variant)),
    )


def _headline_numerator(ans: pl.Expr, abn: pl.Expr) -> pl.Expr:
    """Whether a contact counts as met under its queue's headline service-level variant.

    Every variant is a sum over contacts divided by a sum over contacts, so contacts of
    queues with different variants add up correctly in one figure (by agent, by team).
    """
    within = pl.col("_wait") <= pl.col("_sl_t")
    answered_in = ans & within
    met = answered_in | (abn & within)
    return pl.when(pl.col("_variant") <= 1).then(answered_in).otherwise(met)


def _headline_denominator(ans: pl.Expr, abn: pl.Expr) -> pl.Expr:
    """Whether a contact counts in the denominator of its queue's headline variant."""
    short = abn & (pl.col("_wait") < pl.col("_short_t"))
    return (
        pl.when(pl.col("_variant") == 0)
        .then(ans | (abn & ~short))  # service_level: answered + abandoned - short abandoned
        .when(pl.col("_variant") == 1)
        .then(ans)  # service_level_answered
        .when(pl.col("_variant") == 2)
        .then(ans | abn)  # service_level_sl2
        .otherwise(pl.lit(True))  # service_level_offered: every offered contact
    )


def _repeat_flags(frame: pl.DataFrame) -> pl.Series:
    """Mark contacts whose customer makes another contact (any channel) within 24 h (FCR).

    Sorting by (hash of customer, arrival) puts each customer's contacts side by side; the
    neighbour test then compares the customer text itself, so a hash collision can only hide
    a repeat, never invent one. An argsort on two numeric keys is several times faster than a
    window over the customer string.
    """
    if frame.height == 0:
        return pl.Series("_repeat", [], dtype=pl.Boolean())
    order = frame.select(
        pl.arg_sort_by([pl.col("customer").hash(), pl.col("arrived_at")])
    ).to_series()
    customer = frame["customer"].gather(order)
    arrived = frame["arrived_at"].gather(order)
    repeat = (
        (customer.shift(-1) == customer) & ((arrived.shift(-1) - arrived) <= FCR_WINDOW_S)
    ).fill_null(False)
    flags = np.zeros(frame.height, dtype=bool)
    flags[order.to_numpy()] = repeat.to_numpy()
    return pl.Series("_repeat", flags)


def _case_flags(frame: pl.DataFrame) -> pl.DataFrame:
    """Add what cases and FCR need: ``_repeat``, ``_case_first`` and ``_case_lead``.

    A case is a contact and the later contacts that name it in ``case_id`` (a chat and the
    callback booked from it); a contact that names none and that none names is its own case.
    ``_case_first`` marks the case's first queued contact (where the case is counted),
    ``_case_lead`` its first answered one (where FCR judges it), and ``_repeat`` on a case's
    contacts says whether the customer made a contact *outside the case* after the case's
    first contact and within the FCR window of its last (METRICS.md ``fcr``). Without case ids
    every contact is its own case and the flags are exactly :func:`_repeat_flags`'s.
    """
    repeat = _repeat_flags(frame)
    if "case_id" not in frame.columns or frame["case_id"].null_count() == frame.height:
        return frame.with_columns(
            repeat, pl.lit(True).alias("_case_first"), pl.lit(True).alias("_case_lead")
        )
    named = frame["case_id"].drop_nulls().unique()
    # A contact's case key: its case id, or its own id when a later contact names it; none
    # when it is its own case (ids of different sources may repeat, so an id alone is no key).
    key = pl.coalesce(
        "case_id", pl.when(pl.col("contact_id").is_in(named.implode())).then("contact_id")
    )
    framed = frame.with_columns(
        repeat, pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"), key.alias("_case")
    )
    cased = framed.filter(pl.col("_case").is_not_null())

    def first_rows(happened: str) -> pl.Series:
        return (
            cased.filter(pl.col(happened).is_not_null())
            .sort([happened, "_row"])
            .group_by("_case", maintain_order=True)
            .first()["_row"]
        )

    spans = (
        cased.filter(pl.col("customer").is_not_null())
        .group_by(["_case", "customer"])
        .agg(pl.col("arrived_at").min().alias("_from"), pl.col("arrived_at").max().alias("_to"))
    )
    others = framed.filter(pl.col("customer").is_not_null()).select(
        "customer", "arrived_at", pl.col("_case").alias("_other_case")
    )
    repeated = (
        spans.join(others, on="customer")
        .filter(
            (pl.col("_other_case").is_null() | (pl.col("_other_case") != pl.col("_case")))
            & (pl.col("arrived_at") > pl.col("_from"))
            & (pl.col("arrived_at") <= pl.col("_to") + FCR_WINDOW_S)
        )["_case"]
        .unique()
    )
    own = pl.col("_case").is_null()
    return framed.with_columns(
        pl.when(own)
        .then(pl.col("_repeat"))
        .otherwise(pl.col("_case").is_in(repeated.implode()))
        .alias("_repeat"),
        (own | pl.col("_row").is_in(first_rows("queued_at").implode())).alias("_case_first"),
        (own | pl.col("_row").is_in(first_rows("answered_at").implode())).alias("_case_lead"),
    ).drop("_row", "_case")


def queue_figures(
    frame: pl.DataFrame,
    *,
    interval: str = "30m",
    by: Sequence[str] = ("queue",),
    settings: MetricSettings | None = None,
    timezone: str = "UTC",
) -> KpiReport:
    """Compute every queue figure of METRICS.md per interval and dimension.

    ``frame`` holds contact records (:func:`records_to_frame`, :func:`conform`). Rows are
    grouped by the local-time interval (``15m``, ``30m``, ``1h``, ``day``, ``month``) in which
    the contact queued, and by the ``by`` columns (any of queue, channel, team, agent, site
    (:func:`with_sites`); empty for the whole center). Ratios with nothing to measure are
    null, not zero. Besides the four named variants, ``reported_service_level`` is the service
    level under each contact's queue's headline variant (the figure a center that switched
    variants reports).

    >>> rec = ContactRecord(contact_id="c1", arrived_at=0.0, queued_at=0.0, answered_at=15.0,
    ...                     agent="a1", queue="repair", outcome="answered", talk_s=120.0)
    >>> report = queue_figures(records_to_frame([rec]), interval="1h")
    >>> row = report.rows()[0]
    >>> row["offered"], row["service_level"], row["asa_s"], round(row["traffic_erlangs"], 4)
    (1, 1.0, 15.0, 0.0333)
    """
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"cannot break down by {unknown}; choose from {', '.join(DIMENSIONS)}")
    settings = settings or MetricSettings()
    dims = list(by)
    keys = ["interval_start", *dims]
    if "site" in dims and "site" not in frame.columns:
        # No sites known (:func:`with_sites` not applied): every contact is of no site.
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("site"))

    lazy = _case_flags(frame).lazy()
    lazy = lazy.filter(pl.col("queued_at").is_not_null())
    lazy = _thresholds(lazy, settings)
    answered = pl.col("answered_at").is_not_null()
    abandoned = pl.col("abandoned_at").is_not_null() & ~answered
    wait = pl.coalesce("answered_at", "abandoned_at") - pl.col("queued_at")
    lazy = lazy.with_columns(
        answered.alias("_ans"),
        abandoned.alias("_abn"),
        wait.alias("_wait"),
        # Every time zone's offset is a whole number of quarter hours, so quarter hours in UTC
        # are quarter hours in local time: contacts are first summed per UTC quarter hour
        # (cheap integer arithmetic), and only those partial sums are moved to local time.
        ((pl.col("queued_at") // 900) * 900).cast(pl.Int64).alias("_quarter"),
    )
    ans = pl.col("_ans")
    abn = pl.col("_abn")

    def total(flag: pl.Expr) -> pl.Expr:
        return flag.cast(pl.Int64).sum()

    def answered_sum(column: str) -> pl.Expr:
        return pl.when(ans).then(pl.col(column)).otherwise(0.0).sum()

    partial = lazy.group_by(["_quarter", *dims]).agg(
        pl.len().cast(pl.Int64).alias("offered"),
        total(pl.col("_case_first")).alias("cases"),
        total(ans).alias("answered"),
        total(abn).alias("abandoned"),
        total(abn & (pl.col("_wait") < pl.col("_short_t"))).alias("short_abandoned"),
        total(pl.col("outcome") == Outcome.INTERRUPTED.value).alias("interrupted"),
        total(ans & (pl.col("_wait") <= pl.col("_sl_t"))).alias("_ans_in"),
        total(abn & (pl.col("_wait") <= pl.col("_sl_t"))).alias("_abn_in"),
        total(_headline_numerator(ans, abn)).alias("_head_num"),
        total(_headline_denominator(ans, abn)).alias("_head_den"),
        answered_sum("_wait").alias("_ans_wait"),
        pl.when(abn).then(pl.col("_wait")).otherwise(0.0).sum().alias("_abn_wait"),
        pl.col("_wait").max().alias("longest_wait_s"),
        answered_sum("talk_s").alias("_talk"),
        answered_sum("hold_s").alias("_hold"),
        answered_sum("wrap_s").alias("_wrap"),
        total(pl.col("transferred") & ans).alias("_transferred"),
        # FCR judges a case once, at its first answered contact (the lead).
        total(pl.col("_repeat") & ans & pl.col("_case_lead")).alias("_repeats"),
        total(pl.col("customer").is_not_null() & ans & pl.col("_case_lead")).alias("_known"),
    )
    local = (
        pl.from_epoch(pl.col("_quarter"), time_unit="s")
        .dt.cast_time_unit("us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
    )
    if interval == "all":
        start = local.min()
        length = (pl.col("_last") + 900 - pl.col("_first")).cast(pl.Float64)
        partial = partial.with_columns(
            pl.col("_quarter").min().alias("_first"), pl.col("_quarter").max().alias("_last")
        )
    else:
        start = local.dt.truncate(_EVERY[interval])
        length = (
            pl.col("interval_start").dt.offset_by(_EVERY[interval]) - pl.col("interval_start")
        ).dt.total_seconds()
    summed = [
        "offered", "cases", "answered", "abandoned", "short_abandoned", "interrupted", "_ans_in",
        "_abn_in",
        "_head_num", "_head_den",
        "_ans_wait", "_abn_wait", "_talk", "_hold", "_wrap", "_transferred", "_repeats",
        "_known",
    ]  # fmt: skip
    grouped = (
        partial.with_columns(start.alias("interval_start"))
        .group_by(keys)
        .agg(
            [pl.col(c).sum() for c in summed]
            + [pl.col("longest_wait_s").max()]
            + ([pl.col("_first").first(), pl.col("_last").first()] if interval == "all" else [])
        )
    )

    def share(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
        return pl.when(denominator > 0).then(numerator / denominator).otherwise(None)

    n_ans = pl.col("answered")
    n_abn = pl.col("abandoned")
    short = pl.col("short_abandoned")
    off = pl.col("offered")
    met = pl.col("_ans_in") + pl.col("_abn_in")
    handle = pl.col("_talk") + pl.col("_hold") + pl.col("_wrap")
    figures = grouped.with_columns(
        share(pl.col("_ans_in"), n_ans + n_abn - short).alias("service_level"),
        share(pl.col("_ans_in"), n_ans).alias("service_level_answered"),
        share(met, n_ans + n_abn).alias("service_level_sl2"),
        share(met, off).alias("service_level_offered"),
        share(pl.col("_head_num"), pl.col("_head_den")).alias("reported_service_level"),
        share(pl.col("_ans_wait"), n_ans).alias("asa_s"),
        share(pl.col("_abn_wait"), n_abn).alias("avg_abandon_wait_s"),
        share(n_abn - short, off - short).alias("abandon_rate"),
        share(handle, n_ans).alias("aht_s"),
        share(pl.col("_talk"), n_ans).alias("att_s"),
        share(pl.col("_hold"), n_ans).alias("avg_hold_s"),
        share(pl.col("_wrap"), n_ans).alias("acw_s"),
        share(pl.col("_transferred"), n_ans).alias("transfer_rate"),
        (1 - share(pl.col("_repeats"), pl.col("_known"))).alias("fcr"),
        # offered x AHT / interval length; AHT is unknown when nothing was answered, and the
        # offered load is then unknown too.
        (share(handle, n_ans) * off / length).alias("traffic_erlangs"),
    )
    columns = [*QUEUE_FIGURES]
    columns.insert(columns.index("service_level_offered") + 1, "reported_service_level")
    table = figures.select([*keys, *columns]).sort(keys, nulls_last=True).collect()
    return KpiReport(
        table=table,
        interval=interval,
        by=tuple(by),
        timezone=timezone,
        settings=settings,
    )


# ---------------------------------------------------------------------------------------------
# Agent figures (METRICS.md): from the agent_state events of the contact event log

#: Derived agent states (routing.model.AgentState values) that count as handling contacts:
#: talk, hold and after-contact work. With concurrent chats the derived state is the most
#: engaged one, so time with at least one contact counts once.
HANDLING_STATES = frozenset({"on_contact", "wrap_up"})
#: States in which the agent is free for (or being offered) a contact.
IDLE_STATES = frozenset({"available", "reserved"})


def agent_state_segments(events: Iterable[Event], *, until: float | None = None) -> pl.DataFrame:
    """Turn ``agent_state`` events into (agent, state, start, end) segments.

    Each agent stays in a state until their next state event; the last state of each agent
    runs to ``until`` (default: the last event's time).
    """
    current: dict[str, tuple[str, float]] = {}
    rows: dict[str, list[Any]] = {"agent": [], "state": [], "start": [], "end": []}
    last = -math.inf
    for event in sorted(events, key=lambda e: (e.at, e.seq)):
        last = max(last, event.at)
        if event.kind is not EventKind.AGENT_STATE or event.agent_id is None:
            continue
        state = str(event.data.get("state", ""))
        previous = current.get(event.agent_id)
        if previous is not None and event.at > previous[1]:
            rows["agent"].append(event.agent_id)
            rows["state"].append(previous[0])
            rows["start"].append(previous[1])
            rows["end"].append(event.at)
        current[event.agent_id] = (state, event.at)
    end = until if until is not None else last
    for agent_id, (state, since) in current.items():
        if end > since:
            rows["agent"].append(agent_id)
            rows["state"].append(state)
            rows["start"].append(since)
            rows["end"].append(end)
    return pl.DataFrame(
        rows,
        schema={
            "agent": pl.String(),
            "state": pl.String(),
            "start": pl.Float64(),
            "end": pl.Float64(),
        },
    )


def agent_figures(
    events: Iterable[Event],
    *,
    interval: str = "day",
    timezone: str = "UTC",
    teams: Mapping[str, str] | None = None,
    by: Sequence[str] = ("agent",),
    until: float | None = None,
) -> pl.DataFrame:
    """Occupancy and utilization per interval and agent (or team), from agent states.

    ``occupancy`` = handling ÷ (handling + available idle time) and ``utilization`` =
    handling ÷ logged-in time (METRICS.md); the seconds behind them are returned too.
    Time in each state is split at quarter-hour boundaries and summed into local intervals.

    >>> from hotline.core.events import Event, EventKind as K
    >>> log = [Event(1, 0.0, K.AGENT_STATE, agent_id="a1", data={"state": "available"}),
    ...        Event(2, 600.0, K.AGENT_STATE, agent_id="a1", data={"state": "on_contact"}),
    ...        Event(3, 1500.0, K.AGENT_STATE, agent_id="a1", data={"state": "not_ready"}),
    ...        Event(4, 1800.0, K.AGENT_STATE, agent_id="a1", data={"state": "logged_out"})]
    >>> row = agent_figures(log, interval="1h").row(0, named=True)
    >>> row["occupancy"], row["utilization"]
    (0.6, 0.5)
    """
    if interval not in INTERVALS or interval == "all":
        raise ValueError(f"interval must be one of {', '.join(i for i in INTERVALS if i != 'all')}")
    unknown = [d for d in by if d not in ("agent", "team")]
    if unknown:
        raise ValueError("agent figures are by agent or team")
    segments = agent_state_segments(events, until=until).filter(pl.col("state") != "logged_out")
    if teams:
        lookup = pl.DataFrame(
            {"agent": list(teams), "team": list(teams.values())},
            schema={"agent": pl.String(), "team": pl.String()},
        )
        segments = segments.join(lookup, on="agent", how="left")
    else:
        segments = segments.with_columns(pl.lit(None, dtype=pl.String()).alias("team"))
    dims = list(by)
    quarters = (
        segments.with_columns(
            pl.int_ranges(
                (pl.col("start") // 900).cast(pl.Int64),
                ((pl.col("end") - 1e-9) // 900).cast(pl.Int64) + 1,
            ).alias("_q")
        )
        .explode("_q")
        .with_columns((pl.col("_q") * 900).alias("_quarter"))
        .with_columns(
            (
                pl.min_horizontal(pl.col("end"), pl.col("_quarter") + 900)
                - pl.max_horizontal(pl.col("start"), pl.col("_quarter"))
            ).alias("_s")
        )
    )
    local = (
        pl.from_epoch(pl.col("_quarter"), time_unit="s")
        .dt.cast_time_unit("us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
        .dt.truncate(_EVERY[interval])
    )
    seconds = pl.col("_s")
    table = (
        quarters.with_columns(local.alias("interval_start"))
        .group_by(["interval_start", *dims])
        .agg(
            seconds.filter(pl.col("state").is_in(list(HANDLING_STATES))).sum().alias("handling_s"),
            seconds.filter(pl.col("state").is_in(list(IDLE_STATES))).sum().alias("idle_s"),
            seconds.filter(pl.col("state") == "not_ready").sum().alias("not_ready_s"),
            seconds.sum().alias("logged_in_s"),
        )
        .with_columns(
            pl.when(pl.col("handling_s") + pl.col("idle_s") > 0)
            .then(pl.col("handling_s") / (pl.col("handling_s") + pl.col("idle_s")))
            .alias("occupancy"),
            pl.when(pl.col("logged_in_s") > 0)
            .then(pl.col("handling_s") / pl.col("logged_in_s"))
            .alias("utilization"),
        )
        .sort(["interval_start", *dims], nulls_last=True)
    )
    return table


# ---------------------------------------------------------------------------------------------
# Experience figures (METRICS.md): from survey_answered events


#: What survey answers break down by: the contact's queue, agent, channel (the one the
#: contact arrived on: voice, chat, email, sms…) or entry point (where a chat came in: web,
#: wechat, sms; none recorded for other contacts).
EXPERIENCE_DIMENSIONS = ("queue", "agent", "channel", "entry")


def experience_figures(
    events: Iterable[Event],
    *,
    interval: str = "day",
    timezone: str = "UTC",
    by: Sequence[str] = ("queue",),
) -> pl.DataFrame:
    """CSAT (top-2-box), DSAT (bottom box) and NPS per interval from survey answers.

    A survey answer carries ``score`` and ``scale_max`` (5 for CSAT, 10 for NPS on 0–10); an
    answer without ``score`` (a survey page's response with no overall rating) counts in none.
    ``csat`` = share of answers in the top two boxes of a 1–``scale_max`` scale, ``dsat`` =
    share of answers 1; ``nps`` = % of 9–10 minus % of 0–6 over 0–10 answers, in points.

    >>> from hotline.core.events import Event, EventKind as K
    >>> log = [Event(i, 60.0 * i, K.SURVEY_ANSWERED, f"c{i}", queue="q",
    ...              data={"score": s, "scale_max": 5}) for i, s in enumerate([5, 4, 3, 1])]
    >>> row = experience_figures(log, interval="1h").row(0, named=True)
    >>> row["csat"], row["dsat"], row["surveys"]
    (0.5, 0.25, 4)
    """
    if interval not in INTERVALS or interval == "all":
        raise ValueError(f"interval must be one of {', '.join(i for i in INTERVALS if i != 'all')}")
    unknown = [d for d in by if d not in EXPERIENCE_DIMENSIONS]
    if unknown:
        raise ValueError(
            f"cannot break down survey answers by {unknown}; "
            f"choose from {', '.join(EXPERIENCE_DIMENSIONS)}"
        )
    rows: dict[str, list[Any]] = {
        "at": [],
        "queue": [],
        "agent": [],
        "channel": [],
        "entry": [],
        "score": [],
        "scale": [],
    }
    # The channel a contact arrived on: a survey answer counts there (an SMS conversation's
    # end-of-chat survey is the SMS channel's, a voice call's IVR survey names no channel).
    arrived_on: dict[str, str] = {}
    came_in_at: dict[str, str] = {}
    for event in events:
        if event.kind is EventKind.ARRIVED and event.contact_id and event.channel is not None:
            arrived_on[event.contact_id] = str(event.channel)
        if event.kind is EventKind.ARRIVED and event.contact_id and event.data.get("entry"):
            came_in_at[event.contact_id] = str(event.data["entry"])
        if event.kind is not EventKind.SURVEY_ANSWERED or "score" not in event.data:
            continue  # an answer with no rating (only yes/no or text) is no CSAT or NPS answer
        rows["at"].append(event.at)
        rows["queue"].append(event.queue)
        rows["agent"].append(event.agent_id)
        rows["channel"].append(
            arrived_on.get(event.contact_id or "")
            or (str(event.channel) if event.channel is not None else None)
        )
        rows["entry"].append(came_in_at.get(event.contact_id or ""))
        rows["score"].append(float(event.data.get("score", math.nan)))
        rows["scale"].append(int(event.data.get("scale_max", 5)))
    frame = pl.DataFrame(
        rows,
        schema={
            "at": pl.Float64(),
            "queue": pl.String(),
            "agent": pl.String(),
            "channel": pl.String(),
            "entry": pl.String(),
            "score": pl.Float64(),
            "scale": pl.Int64(),
        },
    )
    five = pl.col("scale") < 10
    ten = pl.col("scale") >= 10
    start = (
        pl.from_epoch((pl.col("at") * 1_000_000).cast(pl.Int64), time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
        .dt.truncate(_EVERY[interval])
    )
    return (
        frame.with_columns(start.alias("interval_start"))
        .group_by(["interval_start", *by])
        .agg(
            pl.len().alias("surveys"),
            (five & (pl.col("score") >= pl.col("scale") - 1)).sum().alias("_top"),
            (five & (pl.col("score") <= 1)).sum().alias("_bottom"),
            five.sum().alias("_five"),
            (ten & (pl.col("score") >= 9)).sum().alias("_promoters"),
            (ten & (pl.col("score") <= 6)).sum().alias("_detractors"),
            ten.sum().alias("_ten"),
        )
        .with_columns(
            pl.when(pl.col("_five") > 0).then(pl.col("_top") / pl.col("_five")).alias("csat"),
            pl.when(pl.col("_five") > 0).then(pl.col("_bottom") / pl.col("_five")).alias("dsat"),
            pl.when(pl.col("_ten") > 0)
            .then(100.0 * (pl.col("_promoters") - pl.col("_detractors")) / pl.col("_ten"))
            .alias("nps"),
        )
        .select("interval_start", *by, "surveys", "csat", "dsat", "nps")
        .sort(["interval_start", *by], nulls_last=True)
    )


def frame_to_csv(frame: pl.DataFrame, path: Any, *, timezone: str = "UTC") -> int:
    """Write contact records as the METRICS.md interchange CSV; return the rows written.

    Timestamps become ISO 8601 with the offset of ``timezone`` (microseconds kept, so a
    file read back gives the same figures); empty cells stand for missing values.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
    >>> frame_to_csv(records_to_frame([ContactRecord(contact_id="c1", arrived_at=0.0,
    ...                                              outcome="self_served")]), path)
    1
    >>> path.read_text().splitlines()[1][:40]
    'c1,1970-01-01T00:00:00.000000+00:00,self'
    """
    stamps = ("arrived_at", "queued_at", "answered_at", "abandoned_at", "ended_at")
    out = conform(frame).with_columns(
        [
            pl.from_epoch((pl.col(c) * 1_000_000).round().cast(pl.Int64), time_unit="us")
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(timezone)
            .dt.to_string("%Y-%m-%dT%H:%M:%S%.6f%:z")
            .alias(c)
            for c in stamps
        ]
    )
    safe_text(out).write_csv(path)
    return out.height


def safe_text(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cell that would start a spreadsheet formula neutralised
    (:func:`hotline.core.spreadsheet.csv_cell`), for writing as CSV.

    >>> safe_text(pl.DataFrame({"queue": ["=1+2", "repair"], "n": [-1, 2]})).rows()
    [("'=1+2", -1), ('repair', 2)]
    """
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_PATTERN))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


_STAMPS = ("arrived_at", "queued_at", "answered_at", "abandoned_at", "ended_at")


def frame_to_parquet(frame: pl.DataFrame, path: Any) -> int:
    """Write contact records as Parquet (METRICS.md column names, timestamps in UTC)."""
    out = conform(frame).with_columns(
        [
            pl.from_epoch((pl.col(c) * 1_000_000).round().cast(pl.Int64), time_unit="us")
            .dt.replace_time_zone("UTC")
            .alias(c)
            for c in _STAMPS
        ]
    )
    out.write_parquet(path)
    return out.height


def read_parquet_records(
    path: Any, *, skip_bad_rows: bool = False, timezone: str = "UTC"
) -> tuple[pl.DataFrame, list[Problem]]:
    """Read contact records from Parquet (METRICS.md column names) with vectorised checks.

    Timestamps may be datetimes (naive ones are in ``timezone``) or epoch seconds. Rows that
    break a rule are reported as ``row N`` (1-based) with the column and the rule; the file is
    refused whole unless ``skip_bad_rows``, then the bad rows are left out and listed.
    """
    name = str(path)
    raw = pl.read_parquet(path)
    missing = [c for c in ("contact_id", "arrived_at", "outcome") if c not in raw.columns]
    if missing:
        raise ValidationFailed(
            [Problem(rule=f"required column {c!r} is missing", file=name, field=c) for c in missing]
        )
    converted = []
    for column in _STAMPS:
        if column not in raw.columns:
            continue
        dtype = raw.schema[column]
        if isinstance(dtype, pl.Datetime):
            value = pl.col(column)
            if dtype.time_zone is None:
                value = value.dt.replace_time_zone(timezone)
            converted.append((value.dt.epoch("us") / 1_000_000).alias(column))
    frame = conform(raw.with_columns(converted)).with_row_index("_row", offset=1)
    answered = pl.col("outcome") == "answered"
    rules: list[tuple[str, str, pl.Expr]] = [
        ("contact_id", "contact_id is required", pl.col("contact_id").is_null()),
        ("arrived_at", "arrived_at is required", pl.col("arrived_at").is_null()),
        (
            "outcome",
            "outcome is not one of the METRICS.md outcomes",
            ~pl.col("outcome").is_in(sorted(OUTCOMES)).fill_null(False),
        ),
        (
            "channel",
            "channel is not a known channel",
            ~pl.col("channel").is_in(sorted(CHANNELS)).fill_null(False),
        ),
        (
            "answered_at",
            "an answered contact needs answered_at",
            answered & pl.col("answered_at").is_null(),
        ),
        ("agent", "an answered contact needs an agent", answered & pl.col("agent").is_null()),
        (
            "contact_id",
            "contact_id is not unique in this file",
            pl.col("contact_id").is_duplicated(),
        ),
    ]
    for column in ("talk_s", "hold_s", "wrap_s"):
        rules.append((column, f"{column} must not be negative", pl.col(column) < 0))
    for column in ("answered_at", "abandoned_at"):
        rules.append(
            (
                column,
                f"{column} is before queued_at",
                (pl.col(column) < pl.col("queued_at") - CLOCK_TOLERANCE_S).fill_null(False),
            )
        )
    # All rules in one pass; rows are only listed for the rules some row breaks.
    flags = frame.select(
        [condition.fill_null(False).alias(f"_rule{i}") for i, (_, _, condition) in enumerate(rules)]
    )
    problems: list[Problem] = []
    for i, (column, rule, _) in enumerate(rules):
        flag = flags[f"_rule{i}"]
        if flag.any():
            rows = frame["_row"].filter(flag).to_list()
            problems.extend(Problem(rule=f"row {r}: {rule}", file=name, field=column) for r in rows)
    if problems and not skip_bad_rows:
        raise ValidationFailed(problems)
    if not problems:
        return frame.drop("_row"), problems
    bad = flags.select(pl.any_horizontal(pl.all())).to_series()
    return frame.filter(~bad).drop("_row"), problems
