"""The cockpit's target alerts at every level: the day's figure of the target's own level."""

from __future__ import annotations

from datetime import date

import pytest

from hotline.config.targets import Targets
from hotline.web.cockpit import _target_alerts, period

DAY = date(2026, 3, 10)


def test_each_target_is_judged_by_the_figure_of_its_level() -> None:
    targets = Targets.model_validate(
        {
            "metrics": [
                {"metric": "service_level", "at_least": 0.8},
                {"metric": "service_level", "level": "queue", "id": "vip", "at_least": 0.95},
                {"metric": "service_level", "level": "queue", "id": "repair", "at_least": 0.8},
                {"metric": "aht_s", "level": "team", "id": "t1", "at_most": 400},
                {"metric": "occupancy", "level": "agent", "id": "a1", "at_most": 0.85},
                {"metric": "aht_s", "level": "agent", "id": "a9", "at_most": 1},
                {"metric": "nps", "level": "queue", "id": "vip", "at_least": 30},
            ]
        }
    )
    alerts = _target_alerts(
        targets,
        DAY,
        {"service_level": [0.5, 0.81]},
        [
            {"id": "vip", "figures": {"service_level": 0.9, "nps": None}},
            {"id": "repair", "figures": {"service_level": 0.85}},
        ],
        [{"id": "t1", "figures": {"aht_s": 420.0}}],
        [{"agent": "a1", "service_level": 1.0, "aht_s": 300.0, "fcr": None}],
        {"a1": 0.9},
    )
    assert [(a.metric, a.level, a.id, a.value, a.detail) for a in alerts] == [
        ("service_level", "queue", "vip", 0.9, "target at least 0.95"),
        ("aht_s", "team", "t1", 420.0, "target at most 400"),
        ("occupancy", "agent", "a1", 0.9, "target at most 0.85"),
    ]
    # The center's 81 % today meets its target; an agent with no figures and a queue with no
    # survey answers raise nothing.
    assert all(a.day == DAY and a.kind == "target" for a in alerts)


def test_the_period_defaults_to_30_days_to_today_and_is_checked() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 11 March in Shanghai
    assert period(None, None, timezone="Asia/Shanghai", now=now) == (
        date(2026, 2, 10),
        date(2026, 3, 11),
    )
    for first, last, message in (
        (date(2026, 3, 2), date(2026, 3, 1), "to: the period ends before it starts"),
        (date(2026, 1, 1), date(2026, 6, 1), "to: a period covers at most 92 days"),
        (None, date(9999, 1, 1), "to: give a date from"),
    ):
        with pytest.raises(ValueError, match=f"^{message}"):
            period(first, last, timezone="UTC", now=now)
