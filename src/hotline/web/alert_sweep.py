"""The cockpit's alerts on a schedule: raised once, cleared when the figure recovers.

The manager cockpit (:mod:`hotline.web.cockpit`) finds today's alerts: targets crossed at
each level and control-chart signals. The alert sweep (:class:`AlertSweeper`, every
``HOTLINE_ALERT_SWEEP_S`` seconds, default 300) computes the same cockpit for the 30 days to
today in the center's time zone and compares its alerts with the ones it raised before:

- an alert not open yet is **raised**: a ``raised_alerts`` row whose ``open_key`` (kind,
  metric, level, id) is unique while it is open, an in-app notification to each role of
  ``targets.alert_roles`` (managers by default), to the lead of the team a team's or an
  agent's target belongs to (``teams[].lead``, the accounts holding the team-lead role
  linked to that agent id: a lead answers for their own team's figures, whichever roles the
  center alerts) and, when ``targets.alert_emails`` names addresses, an e-mail through the
  outbox;
- an open alert the cockpit no longer shows is **cleared** (the figure recovered, or a new
  day began without it): its ``open_key`` is emptied, so the next crossing is a new raise.

An alert still crossed at the next sweep is neither raised nor notified again. Two nodes
sweeping at once both try to open the same key; the unique constraint lets one of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import service as email
from hotline.config.center import CenterConfig
from hotline.config.targets import Targets
from hotline.core.clock import Clock
from hotline.core.errors import Conflict
from hotline.identity import service as identity
from hotline.identity.scope import target_leads
from hotline.live.sweeper import Sweeper, attach_sweeper
from hotline.notifications import service as notifications
from hotline.store.db import reading, writing
from hotline.store.models.reports import RaisedAlert
from hotline.web.cockpit import Alert, build_cockpit, period

log = logging.getLogger(__name__)


@dataclass
class AlertSweep:
    """The alerts one sweep raised and cleared (their keys)."""

    raised: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)


def alert_key(alert: Alert) -> str:
    """What makes two sweeps' alerts the same one: kind, metric, level and id."""
    return f"{alert.kind}:{alert.metric}:{alert.level}:{alert.id or ''}"


def alert_params(alert: Any) -> dict[str, Any]:
    """A cockpit alert (:class:`Alert`, or the API's) as a ``kpi_alert`` notification's
    parameters."""
    return {
        "alert": alert.kind,
        "metric": alert.metric,
        "where": f"{alert.level} {alert.id}" if alert.id else alert.level,
        "day": alert.day.isoformat(),
        "value": f"{alert.value:.4g}",
        "detail": alert.detail,
    }


def sweep_alerts(
    factory: sessionmaker[Session], *, center: CenterConfig | None, now: datetime
) -> AlertSweep:
    """Raise today's new alerts (notifying their audience once) and clear recovered ones."""
    timezone = center.center.timezone if center is not None else "UTC"
    targets = (center.targets if center is not None else None) or Targets()
    teams = {team.id: team.lead for team in center.teams} if center is not None else {}
    agent_teams = {agent.id: agent.team for agent in center.agents} if center is not None else {}
    session = reading(factory(), purpose="alert sweep")
    try:
        first, last = period(None, None, timezone=timezone, now=now)
        cockpit = build_cockpit(
            session=session, center=center, first=first, last=last, timezone=timezone
        )
    finally:
        session.close()
    current = {alert_key(alert): alert for alert in cockpit.alerts}
    done = AlertSweep()
    session = writing(factory())
    try:
        raised = session.scalars(select(RaisedAlert).where(RaisedAlert.open_key.is_not(None)))
        open_keys = set()
        for row in raised:
            if row.open_key in current:
                open_keys.add(row.open_key)
                continue
            done.cleared.append(str(row.open_key))
            row.open_key, row.cleared_at = None, now
        session.flush()
        for key, alert in current.items():
            if key in open_keys:
                continue
            row = RaisedAlert(
                key=key,
                open_key=key,
                kind=alert.kind,
                metric=alert.metric,
                level=alert.level,
                target_id=alert.id,
                value=alert.value,
                detail=alert.detail[:200],
                raised_at=now,
            )
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:  # another node raised it a moment ago
                continue
            params = alert_params(alert)
            addressees = [notifications.Addressee.role(role) for role in targets.alert_roles]
            if "team_lead" not in targets.alert_roles:  # else every lead has it already
                leads = target_leads(alert.level, alert.id, teams=teams, agent_teams=agent_teams)
                addressees += [
                    notifications.Addressee.user(username)
                    for username in identity.team_lead_usernames(session, agent_ids=leads)
                ]
            for addressee in addressees:
                notifications.send(session, to=addressee, kind="kpi_alert", params=params, now=now)
            if targets.alert_emails:
                try:
                    email.queue_notice(
                        session,
                        to=targets.alert_emails,
                        subject=f"Hotline alert: {alert.metric} ({params['where']})",
                        text=(
                            f"{params['day']}: {alert.metric} ({params['where']}) = "
                            f"{params['value']} — {alert.detail}\n"
                        ),
                        kind="alert",
                        author="alert-sweep",
                        now=now,
                    )
                    row.emailed = True
                except Conflict as no_mailbox:  # the in-app notice still goes
                    log.warning("alert %s not e-mailed: %s", key, no_mailbox)
            done.raised.append(key)
        session.commit()
    finally:
        session.close()
    return done


class AlertSweeper(Sweeper):
    """Runs :func:`sweep_alerts` on start and every ``every_s`` seconds."""

    name = "alert sweep"

    def sweep_once(self) -> AlertSweep:
        """Raise and clear the cockpit's alerts; returns what changed."""
        now = datetime.fromtimestamp(self.clock.now(), UTC)
        return sweep_alerts(self.session_factory, center=self.app.state.center, now=now)


def attach_alert_sweeper(
    app: Any, *, every_s: float | None = None, clock: Clock | None = None
) -> AlertSweeper | None:
    """Watch the cockpit's alerts while ``app`` runs: ``app.state.alert_sweeper``;
    ``every_s`` defaults to ``HOTLINE_ALERT_SWEEP_S`` (300 s)."""
    return attach_sweeper(
        app,
        AlertSweeper,
        attribute="alert_sweeper",
        variable="HOTLINE_ALERT_SWEEP_S",
        every_s=every_s,
        clock=clock,
    )
