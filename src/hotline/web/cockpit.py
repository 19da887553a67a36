"""The manager cockpit: today and the trend of the center's figures, their control charts,
the targets crossed and the agents who differ most.

A composition above two domains (metrics and tickets), so it lives with the adapters: every
contact figure comes from :mod:`hotline.metrics` (the same engine as the reports and the
wallboard, METRICS.md definitions), every ticket figure from :mod:`hotline.tickets`' service,
the control charts and outlier agents from the pure :mod:`hotline.metrics.spc`, the targets and
costs from the center configuration (:mod:`hotline.config.targets`).

Per day (local days of the center's time zone) the cockpit computes, for the whole center:
service level (METRICS.md default definition), abandonment, ASA, AHT, occupancy, FCR, CSAT,
DSAT, NPS, ticket backlog and on-time rate, complaints opened, and cost per call minute and
per contact. Service level and abandonment are p-charts (each day's own denominator); the
others individuals (XmR) charts. The last day of the period is "today": its figures per queue
and team are compared with their targets, and its control-chart signals are alerts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.config.targets import MetricTarget, TargetLevel, Targets
from hotline.metrics import service as metrics
from hotline.metrics.compute import queue_figures, with_teams
from hotline.metrics.spc import ControlChart, SpreadReport, agent_spread, individuals_chart, p_chart
from hotline.tickets import service as tickets

Unit = Literal["ratio", "seconds", "points", "count", "money"]

#: The cockpit's figures in the order shown, with their unit and their METRICS.md definition.
FIGURES: Mapping[str, tuple[Unit, str]] = {
    "service_level": (
        "ratio",
        "answered with wait_s <= T / (answered + abandoned - short_abandoned)",
    ),
    "abandon_rate": ("ratio", "(abandoned - short_abandoned) / (offered - short_abandoned)"),
    "asa_s": ("seconds", "mean wait_s of answered contacts"),
    "aht_s": ("seconds", "(talk + hold + wrap) / answered"),
    "occupancy": ("ratio", "handling time / (handling time + available idle time)"),
    "fcr": ("ratio", "1 - share of handled contacts whose customer contacts again within 24 h"),
    "csat": ("ratio", "share of survey answers 4 or 5 on a 1-5 scale (top-2-box)"),
    "dsat": ("ratio", "share of survey answers 1 on a 1-5 scale (bottom box)"),
    "nps": ("points", "% answers 9-10 minus % answers 0-6 on a 0-10 scale"),
    "backlog": ("count", "open tickets at the end of the day"),
    "on_time_rate": ("ratio", "tickets closed by their due time / tickets closed"),
    "complaints": ("count", "complaint tickets opened"),
    "cost_per_minute": (
        "money",
        "(agent labour + telephony + overhead) / handled minutes (talk + hold + wrap)",
    ),
    "cost_per_contact": ("money", "(agent labour + telephony + overhead) / handled contacts"),
}
#: Rates charted on a p-chart, with how to rebuild each day's numerator and denominator.
P_CHARTED = ("service_level", "abandon_rate")
#: Figures whose spread across agents finds the outlier agents.
SPREAD_FIGURES = ("aht_s", "fcr", "occupancy")
#: Figures shown per queue and per team for today.
QUEUE_COLUMNS = ("offered", "service_level", "abandon_rate", "asa_s", "aht_s", "fcr", "csat")
TEAM_COLUMNS = ("answered", "service_level", "aht_s", "fcr", "occupancy")
#: Longest period one cockpit computes.
MAX_DAYS = 92
DEFAULT_DAYS = 30
#: The days a period can cover (a date past these cannot be turned into instants).
FIRST_DAY = date(1970, 2, 1)
LAST_DAY = date(2999, 12, 31)


@dataclass(frozen=True, slots=True)
class Alert:
    """A target or a control limit crossed on the period's last day."""

    kind: Literal["target", "control"]
    metric: str
    level: TargetLevel
    id: str | None
    day: date
    value: float
    detail: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A control chart over the days that have the figure."""

    days: tuple[date, ...]
    chart: ControlChart


@dataclass
class Cockpit:
    """Everything the manager page and the API show for one period."""

    first: date
    last: date
    timezone: str
    currency: str | None
    daily: dict[str, list[float | None]]
    charts: dict[str, Chart]
    targets: dict[str, MetricTarget]
    by_queue: list[dict[str, Any]]
    by_team: list[dict[str, Any]]
    outliers: dict[str, SpreadReport]
    alerts: list[Alert]
    notes: list[str] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        """Every day of the period, in order."""
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def today(self, metric: str) -> float | None:
        """The figure on the period's last day."""
        return self.daily[metric][-1]


