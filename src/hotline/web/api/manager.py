"""Manager cockpit API: the center's figures per day, control charts, targets, outlier agents.

``GET /api/manager/cockpit`` answers, for a period of local days (30 ending today unless
``from``/``to`` say otherwise), every cockpit figure per day with its METRICS.md definition,
its control chart (limits per point and the Western Electric signals), the center target,
today's figures per queue and team, the alerts of the last day (targets and control limits
crossed), and the agents whose AHT, FCR or occupancy lie beyond the team mean ± k standard
deviations with the z-score and p-values (:mod:`hotline.web.cockpit`).

``POST /api/manager/alerts/notify`` sends the day's alerts as in-app notifications to the
managers (each alert once, however often it is called: a scheduler or a person may run it).

Managers, supervisors and admins read it; it shows agents by id, with no customer data.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session

from hotline.identity import audit
from hotline.notifications import service as notifications
from hotline.store.db import writing
from hotline.web.alert_sweep import alert_params
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, read_session, require_roles
from hotline.web.cockpit import FIGURES, Cockpit, build_cockpit, period

router = APIRouter(prefix="/api/manager", tags=["manager"])

#: Who reads the cockpit: the people who run the center.
COCKPIT_ROLES = ("manager", "supervisor")


class SignalOut(ResponseModel):
    """An out-of-control point: its day, the Western Electric rule (1–4) and its side."""

    day: date
    rule: int
    side: str
    description: str


class ChartOut(ResponseModel):
    """A control chart: ``individuals`` (XmR) or ``p``; the days charted and their values,
    the centre line, the limits per point, and the signals."""

    kind: str
    days: list[date]
    values: list[Number]
    centre: Number
    lower: list[Number]
    upper: list[Number]
    signals: list[SignalOut]


class TargetOut(ResponseModel):
    """A target's bounds (either may be absent)."""

    at_least: Number | None
    at_most: Number | None


class FigureOut(ResponseModel):
    """One figure of the center per day, today's value, its target and control chart."""

    metric: str
    unit: str
    definition: str
    today: Number | None
    values: list[Number | None]
    target: TargetOut | None
    chart: ChartOut | None


class BreakdownOut(ResponseModel):
    """Today's figures of one queue or team, and the metrics whose target it crossed."""

    id: str
    figures: dict[str, Number | None]
    crossed: list[str]


class OutlierOut(ResponseModel):
    """An agent beyond the team mean ± k·s for one figure: z, two-sided p, Bonferroni p."""

    metric: str
    agent: str
    value: Number
    contacts: int
    z: Number
    p_value: Number
    adjusted_p_value: Number
    mean: Number
    standard_deviation: Number
    k: Number
    agents_compared: int


class AlertOut(ResponseModel):
    """A target (``target``) or a control limit (``control``) crossed on the last day."""

    kind: str
    metric: str
    level: str
    id: str | None
    day: date
    value: Number
    detail: str


class CockpitOut(ResponseModel):
    """The manager cockpit for a period of local days."""

    date_from: date
    date_to: date
    timezone: str
    currency: str | None
    days: list[date]
    figures: list[FigureOut]
    by_queue: list[BreakdownOut]
    by_team: list[BreakdownOut]
    outliers: list[OutlierOut]
    alerts: list[AlertOut]
    notes: list[str]


