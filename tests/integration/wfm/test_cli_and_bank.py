"""The wfm commands end to end on files, and the forecaster on the real bank logs.

Bank data: 1999 "Anonymous Bank" call logs (Technion SEE lab; Guedj & Mandelbaum 2000;
Brown et al., JASA 100(469), 2005), read from ../shared/data.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.wfm.calendars import shipped_calendar
from hotline.wfm.files import history_from_records, read_contacts
from hotline.wfm.forecast import backtest, rolling_origins

REPO = Path(__file__).resolve().parents[3]
BANK = REPO.parent / "shared" / "data" / "anonymous-bank"

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, ["wfm", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def contact_file(tmp_path_factory) -> Path:
    """Six weeks of synthetic contact records in the METRICS.md interchange format."""
    rng = np.random.default_rng(5)
    path = tmp_path_factory.mktemp("contacts") / "contacts.csv"
    start = datetime(2026, 1, 5, tzinfo=UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "contact_id",
                "channel",
                "queue",
                "arrived_at",
                "queued_at",
                "answered_at",
                "agent",
                "talk_s",
                "wrap_s",
                "outcome",
            ]
        )
        n = 0
        for day in range(42):
            weekday = (start + timedelta(days=day)).weekday()
            if weekday == 6:
                continue
            for hour in range(8, 20):
                for _ in range(rng.poisson(12 if weekday < 5 else 5)):
                    n += 1
                    t = start + timedelta(days=day, hours=hour, seconds=int(rng.uniform(0, 3600)))
                    writer.writerow(
                        [
                            f"c{n}",
                            "voice",
                            "sales",
                            t.isoformat(),
                            t.isoformat(),
                            (t + timedelta(seconds=10)).isoformat(),
                            "a1",
                            int(rng.exponential(200)),
                            30,
                            "answered",
                        ]
                    )
    return path


def test_erlang_command_prints_the_staffing_answer():
    out = json.loads(
        invoke(
            "erlang",
            "--calls",
            "1000",
            "--aht",
            "180",
            "--interval",
            "30m",
            "--target",
            "80/20",
            "--patience",
            "120",
            "--format",
            "json",
        )
    )
    assert out["model"] == "erlang_a"
    assert out["load_erlangs"] == 100.0
    assert out["service_level"] >= 0.8
    table = invoke("erlang", "--calls", "1000", "--aht", "180", "--target", "80/20")
    assert "agents on the phones" in table and "107" in table


def test_forecast_staff_and_backtest_commands(contact_file, tmp_path):
    text = invoke(
        "forecast",
        "--contacts",
        str(contact_file),
        "--horizon",
        "7d",
        "--interval",
        "60m",
        "--format",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 7 * 24
    assert set(rows[0]) >= {"interval_start", "offered", "aht_s", "offered_low", "offered_high"}
    ten_am = next(r for r in rows if r["interval_start"].startswith("2026-02-16T10:00"))
    assert 8 < float(ten_am["offered"]) < 16  # a Monday: ~12 an hour
    assert float(ten_am["offered_low"]) <= float(ten_am["offered"]) <= float(ten_am["offered_high"])
    assert 180 < float(ten_am["aht_s"]) < 280  # exponential(200) talk + 30 s wrap-up
    forecast_csv = tmp_path / "forecast.csv"
    forecast_csv.write_text(text)

    staff = list(
        csv.DictReader(
            io.StringIO(
                invoke(
                    "staff",
                    "--forecast",
                    str(forecast_csv),
                    "--interval",
                    "60m",
                    "--target",
                    "80/20",
                    "--shrinkage",
                    "0.3",
                )
            )
        )
    )
    busy = next(r for r in staff if r["interval_start"].startswith("2026-02-16T10:00"))
    assert int(busy["agents"]) >= 1
    assert int(busy["scheduled_heads"]) >= int(busy["agents"])
    night = next(r for r in staff if r["interval_start"].startswith("2026-02-16T03:00"))
    assert int(night["agents"]) == 0

    report = json.loads(
        invoke(
            "backtest",
            "--contacts",
            str(contact_file),
            "--horizon",
            "7d",
            "--interval",
            "60m",
            "--format",
            "json",
            "--step",
            "2d",
            "--min-training",
            "21d",
        )
    )
    overall = report[0]
    assert overall["horizon_day"] == "all"
    assert overall["hotline_wape"] < overall["seasonal_naive_wape"]


def test_schedule_command_writes_roster_and_chart(tmp_path):
    requirements = tmp_path / "staff.csv"
    with requirements.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["interval_start", "agents"])
        for day in range(7):
            for slot in range(48):
                moment = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(days=day, minutes=30 * slot)
                writer.writerow([moment.isoformat(), 3 if 16 <= slot < 40 and day < 5 else 0])
    setup = tmp_path / "setup.yaml"
    agents = "\n".join(f"  - {{id: a{i}, hourly_cost: 20}}" for i in range(8))
    setup.write_text(
        "rules: {min_rest_hours: 11, min_days_off: 2}\n"
        "templates:\n"
        "  - {name: early, start: '08:00', length: 6h,"
        " breaks: [{length: 30m, earliest: 2h, latest: 4h, paid: false}]}\n"
        "  - {name: late, start: '14:00', length: 6h}\n"
        f"agents:\n{agents}\n"
    )
    roster, chart = tmp_path / "roster.xlsx", tmp_path / "coverage.png"
    out = invoke(
        "schedule",
        "--requirements",
        str(requirements),
        "--setup",
        str(setup),
        "--time-limit",
        "10",
        "--out",
        str(roster),
        "--chart",
        str(chart),
    )
    assert "OPTIMAL" in out or "FEASIBLE" in out
    book = load_workbook(roster)
    rows = list(book["schedule"].iter_rows(values_only=True))
    assert rows[0][:3] == ("agent", "date", "shift")
    assert len(rows) > 1
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bank_logs_forecast_beats_seasonal_naive():
    months = [BANK / f"1999-0{m}.txt.gz" for m in (1, 2, 3, 4)]
    from hotline.metrics.bankdata import BANK_TIMEZONE, read_bank_records

    records = read_bank_records(months)
    history = history_from_records(records, interval_s=1800, timezone=BANK_TIMEZONE)
    assert history.first_day == date(1999, 1, 1)
    origins = rolling_origins(history, horizon_days=14, step_days=4)
    rows = backtest(
        history, horizon_days=14, origins=origins, calendar=shipped_calendar("israel-1999")
    )
    overall = {r.method: r for r in rows if r.horizon_day == 0}
    assert overall["hotline"].wape < 0.85 * overall["seasonal_naive"].wape
    assert abs(overall["hotline"].bias) < 0.1
    # Per origin (issue 21's goal): at least 15 % better than last week at ≥ 80 % of the
    # origins, and the 80 % band covering 75–85 % of the scored intervals.
    from hotline.wfm.accuracy import naive_scale, score_origin, share_beating, summarise
    from hotline.wfm.forecast import forecast, seasonal_naive, staffed_mask

    calendar = shipped_calendar("israel-1999")
    scores = {}
    for origin in origins:
        window = history.truncated(origin + 14)
        present = window.offered[origin:].sum(axis=1) > 0
        scored = (staffed_mask(window, origin=origin, days=14) > 0) & present[:, None]
        ours = forecast(history.truncated(origin), days=14, calendar=calendar)
        scale = naive_scale(history.offered, origin=origin, training_weeks=16)
        common = {"origin": origin, "actual": window.offered[origin:], "scored": scored}
        scores[origin] = {
            "hotline": score_origin(
                "hotline", predicted=ours.offered, scale=scale,
                low=ours.offered_low, high=ours.offered_high, **common,
            ),
            "naive": score_origin(
                "naive", predicted=seasonal_naive(history, origin=origin, days=14),
                scale=scale, **common,
            ),
        }  # fmt: skip
    assert share_beating(scores, method="hotline", baseline="naive", by_at_least=0.15) >= 0.8
    coverage = summarise([s["hotline"] for s in scores.values()]).coverage
    assert coverage is not None and 0.75 <= coverage <= 0.85


def test_contact_file_reader_rejects_bad_rows(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("contact_id,arrived_at,outcome\nc1,not-a-time,answered\n")
    from hotline.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        read_contacts([bad], tz="UTC")


ROSTER = (
    "agent,date,shift,skill,start,end,breaks,paid_hours\n"
    "ann,2026-03-02,early,default,08:00,12:30,10:00-10:30,4.0\n"
    "bob,2026-03-02,early,default,08:00,12:30,10:30-11:00,4.0\n"
)


def test_adherence_command_from_a_jsonl_event_log(tmp_path):
    from hotline.core.events import Event, EventKind

    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    base = datetime(2026, 3, 2, 8, tzinfo=UTC).timestamp()

    def st(seq, minutes, agent, value, reason=None):
        data = {"state": value, "reason": reason} if reason else {"state": value}
        return Event(seq, base + minutes * 60, EventKind.AGENT_STATE, agent_id=agent, data=data)

    log = [
        st(1, 0, "ann", "available"), st(2, 120, "ann", "not_ready", "lunch"),
        st(3, 150, "ann", "available"), st(4, 270, "ann", "logged_out"),
        st(5, 20, "bob", "available"), st(6, 150, "bob", "not_ready", "break"),
        st(7, 190, "bob", "available"), st(8, 270, "bob", "logged_out"),
    ]  # fmt: skip
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(e.as_dict()) for e in log) + "\n")
    teams = tmp_path / "teams.csv"
    teams.write_text("agent,team\nann,north\nbob,north\n")
    out = json.loads(invoke("adherence", "--events", str(events), "--roster", str(roster),
                            "--date", "2026-03-02", "--tz", "UTC", "--teams", str(teams),
                            "--format", "json"))  # fmt: skip
    agents = {a["name"]: a for a in out["agents"]}
    assert agents["ann"]["adherence"] == 1.0
    # bob: 20 min late, break 10:30–11:10 instead of 10:30–11:00 → 30 of 270 minutes out
    assert agents["bob"]["adherence"] == pytest.approx(240 / 270, abs=1e-4)
    assert [(e["agent"], e["from"], e["minutes"]) for e in out["exceptions"]] == [
        ("bob", "08:00", 20.0),
        ("bob", "11:00", 10.0),
    ]
    assert out["teams"][0]["name"] == "north"

    # one site's agents only: ann works at hefei, bob at chengdu (through his team)
    center = tmp_path / "center.yaml"
    center.write_text(TWO_SITES)
    args = ["adherence", "--events", str(events), "--roster", str(roster), "--date",
            "2026-03-02", "--tz", "UTC", "--format", "json", "--center", str(center)]  # fmt: skip
    hefei = json.loads(invoke(*args, "--site", "hefei"))
    assert [a["name"] for a in hefei["agents"]] == ["ann"]
    assert hefei["exceptions"] == []
    chengdu = json.loads(invoke(*args, "--site", "chengdu"))
    assert [a["name"] for a in chengdu["agents"]] == ["bob"]
    unknown = runner.invoke(app, ["wfm", *args, "--site", "wuhan"])
    assert unknown.exit_code == 2
    assert "no site 'wuhan' (sites: hefei, chengdu)" in unknown.output


TWO_SITES = """\
center: {name: Two sites}
sites: [{id: hefei}, {id: chengdu}]
queues:
  - {id: sales, site: hefei, target: {service_level: 0.8, threshold_s: 20}}
  - {id: support, site: chengdu, target: {service_level: 0.8, threshold_s: 20}}
