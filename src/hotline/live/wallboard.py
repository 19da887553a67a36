"""The wallboard model (实时大屏): queues and agents right now, and today's figures so far.

Per queue it shows contacts waiting now and the longest current wait (from the routing
engine), service level today and in the current interval, ASA and abandons (from the contact
event log, computed by :mod:`hotline.metrics` exactly as reports compute them, with the
queue's own threshold and headline variant), and its agents by state. Per agent it shows
state, reason code, time in state and the contact in hand. Alerts name what a supervisor
should look at: a service level under target, a caller waiting past the threshold, callers
with nobody to answer them. The site map has a tile per site of the center file: its agents
by state (an agent's own site, else its team's), the contacts waiting in its queues and the
longest wait, and today's service level of its contacts (a contact is its queue's site's, each
judged under its queue's headline variant).

Figures are recomputed only when something changed (and at most once per ``refresh_s``, by
default as often as the driver draws the board, at most four times a second): only the contacts that
changed are folded again, the day's records are summed by the metrics engine in milliseconds,
and an unchanged board costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from hotline.config.center import CenterConfig
from hotline.core.events import Event, EventKind
from hotline.live.log_floor import FloorView
from hotline.metrics.compute import queue_figures, records_to_frame, with_sites
from hotline.metrics.definitions import MetricSettings, QueueThresholds, ServiceLevelVariant
from hotline.metrics.records import ContactRecord, fold_events
from hotline.routing.model import AgentState

#: The center file's short variant names → the METRICS.md figure ids.
VARIANTS: dict[str, ServiceLevelVariant] = {
    "service_level": "service_level",
    "answered": "service_level_answered",
    "sl2": "service_level_sl2",
    "offered": "service_level_offered",
}

#: Agent states shown as columns, most engaged last; logged-out agents are not counted.
SHOWN_STATES = (
    AgentState.AVAILABLE,
    AgentState.RESERVED,
    AgentState.ON_CONTACT,
    AgentState.WRAP_UP,
    AgentState.NOT_READY,
)

#: A service level within this many points of its target is shown amber, not green.
NEAR_TARGET = 0.05


def metric_settings(center: CenterConfig) -> MetricSettings:
    """Each queue's service-level threshold, short-abandon threshold and headline variant.

    >>> from pathlib import Path
    >>> from hotline.config.validate import load_center
    >>> sample = Path(__file__).parent.parent / "config/samples/appliance_center.yaml"
    >>> metric_settings(load_center(sample)).for_queue("vip").service_level_s
    5.0
    """
    return MetricSettings(
        per_queue={
            q.id: QueueThresholds(
                service_level_s=q.target.threshold_s,
                short_abandon_s=q.target.short_abandon_s,
                variant=VARIANTS[q.target.variant],
            )
            for q in center.queues
        }
    )


@dataclass
class AgentPresence:
    """What the wallboard remembers of one agent between snapshots."""

    state: str = AgentState.LOGGED_OUT.value
    reason: str | None = None
    since: float = 0.0


class Wallboard:
    """Keeps today's contact events and agent states; builds snapshots for screens.

    >>> from pathlib import Path
    >>> from hotline.config.validate import load_center
    >>> from hotline.routing.engine import RoutingEngine
    >>> from hotline.routing.from_center import routing_config_from_center
    >>> sample = Path(__file__).parent.parent / "config/samples/appliance_center.yaml"
    >>> center = load_center(sample)
    >>> board = Wallboard(center)
    >>> engine = RoutingEngine(routing_config_from_center(center))
    >>> board.snapshot(engine, 0.0)["queues"][0]["waiting"]
    0
    """

    def __init__(self, center: CenterConfig, *, interval_s: int = 1800, refresh_s: float = 0.0):
        if interval_s not in (900, 1800, 3600):
            raise ValueError("the wallboard interval must be 15, 30 or 60 minutes")
        self.center = center
        self.tz = ZoneInfo(center.center.timezone)
        self.interval_s = interval_s
        self.refresh_s = refresh_s
        self.settings = metric_settings(center)
        self.agents: dict[str, AgentPresence] = {}
        self._names = {a.id: a.name for a in center.agents}
        self._teams = {a.id: a.team for a in center.agents}
        self._queue_sites = center.queue_sites()
        self._agent_sites = center.agent_sites()
        self._events: dict[str, list[Event]] = {}
        self._records: dict[str, ContactRecord] = {}
        self._changed: set[str] = set()
        self._figures: dict[str, dict[str, dict[str, Any]]] = {
            "today": {},
            "interval": {},
            "sites": {},
        }
        self._figures_at = float("-inf")
        self._figures_key: tuple[str, str] | None = None
        self._day: str | None = None

    def reconfigure(self, center: CenterConfig) -> None:
        """Use ``center``'s queues, targets and agents from now on; today's figures carry on."""
        self.center = center
        self.settings = metric_settings(center)
        self._names = {a.id: a.name for a in center.agents}
        self._teams = {a.id: a.team for a in center.agents}
        self._queue_sites = center.queue_sites()
        self._agent_sites = center.agent_sites()
        self._figures_at = float("-inf")

    # ------------------------------------------------------------------ feeding

    def record(self, events: Iterable[Event]) -> None:
        """Take the events the engine just emitted."""
        for event in events:
            if event.kind is EventKind.AGENT_STATE and event.agent_id:
                presence = self.agents.setdefault(event.agent_id, AgentPresence())
                presence.state = str(event.data.get("state", presence.state))
                presence.reason = event.data.get("reason")
                presence.since = event.at
            if event.contact_id is not None:
                self._events.setdefault(event.contact_id, []).append(event)
                self._changed.add(event.contact_id)

    def start_day(self, now: float) -> None:
        """Forget contacts that finished before the local day of ``now`` began."""
        midnight = datetime.fromtimestamp(now, self.tz).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        cutoff = midnight.timestamp()
        for contact_id in list(self._events):
            events = self._events[contact_id]
            finished = any(e.kind is EventKind.FINISHED for e in events)
            if finished and events[-1].at < cutoff:
                del self._events[contact_id]
                self._records.pop(contact_id, None)
                self._changed.discard(contact_id)
        self._figures_at = float("-inf")

    # ------------------------------------------------------------------ figures

    def _refresh_figures(self, now: float) -> None:
        local = datetime.fromtimestamp(now, self.tz)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        minutes = self.interval_s // 60
        interval_start = local.replace(
            minute=local.minute - local.minute % minutes, second=0, microsecond=0
        )
        key = (day_start.isoformat(), interval_start.isoformat())
        if key == self._figures_key and (
            not self._changed or now - self._figures_at < self.refresh_s
        ):
            return
        if self._changed:
            changed = [e for cid in self._changed for e in self._events.get(cid, ())]
            for record in fold_events(changed, teams=self._teams, include_unfinished=True):
                self._records[record.contact_id] = record
            self._changed.clear()
        # Only contacts queued since local midnight count toward today (METRICS.md groups by
        # the interval in which a contact queued).
        since = day_start.timestamp()
        records = [
            r for r in self._records.values() if r.queued_at is not None and r.queued_at >= since
        ]
        frame = with_sites(
            records_to_frame(records), queues=self._queue_sites, agents=self._agent_sites
        )
        interval = f"{minutes}m" if minutes < 60 else "1h"
        today = queue_figures(
            frame, interval="day", by=("queue",), settings=self.settings, timezone=self.tz.key
        )
        current = queue_figures(
            frame, interval=interval, by=("queue",), settings=self.settings, timezone=self.tz.key
        )
        sites = queue_figures(
            frame, interval="day", by=("site",), settings=self.settings, timezone=self.tz.key
        )
        self._figures = {
            "today": _by_queue(today.table, day_start),
            "interval": _by_queue(current.table, interval_start),
            "sites": _by_queue(sites.table, day_start, key="site"),
        }
        self._figures_at = now
        self._figures_key = key

    # ------------------------------------------------------------------ snapshot

    def snapshot(self, engine: FloorView, now: float) -> dict[str, Any]:
        """The whole board as a JSON-ready dict: ``engine`` is the routing engine, advanced
        to now, or on a web node the log's fold (:class:`hotline.live.log_floor.LogFloor`)."""
        self._refresh_figures(now)
        queues = [self._queue_tile(engine, queue.id, now) for queue in self.center.queues]
        agents = []
        for agent in self.center.agents:
            presence = self.agents.get(agent.id, AgentPresence())
            holding = engine.agent_contacts(agent.id)
            contact_id = next(iter(holding), None)
            agents.append(
                {
                    "id": agent.id,
                    "name": agent.name,
                    "team": agent.team,
                    "state": engine.agent_state(agent.id).value,
                    "reason": engine.agent_reason(agent.id),
                    "since": presence.since,
                    "contact": contact_id,
                    "contact_stage": holding.get(contact_id) if contact_id else None,
                    "contact_queue": engine.contact_queue(contact_id) if contact_id else None,
                    "contacts": len(holding),
                }
            )
        alerts = [alert for tile in queues for alert in tile.pop("_alerts")]
        local = datetime.fromtimestamp(now, self.tz)
        return {
            "type": "wallboard",
            "now": now,
            "local_time": local.isoformat(timespec="seconds"),
            "interval_minutes": self.interval_s // 60,
            "interval_start": (
                local.replace(
                    minute=local.minute - local.minute % (self.interval_s // 60),
                    second=0,
                    microsecond=0,
                ).isoformat(timespec="minutes")
            ),
            "queues": queues,
            "agents": agents,
            "sites": self._site_tiles(queues, agents),
            "totals": _totals(queues, agents),
            "alerts": alerts,
        }

    def _site_tiles(
        self, queues: list[dict[str, Any]], agents: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """A tile per site: agents by state, contacts waiting, longest wait, SL today."""
        tiles = []
        for site in self.center.sites:
            states = dict.fromkeys((s.value for s in SHOWN_STATES), 0)
            for agent in agents:
                if self._agent_sites.get(agent["id"]) == site.id and agent["state"] in states:
                    states[agent["state"]] += 1
            mine = [q for q in queues if self._queue_sites.get(q["id"]) == site.id]
            today = self._figures["sites"].get(site.id, {})
            status = "idle"
            for queue in mine:
                status = _worse(status, queue["status"])
            tiles.append(
                {
                    "id": site.id,
                    "name": site.name or site.id,
                    "queues": [q["id"] for q in mine],
                    "agents_by_state": states,
                    "agents_logged_in": sum(states.values()),
                    "waiting": sum(q["waiting"] for q in mine),
                    "longest_wait_s": max((q["longest_wait_s"] for q in mine), default=0.0),
                    "today": {
                        "offered": today.get("offered", 0),
                        "answered": today.get("answered", 0),
                        "service_level": today.get("reported_service_level"),
                    },
                    "status": status,
                }
            )
        return tiles

    def _queue_tile(self, engine: FloorView, queue_id: str, now: float) -> dict[str, Any]:
        queue = self.center.queue(queue_id)
        thresholds = self.settings.for_queue(queue_id)
        snap = engine.queue_snapshot(queue_id)
        today = self._figures["today"].get(queue_id, {})
        interval = self._figures["interval"].get(queue_id, {})
        variant = thresholds.variant
        by_state = dict.fromkeys((s.value for s in SHOWN_STATES), 0)
        for agent_id in engine.queue_members(queue_id):
            state = engine.agent_state(agent_id).value
            if state in by_state:
                by_state[state] += 1
        target = queue.target.service_level
        sl_interval = interval.get(variant)
        sl_today = today.get(variant)
        status = _status(sl_interval if sl_interval is not None else sl_today, target)
        alerts: list[dict[str, Any]] = []
        if sl_interval is not None and sl_interval < target:
            alerts.append(
                {"level": "bad", "queue": queue_id, "code": "sl_below_target",
                 "value": sl_interval, "target": target}
            )  # fmt: skip
        if snap.longest_wait_s > thresholds.service_level_s:
            level = "bad" if snap.longest_wait_s > 3 * thresholds.service_level_s else "warn"
            status = _worse(status, level)
            alerts.append(
                {"level": level, "queue": queue_id, "code": "long_wait",
                 "value": snap.longest_wait_s, "target": thresholds.service_level_s}
            )  # fmt: skip
        if snap.waiting > 0 and snap.agents_logged_in == 0:
            status = "bad"
            alerts.append(
                {"level": "bad", "queue": queue_id, "code": "no_agents", "value": snap.waiting,
                 "target": None}
            )  # fmt: skip
        return {
            "id": queue_id,
            "name": queue.name or queue_id,
            "channel": queue.channel,
            "target": {
                "service_level": target,
                "threshold_s": thresholds.service_level_s,
                "short_abandon_s": thresholds.short_abandon_s,
                "variant": variant,
            },
            "waiting": snap.waiting,
            "longest_wait_s": round(snap.longest_wait_s, 1),
            "agents_logged_in": snap.agents_logged_in,
            "agents_available": snap.agents_available,
            "agents_by_state": by_state,
            "today": _figures(today, variant),
            "interval": _figures(interval, variant),
            "status": status,
            "_alerts": alerts,
        }


def _by_queue(
    table: pl.DataFrame, start: datetime, *, key: str = "queue"
) -> dict[str, dict[str, Any]]:
    """Rows of a figures table whose interval starts at ``start``, keyed by ``key``."""
    out: dict[str, dict[str, Any]] = {}
    for row in table.to_dicts():
        began = row["interval_start"]
        if abs(began - start) < timedelta(seconds=1) and row[key] is not None:
            out[str(row[key])] = row
    return out


def _figures(row: dict[str, Any], variant: str) -> dict[str, Any]:
    return {
        "offered": row.get("offered", 0),
        "answered": row.get("answered", 0),
        "abandoned": row.get("abandoned", 0),
        "interrupted": row.get("interrupted", 0),
        "service_level": row.get(variant),
        "asa_s": row.get("asa_s"),
        "abandon_rate": row.get("abandon_rate"),
        "aht_s": row.get("aht_s"),
    }


def _status(service_level: float | None, target: float) -> str:
    if service_level is None:
        return "idle"
    if service_level < target:
        return "bad"
    if service_level < target + NEAR_TARGET and target < 1:
        return "warn"
    return "good"


def _worse(a: str, b: str) -> str:
    order = ("idle", "good", "warn", "bad")
    return a if order.index(a) >= order.index(b) else b


def _totals(queues: list[dict[str, Any]], agents: list[dict[str, Any]]) -> dict[str, Any]:
    states = dict.fromkeys((s.value for s in SHOWN_STATES), 0)
    for agent in agents:
        if agent["state"] in states:
            states[agent["state"]] += 1
    return {
        "waiting": sum(q["waiting"] for q in queues),
        "longest_wait_s": max((q["longest_wait_s"] for q in queues), default=0.0),
        "offered_today": sum(q["today"]["offered"] or 0 for q in queues),
        "answered_today": sum(q["today"]["answered"] or 0 for q in queues),
        "abandoned_today": sum(q["today"]["abandoned"] or 0 for q in queues),
        "agents_by_state": states,
        "agents_logged_in": sum(states.values()),
    }