def cockpit_out(cockpit: Cockpit) -> CockpitOut:
    """The cockpit as the API answers it (and as the page reads it)."""
    figures = []
    for metric, (unit, definition) in FIGURES.items():
        chart = cockpit.charts.get(metric)
        target = cockpit.targets.get(metric)
        figures.append(
            FigureOut(
                metric=metric,
                unit=unit,
                definition=definition,
                today=cockpit.today(metric),
                values=cockpit.daily[metric],
                target=TargetOut(at_least=target.at_least, at_most=target.at_most)
                if target
                else None,
                chart=ChartOut(
                    kind=chart.chart.kind,
                    days=list(chart.days),
                    values=list(chart.chart.values),
                    centre=chart.chart.centre,
                    lower=list(chart.chart.lower),
                    upper=list(chart.chart.upper),
                    signals=[
                        SignalOut(
                            day=chart.days[s.index],
                            rule=s.rule,
                            side=s.side,
                            description=s.describe(),
                        )
                        for s in chart.chart.signals
                    ],
                )
                if chart
                else None,
            )
        )
    outliers = [
        OutlierOut(
            metric=metric,
            agent=agent.agent,
            value=agent.value,
            contacts=agent.contacts,
            z=agent.z,
            p_value=agent.p_value,
            adjusted_p_value=agent.adjusted_p_value,
            mean=report.mean,
            standard_deviation=report.standard_deviation,
            k=report.k,
            agents_compared=len(report.agents),
        )
        for metric, report in cockpit.outliers.items()
        for agent in report.outliers
    ]
    return CockpitOut(
        date_from=cockpit.first,
        date_to=cockpit.last,
        timezone=cockpit.timezone,
        currency=cockpit.currency,
        days=cockpit.days,
        figures=figures,
        by_queue=[BreakdownOut(**row) for row in cockpit.by_queue],
        by_team=[BreakdownOut(**row) for row in cockpit.by_team],
        outliers=outliers,
        alerts=[
            AlertOut(
                kind=a.kind,
                metric=a.metric,
                level=a.level,
                id=a.id,
                day=a.day,
                value=a.value,
                detail=a.detail,
            )
            for a in cockpit.alerts
        ],
        notes=cockpit.notes,
    )


def load_cockpit(
    request: Request, session: Session, first: date | None, last: date | None
) -> Cockpit:
    """Check the period (422 naming the field) and compute the cockpit."""
    center = request.app.state.center
    timezone = center.center.timezone if center is not None else "UTC"
    try:
        start, end = period(first, last, timezone=timezone)
    except ValueError as exc:
        field, _, problem = str(exc).partition(": ")
        raise HTTPException(422, [{"field": field, "problem": problem}]) from None
    return build_cockpit(session=session, center=center, first=start, last=end, timezone=timezone)


@router.get("/cockpit", responses=errors(422))
def cockpit(
    request: Request,
    date_from: date | None = Query(
        None, alias="from", description="First day (default: 29 days before to)."
    ),
    date_to: date | None = Query(
        None, alias="to", description="Last day, 'today' (default: today)."
    ),
    _: CurrentUser = Depends(require_roles(*COCKPIT_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> CockpitOut:
    """The center's figures per day with control charts, targets, alerts and outlier agents."""
    return cockpit_out(load_cockpit(request, session, date_from, date_to))


class AlertsSentOut(ResponseModel):
    """The day checked, its alerts, and how many were sent now (the others went before)."""

    day: date
    alerts: list[AlertOut]
    sent: int


@router.post("/alerts/notify", responses=errors(422))
def notify_alerts(
    request: Request,
    day: date | None = Query(None, description="The day to check (default: today)."),
    user: CurrentUser = Depends(require_roles(*COCKPIT_ROLES)),
    session: Session = Depends(read_session, scope="function"),
) -> AlertsSentOut:
    """Send ``day``'s crossed targets and control limits to the managers, each alert once."""
    # The figures are read first with no write transaction open; only the sending writes.
    answer = cockpit_out(load_cockpit(request, session, None, day))
    session.commit()
    writing(session)
    managers = notifications.Addressee.role("manager")
    sent = 0
    for alert in answer.alerts:
        params = alert_params(alert)
        if notifications.was_sent(session, to=managers, kind="kpi_alert", params=params):
            continue
        notifications.send(session, to=managers, kind="kpi_alert", params=params)
        sent += 1
    audit.record(
        session,
        actor=user.username,
        action="manager.alerts_notified",
        target=answer.date_to.isoformat(),
        detail={"alerts": len(answer.alerts), "sent": sent},
    )
    session.commit()
    return AlertsSentOut(day=answer.date_to, alerts=answer.alerts, sent=sent)