teams: [{id: north, site: hefei}, {id: west, site: chengdu}]
agents: [{id: ann, team: north}, {id: bob, team: west}]
"""


def test_forecast_of_one_site_takes_its_queues_contacts(contact_file, tmp_path):
    center = tmp_path / "center.yaml"
    center.write_text(TWO_SITES)
    args = ["forecast", "--contacts", str(contact_file), "--horizon", "1d", "--interval",
            "60m", "--center", str(center)]  # fmt: skip
    # the history is all sales, hefei's queue: hefei's forecast is sales's
    assert invoke(*args, "--site", "hefei") == invoke(*args, "--queue", "sales")
    chengdu = runner.invoke(app, ["wfm", *args, "--site", "chengdu"])
    assert chengdu.exit_code == 1
    assert "no contacts of site chengdu's queues (support)" in chengdu.output


def test_intraday_command(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    forecast_csv = tmp_path / "forecast.csv"
    with forecast_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["interval_start", "offered", "aht_s"])
        for slot in range(48):
            moment = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=30 * slot)
            writer.writerow([moment.isoformat(), 10 if 16 <= slot < 25 else 0, 180])
    contacts = tmp_path / "today.csv"
    with contacts.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["contact_id", "arrived_at", "queued_at", "answered_at", "agent",
                         "talk_s", "outcome"])  # fmt: skip
        for k in range(40):  # 40 calls 08:00–10:00 against 40 forecast: on plan
            t = datetime(2026, 3, 2, 8, tzinfo=UTC) + timedelta(minutes=3 * k)
            writer.writerow([f"c{k}", t.isoformat(), t.isoformat(), t.isoformat(), "ann", 180,
                             "answered"])  # fmt: skip
    out = json.loads(invoke("intraday", "--forecast", str(forecast_csv), "--contacts",
                            str(contacts), "--roster", str(roster), "--now",
                            "2026-03-02T10:00", "--tz", "UTC", "--format", "json"))  # fmt: skip
    by_time = {r["interval_start"]: r for r in out}
    assert by_time["08:00"]["elapsed"] and by_time["08:00"]["actual_offered"] == 10
    assert not by_time["10:00"]["elapsed"]
    assert by_time["10:00"]["reforecast_offered"] == pytest.approx(10.0)
    assert by_time["10:00"]["scheduled_agents"] == 1.0  # ann at lunch
    assert by_time["11:00"]["scheduled_agents"] == 2.0


def test_verify_command_agrees_with_the_formula():
    out = json.loads(invoke("verify", "--calls", "200", "--aht", "120", "--interval", "30m",
                            "--target", "80/20", "--patience", "90", "--replications", "4",
                            "--hours", "3", "--seed", "7", "--format", "json"))  # fmt: skip
    assert out["model"] == "erlang_a"
    for row in out["rows"]:
        tolerance = 3 * row["ci95_half_width"] + (0.02 if row["figure"] != "asa_s" else 1.0)
        assert abs(row["simulated"] - row["formula"]) <= tolerance, row


def test_forecast_by_channel_to_excel(tmp_path):
    rng = np.random.default_rng(9)
    path = tmp_path / "mixed.csv"
    start = datetime(2026, 1, 5, tzinfo=UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["contact_id", "channel", "arrived_at", "queued_at", "outcome",
                         "abandoned_at"])  # fmt: skip
        n = 0
        for day in range(28):
            for hour in range(9, 18):
                for channel, rate in (("voice", 8), ("chat", 3)):
                    for _ in range(rng.poisson(rate)):
                        n += 1
                        t = start + timedelta(days=day, hours=hour, minutes=int(rng.integers(60)))
                        writer.writerow([f"c{n}", channel, t.isoformat(), t.isoformat(),
                                         "abandoned", t.isoformat()])  # fmt: skip
    out = tmp_path / "forecast.xlsx"
    invoke("forecast", "--contacts", str(path), "--horizon", "7d", "--interval", "60m",
           "--by-channel", "--out", str(out))  # fmt: skip
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert header[:3] == ("interval_start", "channel", "offered")
    assert len(data) == 2 * 7 * 24
    totals: dict[str, float] = {}
    for row in data:
        totals[row[1]] = totals.get(row[1], 0.0) + row[2]
    assert totals["voice"] == pytest.approx(7 * 9 * 8, rel=0.15)
    assert totals["chat"] == pytest.approx(7 * 9 * 3, rel=0.2)


def test_verify_plan_simulates_the_roster_against_the_forecast(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    forecast_csv = tmp_path / "forecast.csv"
    with forecast_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["interval_start", "offered", "aht_s"])
        for slot in range(48):
            moment = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=30 * slot)
            writer.writerow([moment.isoformat(), 12 if 16 <= slot < 25 else 0, 150])
    out = json.loads(invoke("verify-plan", "--forecast", str(forecast_csv), "--roster",
                            str(roster), "--date", "2026-03-02", "--tz", "UTC",
                            "--replications", "20", "--format", "json"))  # fmt: skip
    by_time = {r["interval_start"]: r for r in out}
    assert by_time["08:00"]["agents"] == 2
    assert by_time["10:00"]["agents"] == 1  # ann at lunch
    # one agent, 1 Erlang offered: the queue explodes, in the formula and in the simulation
    assert by_time["10:00"]["erlang_service_level"] == 0.0
    assert by_time["10:00"]["simulated_service_level"] < 0.5
    for steady in ("08:30", "09:00", "09:30"):
        row = by_time[steady]
        assert row["erlang_service_level"] == pytest.approx(0.708, abs=0.001)
        gap = abs(row["simulated_service_level"] - row["erlang_service_level"])
        assert gap <= 3 * row["ci95_half_width"] + 0.05, row


def test_forecast_by_queue_adds_up_to_the_total_and_reads_a_shipped_calendar(tmp_path):
    rng = np.random.default_rng(9)
    path = tmp_path / "two-queues.csv"
    start = datetime(2026, 1, 5, tzinfo=UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["contact_id", "queue", "arrived_at", "queued_at", "abandoned_at", "outcome"]
        )
        n = 0
        for day in range(35):
            for hour in range(8, 18):
                for queue, rate in (("sales", 8), ("care", 3)):
                    for _ in range(rng.poisson(rate)):
                        n += 1
                        t = start + timedelta(
                            days=day, hours=hour, seconds=int(rng.uniform(0, 3600))
                        )
                        stamp = t.isoformat()
                        writer.writerow([f"c{n}", queue, stamp, stamp, stamp, "abandoned"])
    by_queue = list(
        csv.DictReader(
            io.StringIO(
                invoke(
                    "forecast", "--contacts", str(path), "--horizon", "7d", "--interval", "60m",
                    "--by-queue", "--calendar", "china-2025-2026",
                )
            )
        )
    )  # fmt: skip
    total = list(
        csv.DictReader(
            io.StringIO(invoke("forecast", "--contacts", str(path), "--horizon", "7d",
                               "--interval", "60m", "--calendar", "china-2025-2026"))
        )
    )  # fmt: skip
    assert {r["queue"] for r in by_queue} == {"sales", "care"}
    assert len(by_queue) == 2 * len(total) == 2 * 7 * 24
    summed: dict[str, float] = {}
    for row in by_queue:
        summed[row["interval_start"]] = summed.get(row["interval_start"], 0.0) + float(
            row["offered"]
        )
    for row in total:
        assert summed[row["interval_start"]] == pytest.approx(float(row["offered"]), abs=2e-3)
    sales = sum(float(r["offered"]) for r in by_queue if r["queue"] == "sales")
    assert sales / sum(summed.values()) == pytest.approx(8 / 11, abs=0.04)
    bad = runner.invoke(app, ["wfm", "forecast", "--contacts", str(path), "--calendar", "mars"])
    assert bad.exit_code == 2 and "shipped: china-2025-2026, israel-1999" in bad.stderr
