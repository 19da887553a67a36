"""``hotline wfm verify-multiskill`` end to end: files in, the real routing engine simulated.

The pooling center has two queues and two teams whose agents all hold both skills: pooled,
the 8 Erlangs of traffic need far fewer agents than two separate Erlang C answers (the
classic economy of scale; Erlang C for 8 Erlangs at 80/20 with a 180 s AHT needs 11 agents,
for 4 Erlangs 7).
"""

from __future__ import annotations

import doctest
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.sim import staffing
from hotline.store.models.core import User
from hotline.web.app import create_app

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "src/hotline/config/samples/appliance_center.yaml"

POOLING_CENTER = """\
center: {name: Pooling test center, timezone: UTC}
skills:
  - {id: sales}
  - {id: service}
queues:
  - id: sales
    requirements: ['sales >= 1']
    target: {service_level: 0.8, threshold_s: 20}
  - id: service
    requirements: ['service >= 1']
    target: {service_level: 0.8, threshold_s: 20}
teams:
  - {id: t-sales}
  - {id: t-service}
agents:
  - {id: s1, team: t-sales, skills: {sales: 4, service: 2}}
  - {id: s2, team: t-sales, skills: {sales: 4, service: 2}}
  - {id: s3, team: t-sales, skills: {sales: 4, service: 2}}
  - {id: v1, team: t-service, skills: {service: 4, sales: 2}}
  - {id: v2, team: t-service, skills: {service: 4, sales: 2}}
  - {id: v3, team: t-service, skills: {service: 4, sales: 2}}
"""
POOLING_VOLUMES = "queue,offered,aht_s\nsales,40,180\nservice,40,180\n"
#: Short but steady: 10 minutes of warm-up, two hours measured, five replications.
QUICK = ("--interval", "30m", "--replications", "5", "--seed", "3", "--warmup", "10m",
         "--measure", "2h")  # fmt: skip

runner = CliRunner()


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["wfm", "verify-multiskill", *args])
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.output


@pytest.fixture()
def pooling(tmp_path: Path) -> tuple[str, str]:
    center = tmp_path / "center.yaml"
    center.write_text(POOLING_CENTER, encoding="utf-8")
    volumes = tmp_path / "volumes.csv"
    volumes.write_text(POOLING_VOLUMES, encoding="utf-8")
    return str(center), str(volumes)


