"""The KPI report's selection and figures, shared by the reports page and scheduled reports.

:class:`Filters` reads and checks the report's filters (dates in the center's time zone,
interval, breakdown, queue, team, agent); :func:`selected_contacts` picks the contacts they
select (a team lead's scope applied), :func:`build_report` computes the METRICS.md figures
with each queue's own thresholds, and :func:`kpi_workbook` writes them as Excel with the
settings they were computed under.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import polars as pl
from fastapi import HTTPException
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.core.spreadsheet import append_row
from hotline.identity.scope import EVERYONE, AgentScope
from hotline.metrics import service as metrics
from hotline.metrics.compute import KpiReport, queue_figures, with_sites
from hotline.metrics.definitions import DIMENSIONS, INTERVALS

#: Longest span one page computes, so a careless filter cannot tie up the server.
MAX_DAYS = 92
#: The dates a report can cover (a calendar date past these cannot be turned into instants).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)


class Filters:
    """The report's filters, read from the query string and checked."""

    def __init__(self, query: Mapping[str, str], timezone: str) -> None:
        today = datetime.now(ZoneInfo(timezone)).date()
        try:
            self.date_from = date.fromisoformat(query.get("from") or today.isoformat())
            self.date_to = date.fromisoformat(query.get("to") or self.date_from.isoformat())
        except ValueError:
            raise HTTPException(
                422, [{"field": "from", "problem": "dates look like 2026-11-23"}]
            ) from None
        for field, day in (("from", self.date_from), ("to", self.date_to)):
            if not FIRST_DAY <= day <= LAST_DAY:
                problem = f"give a date from {FIRST_DAY} to {LAST_DAY}"
                raise HTTPException(422, [{"field": field, "problem": problem}])
        if self.date_to < self.date_from or (self.date_to - self.date_from).days > MAX_DAYS:
            raise HTTPException(
                422, [{"field": "to", "problem": f"give a range of 0 to {MAX_DAYS} days"}]
            )
        self.interval = query.get("interval") or "30m"
        if self.interval not in INTERVALS:
            raise HTTPException(422, [{"field": "interval", "problem": "unknown interval"}])
        self.by = query.get("by") or "queue"
        if self.by not in DIMENSIONS:
            raise HTTPException(422, [{"field": "by", "problem": "unknown breakdown"}])
        self.queue = query.get("queue") or ""
        self.team = query.get("team") or ""
        self.agent = query.get("agent") or ""
        self.site = query.get("site") or ""
        self.timezone = timezone
        for field, value in (
            ("queue", self.queue),
            ("team", self.team),
            ("agent", self.agent),
            ("site", self.site),
        ):
            if len(value) > 64:
                raise HTTPException(422, [{"field": field, "problem": "at most 64 characters"}])

    def span(self) -> tuple[datetime, datetime]:
        """The first and last instants the filters cover, in the center's time zone."""
        tz = ZoneInfo(self.timezone)
        start = datetime.combine(self.date_from, datetime.min.time(), tz)
        end = datetime.combine(self.date_to + timedelta(days=1), datetime.min.time(), tz)
        return start, end

    def query_string(self) -> str:
        """The filters as a query string, for the export links."""
        return urlencode(
            {
                "from": self.date_from.isoformat(),
                "to": self.date_to.isoformat(),
                "interval": self.interval,
                "by": self.by,
                "queue": self.queue,
                "team": self.team,
                "agent": self.agent,
                "site": self.site,
            }
        )


def selected_contacts(
    center: CenterConfig | None,
    session: Session,
    filters: Filters,
    scope: AgentScope = EVERYONE,
) -> pl.DataFrame:
    """The database's contacts for the chosen queue, team and agent (any date).

    Broken down or filtered by agent or team, only ``scope``'s agents and teams count: a team
    lead reads their own team's figures. Per queue and channel the figures stay whole.
    """
    frame = metrics.records_frame(session=session)
    if center is not None:
        # Contacts folded from the event log carry no team; the center file knows each agent's.
        teams = {a.id: a.team for a in center.agents}
        frame = frame.with_columns(
            pl.coalesce(
                pl.col("team"),
                pl.col("agent").replace_strict(teams, default=None, return_dtype=pl.String),
            ).alias("team")
        )
    # Each contact's site: its queue's, else its agent's (no sites: none).
    queue_sites, agent_sites = (
        (center.queue_sites(), center.agent_sites()) if center is not None else ({}, {})
    )
    frame = with_sites(frame, queues=queue_sites, agents=agent_sites)
    known: dict[str, set[str]] = {"queue": set(), "team": set(), "agent": set(), "site": set()}
    if center is not None:
        known = {
            "queue": {q.id for q in center.queues},
            "team": {t.id for t in center.teams},
            "agent": {a.id for a in center.agents},
            "site": {s.id for s in center.sites},
        }
    for column, value in (
        ("queue", filters.queue),
        ("team", filters.team),
        ("agent", filters.agent),
        ("site", filters.site),
    ):
        if value:
            frame = frame.filter(pl.col(column) == value)
            # Imported records may name queues, teams and agents of another ACD: a name is
            # unknown only when neither the center nor the records have it.
            if value not in known[column] and frame.is_empty():
                problem = f"no {column} {value!r} in this center or its contact records"
                raise HTTPException(422, [{"field": column, "problem": problem}])
    if not scope.everyone:
        if filters.by == "team" or filters.team:
            frame = frame.filter(pl.col("team").is_in(sorted(scope.teams)))
        if filters.by == "agent" or filters.agent:
            frame = frame.filter(pl.col("agent").is_in(sorted(scope.agents)))
    return frame


def build_report(
    center: CenterConfig | None, filters: Filters, contacts: pl.DataFrame
) -> KpiReport:
    """Compute the figures per interval of the selected contacts queued in the date range."""
    from hotline.live.wallboard import metric_settings

    first, last = filters.span()
    start, end = first.timestamp(), last.timestamp()
    frame = contacts.filter((pl.col("queued_at") >= start) & (pl.col("queued_at") < end))
    settings = metric_settings(center) if center is not None else None
    report = queue_figures(
        frame,
        interval=filters.interval,
        by=(filters.by,),
        settings=settings,
        timezone=filters.timezone,
    )
    report.notes.append(
        f"{frame.height} contacts queued {filters.date_from} to {filters.date_to} "
        f"({filters.timezone}); imported records and the contact event log"
    )
    return report


def kpi_workbook(report: KpiReport) -> bytes:
    """The figures (sheet ``figures``) and the settings they were computed under (``settings``)
    as an Excel workbook."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "figures"
    rows = report.rows()
    columns = list(report.table.columns)
    # Text cells stay text: a queue or agent name from an imported file is never a formula.
    append_row(sheet, columns)
    for row in rows:
        append_row(sheet, [row[c] for c in columns])
    about = book.create_sheet("settings")
    append_row(about, ["setting", "value"])
    for key, value in report.header().items():
        append_row(about, [key, value if isinstance(value, str) else json.dumps(value)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
