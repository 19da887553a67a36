"""The center file's IVR section: flows checked against the center's queues and calendars."""

from __future__ import annotations

from datetime import datetime

from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.validate import check_text, load_center
from hotline.ivr.interpreter import CallStarted, Interpreter

CENTER = """\
center: {name: IVR test}
calendars:
  - id: hotline
    hours: {mon: ['08:00-18:00']}
    holidays: [{date: 2026-03-09, name: closed day}]
skills: [{id: repair}]
queues:
  - {id: repair, requirements: ['repair >= 1'], target: {service_level: 0.8, threshold_s: 20}}
  - id: mail
    channel: email
    requirements: ['repair >= 1']
    target: {service_level: 0.8, threshold_s: 3600}
ivr:
  numbers: {'400': main, '401': missing}
  flows:
    - id: main
      start: hours
      nodes:
        hours: {type: hours, calendar: hotline, open: q, closed: bye}
        q: {type: queue, queue: repair}
        bye: {type: hangup, outcome: closed}
    - id: main
      start: q
      nodes:
        q: {type: queue, queue: mail}
        h: {type: hours, calendar: holidays, open: q, closed: q}
"""


def test_ivr_flows_are_checked_against_queues_calendars_and_numbers() -> None:
    result = check_text(CENTER, file="center.yaml")
    rules = [str(p) for p in result.errors]
    assert "center.yaml:22: ivr.flows[1].id: duplicate IVR flow 'main'" in rules
    assert any(
        r.startswith("center.yaml:25: ivr.flows[1].nodes.q.queue: queue 'mail' is not a voice")
        for r in rules
    )
    assert any(
        r.startswith("center.yaml:26: ivr.flows[1].nodes.h.calendar: unknown calendar 'holidays'")
        for r in rules
    )
    assert any(
        r.startswith("center.yaml:14: ivr.numbers.401: unknown IVR flow 'missing'") for r in rules
    )
    assert len(rules) == 4, rules


def test_an_hours_node_needs_exactly_one_of_hours_or_calendar() -> None:
    text = CENTER.replace(
        "{type: hours, calendar: hotline, open: q, closed: bye}",
        "{type: hours, open: q, closed: bye}",
    )
    result = check_text(text, file="center.yaml")
    assert any("exactly one of 'hours' or 'calendar'" in str(p) for p in result.errors)


def test_calendar_hours_and_holidays_reach_the_ivr() -> None:
    text = CENTER.split("    - id: main\n      start: q", maxsplit=1)[0].replace(
        "'401': missing", "'401': main"
    )
    result = check_text(text, file="center.yaml")
    assert result.ok, [str(p) for p in result.errors]
    assert result.config is not None
    flow = result.config.ivr_flows()["main"]
    interpreter = Interpreter(flow)
    monday_open = datetime(2026, 3, 2, 9, 0)
    holiday = datetime(2026, 3, 9, 9, 0)  # a Monday, closed all day
    queued = interpreter.start(CallStarted(at=0.0, local_time=monday_open))[1]
    closed = interpreter.start(CallStarted(at=0.0, local_time=holiday))[1]
    assert "Enqueue" in [type(e).__name__ for e in queued]
    assert "Hangup" in [type(e).__name__ for e in closed]


def test_the_sample_center_carries_the_hotline_flow() -> None:
    center = load_center(SAMPLE_CENTER)
    assert center.ivr is not None
    flow = center.ivr_flows()["appliance-hotline"]
    queues = {n.queue for n in flow.nodes.values() if n.type == "queue"}
    assert queues == {"repair", "installation", "complaints"}
