"""``hotline quality score|accuracy|precision`` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from hotline.cli import quality as quality_cli
from hotline.cli.main import app
from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.validate import load_center
from hotline.quality import service
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade

ANSWERS = """\
greeting: 1
recording_notice: na
verify_identity: 0
no_disclosure: 1
correct_info: 3
ticket_complete: 2
no_false_promise: 1
courtesy: 4
hold_etiquette: na
further_help: 1
closing_phrase: 0
"""


def test_score_prints_each_section_and_the_score(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS, encoding="utf-8")
    result = CliRunner().invoke(app, ["quality", "score", str(answers), "--form", "voice-service"])
    assert result.exit_code == 0, result.output
    # identity zeroed (section-fatal), accuracy 5.25/6, closing 1/2: of 100, 74.38
    assert "score 74.38; fatal error: yes; non-fatal errors 2 of 6" in result.output
    assert "verify_identity" in result.output


def test_a_bad_answer_names_the_file_line_and_question(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS.replace("courtesy: 4", "courtesy: 7"), encoding="utf-8")
    result = CliRunner().invoke(app, ["quality", "score", str(answers), "--form", "voice-service"])
    assert result.exit_code == 1
    assert f"{answers}:8: courtesy: answer 7 is outside the scale 0-4" in result.output
    unknown = CliRunner().invoke(app, ["quality", "score", str(answers), "--form", "chat"])
    assert unknown.exit_code == 1 and "no evaluation form 'chat'" in unknown.output


def test_precision_shows_how_little_a_few_evaluations_say() -> None:
    result = CliRunner().invoke(app, ["quality", "precision", "--sd", "8", "--margin", "5"])
    assert result.exit_code == 0, result.output
    assert "│ 4           │ 12.7     │" in result.output
    assert "│ 8           │ 6.7      │" in result.output
    assert "for ±5 points: 13 evaluations" in result.output


def test_accuracy_reads_the_evaluations_of_the_month(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    engine = make_engine(url)
    upgrade(engine)
    center = load_center(SAMPLE_CENTER)
    assert center.quality is not None
    form = center.quality.form("voice-service")
    perfect = {q.id: q.points for s in form.sections for q in s.questions}
    with make_session_factory(engine)() as session:
        for i, change in enumerate(({}, {"no_disclosure": 0})):
            service.create_evaluation(
                session=session,
                contact_id=f"v-{i}",
                agent_id="a007",
                evaluator="qa",
                form=form,
                answers=perfect | change,
            )
        session.commit()
        month = service.list_evaluations(session=session)[0].evaluated_at
    engine.dispose()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    monkeypatch.setattr(quality_cli, "console", Console(width=200))  # one row per agent
    month_text = month.astimezone(service.month_bounds("2000-01", "Asia/Shanghai")[0].tzinfo)
    result = CliRunner().invoke(
        app, ["quality", "accuracy", "--month", month_text.strftime("%Y-%m")]
    )
    assert result.exit_code == 0, result.output
    assert "a007" in result.output
    assert "50.0% [9.5–90.5]" in result.output  # 1 of 2 without a fatal error, Wilson
    bad = CliRunner().invoke(app, ["quality", "accuracy", "--month", "2026-13"])
    assert bad.exit_code == 2 and "is not YYYY-MM" in bad.output
