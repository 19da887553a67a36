"""``hotline sms``: the gateway from YAML (located errors), a Chinese reminder sent through a
stand-in SMSC on 127.0.0.1 and delivered, a do-not-call number refused, the list."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from tests.integration.channels.test_sms_smpp import REMINDER, StandInSmsc

runner = CliRunner()


def test_a_reminder_from_the_command_line_through_the_smsc(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hotline.cli.sms._now", lambda: datetime(2026, 12, 3, 2, tzinfo=UTC))
    smsc = StandInSmsc()
    try:
        bad = tmp_path / "bad.yaml"
        bad.write_text(
            f"host: 127.0.0.1\nport: {smsc.port}\nsystem_id: hotline\n"
            "password: much-too-long\nsource_addr: '10690000'\n",
            encoding="utf-8",
        )
        refused = runner.invoke(app, ["sms", "gateway", str(bad)])
        assert refused.exit_code == 1
        assert f"{bad}:4: password: String should have at most 8 characters" in refused.output
        good = tmp_path / "good.yaml"
        good.write_text(bad.read_text().replace("much-too-long", "secret"), encoding="utf-8")
        assert runner.invoke(app, ["sms", "gateway", str(good)]).exit_code == 0
        sent = runner.invoke(
            app,
            ["sms", "send", "--to", "13800138000", "--text", REMINDER, "--purpose",
             "appointment_reminder"],
        )  # fmt: skip
        assert sent.exit_code == 0, sent.output
        assert "delivered" in sent.output
        assert smsc.binds == [("hotline", "secret")] and len(smsc.submitted) == 2
        added = runner.invoke(app, ["campaigns", "dnc", "add", "13900139000"])
        assert added.exit_code == 0, added.output
        listed_number = runner.invoke(
            app, ["sms", "send", "--to", "13900139000", "--text", "回访", "--purpose", "survey"]
        )
        assert listed_number.exit_code == 1 and "do-not-call" in listed_number.output
        assert len(smsc.submitted) == 2  # nothing went to the SMSC
        listed = runner.invoke(app, ["sms", "messages"])
        assert "appointment_reminder" in listed.output and "delivered" in listed.output
        assert "refused" in listed.output
    finally:
        smsc.close()