def test_docstring_examples():
    failures, tried = doctest.testmod(staffing, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0
    assert failures == 0


def test_pooling_beats_each_queues_erlang_answer_with_the_same_heads(pooling):
    center, volumes = pooling
    out = json.loads(invoke("--center", center, "--volumes", volumes, *QUICK, "--format", "json"))
    (interval,) = out["intervals"]
    assert interval["erlang_plan"] == {"t-sales": 7, "t-service": 7}
    assert interval["plan"] == interval["erlang_plan"]  # no --plan: Erlang's answer is checked
    assert interval["meets_targets"] is True
    for row in interval["queues"]:
        assert row["home_agents"] == row["erlang_agents"] == 7
        assert 0.85 < row["erlang_service_level"] < 0.95
        # Pooled, the same heads do clearly better than each queue alone would.
        assert row["service_level"] - row["service_level_ci95"] > row["erlang_service_level"]
        assert row["asa_s"] < 5
        assert 90 < row["simulated_offered"] < 230  # 40 per half hour, two hours measured
        assert 0.3 < row["occupancy"] < 0.8  # 8 Erlangs on 14 agents
    assert interval["center_occupancy"]["mean"] == pytest.approx(8 / 14, abs=0.1)


def test_search_meets_every_target_with_fewer_agents_than_erlang_per_queue(pooling):
    center, volumes = pooling
    out = json.loads(invoke("--center", center, "--volumes", volumes, *QUICK, "--search",
                            "--rule", "lower", "--format", "json"))  # fmt: skip
    (interval,) = out["intervals"]
    search = interval["search"]
    assert search["status"] == "met"
    assert interval["meets_targets"] is True
    assert interval["agents"] < interval["erlang_agents"] == 14
    assert interval["agents"] > 8  # 8 Erlangs of work cannot be carried by 8 agents
    for row in interval["queues"]:
        # The lower rule: the whole 95 % interval clears the target.
        assert row["service_level"] - row["service_level_ci95"] >= 0.8
    assert search["steps"][0]["phase"] == "start" and search["steps"][0]["agents"] == 14
    assert search["evaluations"] <= 40
    # The last trim tried for each team failed: one agent fewer anywhere misses a target.
    assert sum(1 for s in search["steps"] if s["phase"] == "trim" and not s["kept"]) == 2


def test_a_plan_file_too_small_is_shown_missing_its_targets(pooling, tmp_path):
    center, volumes = pooling
    plan = tmp_path / "plan.csv"
    plan.write_text("team,agents\nt-sales,5\nt-service,4\n", encoding="utf-8")
    out = json.loads(invoke("--center", center, "--volumes", volumes, "--plan", str(plan),
                            *QUICK, "--format", "json"))  # fmt: skip
    (interval,) = out["intervals"]
    assert interval["plan"] == {"t-sales": 5, "t-service": 4}
    assert interval["meets_targets"] is False
    assert not any(row["meets_target"] for row in interval["queues"])
    by_queue = {row["queue"]: row for row in interval["queues"]}
    assert by_queue["service"]["erlang_service_level"] < 0.2  # 4 Erlangs on 4 agents alone
    assert by_queue["service"]["asa_s"] > 20


def test_table_and_csv_output(pooling, tmp_path):
    center, _ = pooling
    forecast = tmp_path / "forecast.csv"
    forecast.write_text(
        "interval_start,queue,offered,aht_s,patience_s\n"
        "2026-03-02T09:00,sales,40,180,120\n2026-03-02T09:00,service,10,180,120\n"
        "2026-03-02T09:30,sales,10,180,120\n2026-03-02T09:30,service,40,180,120\n",
        encoding="utf-8",
    )
    table = invoke("--center", center, "--volumes", str(forecast), "--interval", "30m",
                   "--replications", "3", "--measure", "30m", "--warmup", "5m")  # fmt: skip
    assert "Multi-skill plan 2026-03-02T09:00" in table
    assert "Multi-skill plan 2026-03-02T09:30" in table
    assert "center occupancy" in table
    text = invoke("--center", center, "--volumes", str(forecast), "--interval", "30m",
                  "--replications", "3", "--measure", "30m", "--format", "csv")  # fmt: skip
    lines = text.strip().splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["interval_start", "queue"]
    assert {"service_level", "service_level_ci95", "asa_s", "abandon_rate", "occupancy",
            "erlang_service_level", "erlang_agents", "target"} <= set(header)  # fmt: skip
    assert len(lines) == 5
    # Patience given: Erlang A, so the Erlang plan follows each interval's busier queue.
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    assert rows[0]["home_team"] == "t-sales" and int(rows[0]["erlang_agents"]) > int(
        rows[1]["erlang_agents"]
    )


def test_bad_inputs_are_reported(pooling, tmp_path):
    center, volumes = pooling
    plan = tmp_path / "plan.csv"
    plan.write_text("team,agents\nt-nobody,3\n", encoding="utf-8")
    out = invoke("--center", center, "--volumes", volumes, "--plan", str(plan), code=1)
    assert "t-nobody" in out
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("queue,offered,aht_s\nbilling,10,100\n", encoding="utf-8")
    assert "billing" in invoke("--center", center, "--volumes", str(wrong), code=1)
    assert "replications" in invoke(
        "--center", center, "--volumes", volumes, "--replications", "1", code=2
    )


def test_on_the_sample_center_overlap_starves_the_vip_line(tmp_path):
    """The VIP team also qualifies for repair from the first second, so its Erlang answer
    (99 % in 5 s on its own) falls well short once repair calls share its agents."""
    volumes = tmp_path / "volumes.csv"
    volumes.write_text(
        "queue,offered,aht_s,patience_s\nvip,20,300,120\nrepair,120,300,180\n", encoding="utf-8"
    )
    out = json.loads(invoke("--center", str(SAMPLE), "--volumes", str(volumes), "--replications",
                            "8", "--measure", "1h", "--seed", "1", "--format", "json"))  # fmt: skip
    (interval,) = out["intervals"]
    vip = next(row for row in interval["queues"] if row["queue"] == "vip")
    assert vip["home_team"] == "t-vip" and vip["erlang_service_level"] >= 0.99
    assert vip["service_level"] + vip["service_level_ci95"] < 0.99


# --------------------------------------------------------------------------- the API

PASSWORD = "correct-horse-9"


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    hashed = hash_password(PASSWORD)
    for role in ("wfm", "agent", "manager"):
        db_session.add(User(username=role, display_name=role, password_hash=hashed,
                            roles=[role], agent_id=None, language="en", active=True))  # fmt: skip
    db_session.commit()
    web = create_app(
        settings=Settings(home=tmp_path, secret_key="test-secret"),
        session_factory=session_factory,
        center=load_center(SAMPLE),
    )
    with TestClient(web) as test_client:
        yield test_client


def headers(client: TestClient, role: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": role, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_api_searches_a_posted_center_like_the_cli(client, pooling):
    body = {
        "center_yaml": POOLING_CENTER,
        "volumes": [{"queue": "sales", "offered": 40, "aht_s": 180},
                    {"queue": "service", "offered": 40, "aht_s": 180}],
        "interval_s": 1800, "search": True, "rule": "lower", "replications": 5, "seed": 3,
        "warmup_s": 600, "measure_s": 7200,
    }  # fmt: skip
    response = client.post("/api/wfm/verify-multiskill", json=body, headers=headers(client, "wfm"))
    assert response.status_code == 200, response.text
    (interval,) = response.json()["intervals"]
    assert interval["search"]["status"] == "met"
    assert 8 < interval["agents"] < interval["erlang_agents"] == 14
    assert interval["rule"] == "lower"
    # The same inputs through the command give the same plan (same seed, same engine).
    center, volumes = pooling
    cli = json.loads(invoke("--center", center, "--volumes", volumes, *QUICK, "--search",
                            "--rule", "lower", "--format", "json"))  # fmt: skip
    assert cli["intervals"][0]["plan"] == interval["plan"]


def test_api_checks_a_plan_on_the_running_center_and_guards_roles(client):
    body = {
        "volumes": [{"queue": "vip", "offered": 10, "aht_s": 300, "patience_s": 120},
                    {"queue": "repair", "offered": 40, "aht_s": 300}],
        "plan": {"t-vip": 6, "t-repair": 8}, "replications": 2, "measure_s": 1800,
    }  # fmt: skip
    assert client.post("/api/wfm/verify-multiskill", json=body,
                       headers=headers(client, "agent")).status_code == 403  # fmt: skip
    response = client.post(
        "/api/wfm/verify-multiskill", json=body, headers=headers(client, "manager")
    )
    assert response.status_code == 200, response.text
    (interval,) = response.json()["intervals"]
    assert interval["plan"]["t-vip"] == 6 and interval["plan"]["t-repair"] == 8
    assert [row["queue"] for row in interval["queues"]] == ["vip", "repair"]
    assert "search" not in interval
    bad = client.post("/api/wfm/verify-multiskill", headers=headers(client, "wfm"),
                      json={**body, "plan": {"t-nobody": 2}})  # fmt: skip
    assert bad.status_code == 422 and "t-nobody" in bad.text
    broken = client.post("/api/wfm/verify-multiskill", headers=headers(client, "wfm"),
                         json={**body, "center_yaml": "center: {}"})  # fmt: skip
    assert broken.status_code == 422
