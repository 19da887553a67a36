"""``hotline report kpis --contacts … --mapping anonymous_bank`` on the bank's real export format.

The shipped bank mapping carries its known-quirk policy (``bad_rows: skip``): answered rows
without service times are skipped and listed, so the command the README shows works on every
shipped month. The CSV it prints is plain (header row first) so spreadsheet and pandas readers
take it as is; the settings go to a JSON sidecar (``--metadata``) or to stderr.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.core.errors import ValidationFailed
from hotline.metrics.importer import ExportMapping, load_mapping

runner = CliRunner()

HEADER = (
    "vru+line call_id customer_id priority type date vru_entry vru_exit vru_time "
    "q_start q_exit q_time outcome ser_start ser_exit ser_time server"
)
ROWS = [
    # served after queueing
    "AA01 1 96644 2 PS 990104 9:00:01 9:00:11 10 9:00:11 9:00:31 20 AGENT 9:00:31 9:03:31 180 DANA",
    # abandoned in the queue
    "AA0101 2 0 0 PS 990104 9:10:00 9:10:10 10 9:10:10 9:11:10 60 HANG 0:00:00 0:00:00 0 NO_SERVER",
    # the quirk: answered, but no service times at all (line 4 of the file)
    "AA0101 3 0 0 PS 990104 9:20:00 9:20:10 10 0:00:00 0:00:00 0 AGENT 0:00:00 0:00:00 0 NO_SERVER",
    # served without queueing
    "AA0101 4 0 1 PE 990104 9:40:00 9:40:08 8 0:00:00 0:00:00 0 AGENT 9:40:08 9:42:08 120 MOSHE",
]


@pytest.fixture
def bank_month(tmp_path: Path) -> Path:
    path = tmp_path / "1999-01.txt.gz"
    lines = ["\t".join(row.split()) for row in [HEADER, *ROWS]]
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def test_the_documented_command_reads_a_month_with_the_known_quirk(
    bank_month: Path, tmp_path: Path
) -> None:
    sidecar = tmp_path / "kpis.json"
    result = runner.invoke(
        app,
        [
            "report",
            "kpis",
            "--contacts",
            str(bank_month),
            "--mapping",
            "anonymous_bank",
            "--by",
            "center",
            "--interval",
            "day",
            "--format",
            "csv",
            "--metadata",
            str(sidecar),
        ],
    )
    assert result.exit_code == 0, result.output + result.stderr
    # The quirky row is skipped and listed with its line and the rule it breaks.
    assert f"{bank_month}:4: answered_at" in result.stderr
    assert "skipped 1 bad row(s) on line(s) 4" in result.stderr
    # A plain CSV: pandas reads it with no options, one row for the day.
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame.columns[:3]) == ["interval_start", "offered", "answered"]
    assert frame["offered"].tolist() == [3]
    assert frame["answered"].tolist() == [2]
    settings = json.loads(sidecar.read_text(encoding="utf-8"))
    assert settings["timezone"] == "Asia/Jerusalem" and settings["interval"] == "day"
    assert settings["thresholds"]["default"]["service_level_threshold_s"] == 20.0


def test_without_a_sidecar_the_settings_go_to_stderr_not_into_the_csv(bank_month: Path) -> None:
    result = runner.invoke(
        app,
        ["report", "kpis", "-c", str(bank_month), "-m", "anonymous_bank", "-f", "csv"],
    )
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.startswith("interval_start,")
    assert "#" not in result.stdout
    assert 'settings: {"interval": "30m"' in result.stderr


def test_a_mapping_without_the_policy_still_rejects_the_file(bank_month: Path) -> None:
    shipped = load_mapping("anonymous_bank")
    assert shipped.bad_rows == "skip"
    strict = ExportMapping(
        name="strict", fields=shipped.fields, delimiter="\t", timezone=shipped.timezone,
        null_values=shipped.null_values, skip_when=shipped.skip_when,
        date_column=shipped.date_column, date_format=shipped.date_format,
        not_queued_outcomes=shipped.not_queued_outcomes, arrival_is_earliest=True,
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as failed:
        strict.read(bank_month)
    assert [(p.line, p.field) for p in failed.value.problems] == [(4, "answered_at")]
    read = shipped.read(bank_month)
    assert len(read.records) == 3 and read.skipped_lines == [4]
    with pytest.raises(ValidationFailed):  # an explicit choice still wins over the policy
        shipped.read(bank_month, skip_bad_rows=False)


def test_an_unknown_bad_row_policy_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as failed:
        ExportMapping.from_dict(
            {
                "bad_rows": "ignore",
                "fields": {
                    "contact_id": "id",
                    "arrived_at": {"timestamp": "t"},
                    "outcome": "o",
                },
            },
            source="custom.yaml",
        )
    [problem] = failed.value.problems
    assert problem.field == "bad_rows" and problem.file == "custom.yaml"
    assert "reject, skip" in problem.rule and "'ignore'" in problem.rule
