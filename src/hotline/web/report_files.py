"""The center's exports as files, for scheduled reports: which report, in which formats, with
which filters, over which days.

Each export is the one its page or API already offers, computed by the same code: the KPI
report (:mod:`hotline.web.pages.reports`, Excel or CSV), the manager cockpit (its figures per
day with their definitions and the alerts, Excel), the voice of the customer
(:mod:`hotline.surveys.voc_export`, Excel or PDF), the fault statistics
(:mod:`hotline.tickets.fault_export`, Excel) and a service provider's settlement statement
(:mod:`hotline.followup.export`, Excel). A scheduled report covers whole local days (see
:mod:`hotline.core.recurrence`); the monthly exports cover the month of the period's last
day. Scheduled reports read everything, as a manager does: no team lead's scope applies.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.core.errors import Problem, ValidationFailed
from hotline.core.spreadsheet import append_row

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"xlsx": XLSX, "pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class ReportFile:
    """A rendered report: its file name, media type and bytes."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Period:
    """The local days a report covers, in the center's time zone."""

    first: date
    last: date
    timezone: str

    @property
    def month(self) -> str:
        """The month of the last day (``YYYY-MM``), for the monthly exports."""
        return self.last.strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class Asked:
    """What a renderer is asked for: the database, the center, the format, filters and days."""

    session: Session
    center: CenterConfig | None
    format: str
    filters: Mapping[str, str]
    period: Period


Renderer = Callable[[Asked], bytes]


@dataclass(frozen=True, slots=True)
class ReportKind:
    """An export: its formats, the filters it takes (``required`` ones must be given)."""

    formats: tuple[str, ...]
    filters: tuple[str, ...]
    render: Renderer
    required: tuple[str, ...] = ()


def _kpis(asked: Asked) -> bytes:
    from hotline.web.kpi_report import Filters, build_report, kpi_workbook, selected_contacts

    query = {
        "from": asked.period.first.isoformat(),
        "to": asked.period.last.isoformat(),
        "interval": asked.filters.get("interval") or "day",
        **{k: v for k, v in asked.filters.items() if k != "interval"},
    }
    chosen = Filters(query, asked.period.timezone)
    report = build_report(
        asked.center, chosen, selected_contacts(asked.center, asked.session, chosen)
    )
    if asked.format == "csv":
        return report.to_csv().encode("utf-8")
    return kpi_workbook(report)


def _cockpit(asked: Asked) -> bytes:
    from openpyxl import Workbook

    from hotline.web.cockpit import FIGURES, build_cockpit

    cockpit = build_cockpit(
        session=asked.session,
        center=asked.center,
        first=asked.period.first,
        last=asked.period.last,
        timezone=asked.period.timezone,
    )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "figures"
    append_row(sheet, ["day", *FIGURES])
    for index, day in enumerate(cockpit.days):
        append_row(sheet, [day.isoformat(), *(cockpit.daily[m][index] for m in FIGURES)])
    alerts = book.create_sheet("alerts")
    append_row(alerts, ["kind", "metric", "level", "id", "day", "value", "detail"])
    for alert in cockpit.alerts:
        append_row(
            alerts,
            [
                alert.kind,
                alert.metric,
                alert.level,
                alert.id or "",
                alert.day.isoformat(),
                alert.value,
                alert.detail,
            ],
        )
    definitions = book.create_sheet("definitions")
    append_row(definitions, ["metric", "unit", "definition"])
    for metric, (unit, definition) in FIGURES.items():
        append_row(definitions, [metric, unit, definition])
    for note in cockpit.notes:
        append_row(definitions, ["note", "", note])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _voc(asked: Asked) -> bytes:
    from hotline.quality.service import month_bounds
    from hotline.surveys import service as surveys
    from hotline.surveys.voc_export import pdf, workbook

    since, until = month_bounds(asked.period.month, asked.period.timezone)
    report = surveys.monthly_report(
        session=asked.session,
        month=asked.period.month,
        since=since,
        until=until,
        timezone=asked.period.timezone,
        teams={a.id: a.team for a in asked.center.agents} if asked.center is not None else {},
        definitions=asked.center.surveys.definitions
        if asked.center and asked.center.surveys
        else [],
    )
    return pdf(report) if asked.format == "pdf" else workbook(report)


def _faults(asked: Asked) -> bytes:
    from hotline.quality.service import month_bounds
    from hotline.tickets import fault_export
    from hotline.tickets import service as tickets

    start, end = month_bounds(asked.period.month, asked.period.timezone)
    found = tickets.fault_statistics(
        asked.session, start=start, end=end, timezone=asked.period.timezone
    )
    return fault_export.workbook(found, since=asked.period.month, until=asked.period.month)


def _settlement(asked: Asked) -> bytes:
    from hotline.followup import service as followup
    from hotline.followup.export import statement_workbook

    provider = asked.filters["provider"]
    lines = followup.statement(asked.session, month=asked.period.month, provider=provider)
    return statement_workbook(lines, provider=provider, month=asked.period.month)


#: The exports a schedule may send.
REPORTS: Mapping[str, ReportKind] = {
    "kpis": ReportKind(
        ("xlsx", "csv"), ("by", "interval", "queue", "team", "agent", "site"), _kpis
    ),
    "cockpit": ReportKind(("xlsx",), (), _cockpit),
    "voc": ReportKind(("xlsx", "pdf"), (), _voc),
    "faults": ReportKind(("xlsx",), (), _faults),
    "settlement": ReportKind(("xlsx",), ("provider",), _settlement, required=("provider",)),
}


def check_request(report: str, format: str, filters: Mapping[str, str]) -> None:
    """Refuse an unknown report, a format it has no export in, or filters it does not take
    (:class:`ValidationFailed` naming the field and the rule)."""
    kind = REPORTS.get(report)
    if kind is None:
        raise ValidationFailed(
            [Problem(f"unknown report {report!r}; use one of {', '.join(REPORTS)}", field="report")]
        )
    if format not in kind.formats:
        problem = f"the {report} report exists as {' or '.join(kind.formats)}, not {format!r}"
        raise ValidationFailed([Problem(problem, field="format")])
    for name, value in filters.items():
        if name not in kind.filters:
            allowed = ", ".join(kind.filters) or "none"
            problem = f"the {report} report takes no filter {name!r} (filters: {allowed})"
            raise ValidationFailed([Problem(problem, field=f"filters.{name}")])
        if not isinstance(value, str) or not 0 < len(value) <= 64:
            raise ValidationFailed(
                [Problem("a filter is 1 to 64 characters", field=f"filters.{name}")]
            )
    for name in kind.required:
        if not filters.get(name):
            raise ValidationFailed(
                [Problem(f"the {report} report needs a {name}", field=f"filters.{name}")]
            )


def render(
    session: Session,
    *,
    center: CenterConfig | None,
    report: str,
    format: str,
    filters: Mapping[str, str],
    period: Period,
) -> ReportFile:
    """Render ``report`` over ``period`` as a file named after the report and the days.

    A filter that names nothing the center or its records know (the KPI report's) raises
    the page's 422 :class:`fastapi.HTTPException`; the caller records it as the run's error.
    """
    check_request(report, format, filters)
    content = REPORTS[report].render(Asked(session, center, format, filters, period))
    days = (
        f"{period.first}"
        if period.first == period.last
        else f"{period.first}-{period.last}"
        if period.last - period.first < timedelta(days=27)
        else period.month
    )
    return ReportFile(f"hotline-{report}-{days}.{format}", MEDIA_TYPES[format], content)