def period(
    first: date | None, last: date | None, *, timezone: str, now: datetime | None = None
) -> tuple[date, date]:
    """The period asked for: ``last`` defaults to today, ``first`` to 29 days before it.

    Raises ``ValueError`` naming the field when the period is reversed or too long.
    """
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
    for name, day in (("from", first), ("to", last)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(f"{name}: give a date from {FIRST_DAY} to {LAST_DAY}")
    end = last or today
    start = first or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValueError("to: the period ends before it starts")
    if (end - start).days >= MAX_DAYS:
        raise ValueError(f"to: a period covers at most {MAX_DAYS} days")
    return start, end


def _day_of(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _by_day(rows: Sequence[Mapping[str, Any]]) -> dict[date, Mapping[str, Any]]:
    return {_day_of(row["interval_start"]): row for row in rows}


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def build_cockpit(
    *,
    session: Session,
    center: CenterConfig | None,
    first: date,
    last: date,
    timezone: str,
) -> Cockpit:
    """Compute the cockpit for the local days ``first`` to ``last`` (both included)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    targets = (center.targets if center is not None else None) or Targets()
    teams = metrics.teams_for_center(center) if center is not None else {}
    settings = metrics.settings_for_center(center) if center is not None else None
    notes: list[str] = []

    frame = metrics.records_frame(session=session)
    if teams:
        frame = with_teams(frame, teams)
    frame = frame.filter(
        (pl.col("queued_at") >= start.timestamp()) & (pl.col("queued_at") < end.timestamp())
    )
    notes.append(f"{frame.height} contacts queued {first} to {last} ({timezone})")

    def figures(interval: str, by: tuple[str, ...]) -> list[dict[str, Any]]:
        rows = queue_figures(
            frame, interval=interval, by=by, settings=settings, timezone=timezone
        ).rows()
        return rows

    center_days = _by_day(figures("day", ()))
    channel_days: dict[date, float] = {}
    for row in figures("day", ("channel",)):
        if row["channel"] == "voice" and row["answered"]:
            connected = (float(row["att_s"] or 0) + float(row["avg_hold_s"] or 0)) * row["answered"]
            channel_days[_day_of(row["interval_start"])] = connected
    daily: dict[str, list[float | None]] = {name: [] for name in FIGURES}
    for day in days:
        center_row = center_days.get(day, {})
        for name in ("service_level", "abandon_rate", "asa_s", "aht_s", "fcr"):
            daily[name].append(_number(center_row.get(name)))

    # Agent states (the event log): occupancy, and logged-in hours for labour cost.
    agent_rows = [
        row
        for row in metrics.agent_report(
            session=session, interval="day", by=("agent",), timezone=timezone, teams=teams
        ).to_dicts()
        if first <= _day_of(row["interval_start"]) <= last
    ]
    handling: dict[date, float] = {}
    idle: dict[date, float] = {}
    logged_in: dict[date, float] = {}
    for row in agent_rows:
        day = _day_of(row["interval_start"])
        handling[day] = handling.get(day, 0.0) + float(row["handling_s"] or 0)
        idle[day] = idle.get(day, 0.0) + float(row["idle_s"] or 0)
        logged_in[day] = logged_in.get(day, 0.0) + float(row["logged_in_s"] or 0)
    for day in days:
        busy = handling.get(day, 0.0) + idle.get(day, 0.0)
        daily["occupancy"].append(handling.get(day, 0.0) / busy if busy > 0 else None)

    survey_days = _by_day(
        metrics.experience_report(session=session, interval="day", by=(), timezone=timezone)
        .with_columns(pl.col("interval_start").dt.to_string("%Y-%m-%d"))
        .to_dicts()
    )
    for day in days:
        survey_row = survey_days.get(day, {})
        for name in ("csat", "dsat", "nps"):
            daily[name].append(_number(survey_row.get(name)))

    complaints = tickets.opened_per_day(
        session, start=start, end=end, ticket_type="complaint", timezone=timezone
    )
    for day in days:
        day_start = datetime.combine(day, datetime.min.time(), zone)
        work = tickets.deferred_work(session, start=day_start, end=day_start + timedelta(days=1))
        daily["backlog"].append(float(work.backlog))
        daily["on_time_rate"].append(work.on_time_rate)
        daily["complaints"].append(float(complaints.get(day, 0)))

    costs = targets.costs
    for day in days:
        center_row = center_days.get(day, {})
        answered = int(center_row.get("answered") or 0)
        handled_s = float(center_row.get("aht_s") or 0) * answered
        hours = logged_in.get(day, 0.0) / 3600
        if costs is None or not answered or hours <= 0:
            daily["cost_per_minute"].append(None)
            daily["cost_per_contact"].append(None)
            continue
        cost = (
            costs.labour_per_agent_hour * hours
            + costs.telephony_per_minute * channel_days.get(day, 0.0) / 60
            + costs.overhead_per_day
        )
        daily["cost_per_minute"].append(cost / (handled_s / 60) if handled_s > 0 else None)
        daily["cost_per_contact"].append(cost / answered)
    if costs is None:
        notes.append("no costs in the center configuration (targets.costs): no cost figures")
    elif any(center_days.get(d, {}).get("answered") for d in days) and not logged_in:
        notes.append("no agent log-in time in the event log: labour cost, and so cost, unknown")

    charts = _charts(days, daily, center_days)

    # Today per queue and per team, with their targets.
    today_queue = [r for r in figures("day", ("queue",)) if _day_of(r["interval_start"]) == last]
    today_team = [r for r in figures("day", ("team",)) if _day_of(r["interval_start"]) == last]
    today_agent = [r for r in figures("day", ("agent",)) if _day_of(r["interval_start"]) == last]
    queue_surveys = {
        row["queue"]: row
        for row in metrics.experience_report(
            session=session, interval="day", by=("queue",), timezone=timezone
        ).to_dicts()
        if _day_of(row["interval_start"]) == last
    }
    by_queue = []
    for row in today_queue:
        if row["queue"] is None:
            continue
        values: dict[str, float | None] = {name: _number(row.get(name)) for name in QUEUE_COLUMNS}
        # A queue is judged by its own headline service-level variant (config ``target.variant``).
        values["service_level"] = _number(row.get("reported_service_level"))
        for name in ("csat", "dsat", "nps"):
            values[name] = _number(queue_surveys.get(row["queue"], {}).get(name))
        by_queue.append({"id": row["queue"], "figures": values})
    team_occupancy: dict[str, tuple[float, float]] = {}
    agent_occupancy: dict[str, float | None] = {}
    for row in agent_rows:
        if _day_of(row["interval_start"]) != last:
            continue
        team = teams.get(row["agent"])
        busy = float(row["handling_s"] or 0) + float(row["idle_s"] or 0)
        agent_occupancy[row["agent"]] = float(row["handling_s"] or 0) / busy if busy else None
        if team is not None:
            h, b = team_occupancy.get(team, (0.0, 0.0))
            team_occupancy[team] = (h + float(row["handling_s"] or 0), b + busy)
    by_team = []
    for row in today_team:
        if row["team"] is None:
            continue
        values = {name: _number(row.get(name)) for name in TEAM_COLUMNS if name != "occupancy"}
        h, b = team_occupancy.get(row["team"], (0.0, 0.0))
        values["occupancy"] = h / b if b else None
        by_team.append({"id": row["team"], "figures": values})

    alerts = _target_alerts(targets, last, daily, by_queue, by_team, today_agent, agent_occupancy)
    for metric, chart in charts.items():
        if chart.days and chart.days[-1] == last:
            index = len(chart.days) - 1
            for signal in chart.chart.signals:
                if signal.index == index:
                    alerts.append(
                        Alert(
                            "control",
                            metric,
                            "center",
                            None,
                            last,
                            chart.chart.values[index],
                            signal.describe(),
                        )
                    )
    for group in (by_queue, by_team):
        level: TargetLevel = "queue" if group is by_queue else "team"
        for entry in group:
            entry["crossed"] = sorted(
                a.metric for a in alerts if a.level == level and a.id == entry["id"]
            )

    outliers = _outliers(frame, agent_rows, settings, timezone, targets.outlier_k)
    return Cockpit(
        first=first,
        last=last,
        timezone=timezone,
        currency=costs.currency if costs is not None else None,
        daily=daily,
        charts=charts,
        targets={t.metric: t for t in targets.metrics if t.level == "center"},
        by_queue=by_queue,
        by_team=by_team,
        outliers=outliers,
        alerts=alerts,
        notes=notes,
    )


def _charts(
    days: Sequence[date],
    daily: Mapping[str, Sequence[float | None]],
    center_days: Mapping[date, Mapping[str, Any]],
) -> dict[str, Chart]:
    """A control chart per figure over the days that have it (two at least)."""
    charts: dict[str, Chart] = {}
    for metric, values in daily.items():
        present = [(d, v) for d, v in zip(days, values, strict=True) if v is not None]
        if metric in P_CHARTED:
            points = []
            for day, value in present:
                row = center_days[day]
                short = int(row["short_abandoned"])
                trials = (
                    int(row["answered"]) + int(row["abandoned"]) - short
                    if metric == "service_level"
                    else int(row["offered"]) - short
                )
                if trials > 0:
                    # The row holds the share; numerator and denominator are whole counts.
                    points.append((day, round(value * trials), trials))
            if len(points) >= 2:
                chart = p_chart([p[1] for p in points], [p[2] for p in points])
                charts[metric] = Chart(tuple(p[0] for p in points), chart)
        elif len(present) >= 2:
            chart = individuals_chart([v for _, v in present])
            charts[metric] = Chart(tuple(d for d, _ in present), chart)
    return charts


def _target_alerts(
    targets: Targets,
    day: date,
    daily: Mapping[str, Sequence[float | None]],
    by_queue: Sequence[Mapping[str, Any]],
    by_team: Sequence[Mapping[str, Any]],
    by_agent: Sequence[Mapping[str, Any]],
    agent_occupancy: Mapping[str, float | None],
) -> list[Alert]:
    """Every target crossed by the day's figure of its level."""
    queues = {row["id"]: row["figures"] for row in by_queue}
    team_figures = {row["id"]: row["figures"] for row in by_team}
    agents: dict[str, dict[str, float | None]] = {
        row["agent"]: {name: _number(row.get(name)) for name in ("service_level", "aht_s", "fcr")}
        for row in by_agent
        if row["agent"] is not None
    }
    for agent, value in agent_occupancy.items():
        agents.setdefault(agent, {})["occupancy"] = value
    alerts: list[Alert] = []
    for target in targets.metrics:
        if target.level == "center":
            value = daily[target.metric][-1] if target.metric in daily else None
        else:
            pool = {"queue": queues, "team": team_figures, "agent": agents}[target.level]
            value = pool.get(target.id or "", {}).get(target.metric)
        if value is None or not target.crossed(value):
            continue
        bounds = []
        if target.at_least is not None:
            bounds.append(f"at least {target.at_least:g}")
        if target.at_most is not None:
            bounds.append(f"at most {target.at_most:g}")
        alerts.append(
            Alert(
                "target",
                target.metric,
                target.level,
                target.id,
                day,
                value,
                f"target {' and '.join(bounds)}",
            )
        )
    return alerts


def _outliers(
    frame: pl.DataFrame,
    agent_rows: Sequence[Mapping[str, Any]],
    settings: Any,
    timezone: str,
    k: float,
) -> dict[str, SpreadReport]:
    """The spread of AHT, FCR and occupancy across the agents over the whole period."""
    rows = queue_figures(
        frame, interval="all", by=("agent",), settings=settings, timezone=timezone
    ).rows()
    contacts = {r["agent"]: int(r["answered"]) for r in rows if r["agent"] is not None}
    reports: dict[str, SpreadReport] = {}
    for metric in ("aht_s", "fcr"):
        values = {
            r["agent"]: float(r[metric])
            for r in rows
            if r["agent"] is not None and r[metric] is not None
        }
        if len(values) >= 3:
            reports[metric] = agent_spread(values, contacts, k=k)
    handling: dict[str, float] = {}
    busy: dict[str, float] = {}
    for row in agent_rows:
        agent = row["agent"]
        handling[agent] = handling.get(agent, 0.0) + float(row["handling_s"] or 0)
        busy[agent] = (
            busy.get(agent, 0.0) + float(row["handling_s"] or 0) + float(row["idle_s"] or 0)
        )
    occupancy = {agent: handling[agent] / busy[agent] for agent in busy if busy[agent] > 0}
    if len(occupancy) >= 3:
        reports["occupancy"] = agent_spread(occupancy, contacts, k=k)
    return reports
