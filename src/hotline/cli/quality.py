"""Quality commands: ``hotline quality score|accuracy|precision|transcribe``.

``score`` checks a form and a set of answers offline (what a QA lead does before putting a
new form version into the center file); ``accuracy`` prints each agent's fatal and non-fatal
accuracy with its margin from the evaluations in the database; ``precision`` shows, before
anyone evaluates, how far a mean score of n evaluations can be trusted; ``transcribe`` is the
speech-analytics worker: it queues the recordings not yet transcribed and transcribes them on
the CPU, one committed transcript at a time, so the web server never waits on it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hotline.cli.platform import SAMPLE_CENTER, _sessions
from hotline.config.center import CenterConfig
from hotline.config.evaluation import QualityConfig
from hotline.config.validate import check_file
from hotline.core.documents import DocumentRefused, load_yaml
from hotline.quality import service, transcription
from hotline.quality.scoring import AnswerProblem, score_answers
from hotline.quality.statistics import evaluations_needed, mean_margin_for_sd
from hotline.store.db import session_scope

console = Console()
# Problems go out unwrapped and unhighlighted: a path and line must stay on one line.
error_console = Console(stderr=True, soft_wrap=True, highlight=False)

quality_app = typer.Typer(
    help="Quality management: score evaluations, accuracy with margins, precision.",
    no_args_is_help=True,
)

CENTER = typer.Option(SAMPLE_CENTER, "--center", help="Center configuration file (YAML).")


def _center(path: Path) -> CenterConfig:
    result = check_file(path)
    if not result.ok or result.config is None:
        for problem in result.errors:
            error_console.print(f"[red]error[/red] {problem}")
        raise typer.Exit(1)
    return result.config


def month_option(month: str | None, zone: str) -> tuple[str, datetime, datetime]:
    """``--month`` (this month in ``zone`` when left out) and its bounds; a located usage
    error (exit 2) when it is not ``YYYY-MM``."""
    month = month or datetime.now(ZoneInfo(zone)).strftime("%Y-%m")
    try:
        since, until = service.month_bounds(month, zone)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--month") from None
    return month, since, until


@quality_app.command("score")
def score(
    answers_file: Path = typer.Argument(..., help="YAML: question id → 0..points or na."),
    form: str = typer.Option(..., "--form", help="Form id in the center configuration."),
    version: int | None = typer.Option(None, "--version", help="Form version (newest)."),
    center: Path = CENTER,
) -> None:
    """Score one set of answers on a form, section by section."""
    config = _center(center)
    try:
        chosen = (config.quality or QualityConfig()).form(form, version)
    except KeyError:
        error_console.print(
            f"{center}: no evaluation form {form!r}" + (f" v{version}" if version else "")
        )
        raise typer.Exit(1) from None
    try:
        text = answers_file.read_text(encoding="utf-8")
        raw = load_yaml(text, source=str(answers_file))
    except (OSError, DocumentRefused, yaml.YAMLError) as error:
        error_console.print(f"{answers_file}: {error}")
        raise typer.Exit(1) from None
    if not isinstance(raw, dict):
        error_console.print(
            f"{answers_file}:1: the answers must be a mapping: question id → answer"
        )
        raise typer.Exit(1)
    answers = {str(k): (None if v in (None, "na", "N/A") else v) for k, v in raw.items()}
    try:
        scored = score_answers(chosen, answers)
    except AnswerProblem as problem:
        question = problem.field.removeprefix("answers.")
        lines = [i for i, row in enumerate(text.splitlines(), 1) if row.split(":")[0] == question]
        where = f"{answers_file}:{lines[0]}" if lines else str(answers_file)
        error_console.print(f"{where}: {question}: {problem.rule}")
        raise typer.Exit(1) from None
    table = Table(title=f"{chosen.name} (v{chosen.version})")
    for column in ("section", "weight", "earned", "zeroed by"):
        table.add_column(column)
    for section in scored.sections:
        share = "N/A" if section.earned_share is None else f"{100 * section.earned_share:.1f}%"
        table.add_row(section.name, f"{section.weight:g}", share, section.zeroed_by or "")
    console.print(table)
    console.print(
        f"score {scored.score:.2f}; fatal error: {'yes' if scored.fatal_error else 'no'}"
        f"; non-fatal errors {scored.nonfatal_errors} of {scored.nonfatal_opportunities}"
    )


@quality_app.command("accuracy")
def accuracy(
    month: str = typer.Option(None, "--month", help="YYYY-MM (this month)."),
    center: Path = CENTER,
) -> None:
    """Each agent's fatal and non-fatal accuracy and mean score, with 95 % margins."""
    config = _center(center)
    month, since, until = month_option(month, config.center.timezone)
    policy = (config.quality or QualityConfig()).sampling
    engine, factory = _sessions()
    try:
        with session_scope(factory) as session:
            figures = service.agent_accuracy(
                session=session,
                since=since,
                until=until,
                agents=None,
                margin_points=policy.margin_points,
                assumed_sd=policy.assumed_sd_points,
            )
    finally:
        engine.dispose()
    table = Table(title=f"QA accuracy {month} (95 % intervals)")
    for column in (
        "agent",
        "n",
        "mean ± margin",
        "fatal accuracy",
        "non-fatal accuracy",
        f"needed for ±{policy.margin_points:g}",
    ):
        table.add_column(column)
    for agent, f in figures.items():
        mean = "–" if f.mean_score is None else f"{f.mean_score:.1f}"
        if f.score_margin is not None:
            mean += f" ± {f.score_margin:.1f}"
        fatal = (
            "–"
            if f.fatal_accuracy is None
            else (
                f"{100 * f.fatal_accuracy:.1f}% [{100 * f.fatal_interval[0]:.1f}–"
                f"{100 * f.fatal_interval[1]:.1f}]"
            )
        )
        nonfatal = (
            "–"
            if f.nonfatal_accuracy is None
            else (
                f"{100 * f.nonfatal_accuracy:.1f}% [{100 * f.nonfatal_interval[0]:.1f}–"
                f"{100 * f.nonfatal_interval[1]:.1f}]"
            )
        )
        table.add_row(agent, str(f.evaluations), mean, fatal, nonfatal, str(f.evaluations_needed))
    console.print(table)
    if not figures:
        console.print(f"no evaluations in {month}")


@quality_app.command("precision")
def precision(
    sd: float = typer.Option(8.0, "--sd", min=0.1, help="Spread (sd) of scores, in points."),
    margin: float = typer.Option(5.0, "--margin", min=0.1, help="Wanted ± points."),
) -> None:
    """How well n evaluations pin down a mean score, and the n a wanted margin needs."""
    table = Table(title=f"95 % margin of a mean score (scores spread sd {sd:g} points)")
    table.add_column("evaluations")
    table.add_column("± points")
    for n in (2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50):
        table.add_row(str(n), f"{mean_margin_for_sd(sd, n):.1f}")
    console.print(table)
    console.print(f"for ±{margin:g} points: {evaluations_needed(sd, margin)} evaluations")


@quality_app.command("transcribe")
def transcribe(
    model: str = typer.Option(
        None,
        "--model",
        envvar="HOTLINE_SPEECH_MODEL",
        help="A CTranslate2 Whisper model folder, or py:module:factory for your own engine "
        "(default: var/models/whisper-base, installed by scripts/speech_model.py).",
    ),
    limit: int = typer.Option(0, "--limit", min=0, help="Transcribe at most this many (0: all)."),
    center: Path = CENTER,
) -> None:
    """Queue the recordings not yet transcribed, then transcribe the queue with progress."""
    config = _center(center)
    rules = (config.quality or QualityConfig()).speech
    job_numbers = {a.id: a.job_number for a in config.agents if a.job_number}
    engine, factory = _sessions()
    try:
        with session_scope(factory) as session:
            added = transcription.enqueue(session=session)
            waiting = transcription.queued(session=session)
        total = min(waiting, limit) if limit else waiting
        console.print(f"{added} recording(s) queued; {waiting} to transcribe")
        if not total:
            return
        try:
            transcriber = transcription.load_transcriber(model)
        except (OSError, ValueError, ImportError, AttributeError) as error:
            error_console.print(f"--model: {error}")
            raise typer.Exit(1) from None
        done = failed = 0
        audio_s = busy_s = 0.0
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=error_console, transient=True) as bar:
            task = bar.add_task("transcribing", total=total)
            while done + failed < total:
                with session_scope(factory) as session:
                    claimed = transcription.claim(session=session)
                    if claimed is None:
                        break
                    row, recording = claimed
                    try:
                        heard = transcription.transcribe_recording(
                            transcriber,
                            Path(recording.path),
                            rules if recording.kind == "conversation" else None,
                            job_number=job_numbers.get(recording.agent_id or ""),
                        )
                    except (OSError, ValueError, EOFError) as error:
                        transcription.fail(session=session, row=row, error=str(error))
                        error_console.print(f"{recording.path}: {error}")
                        failed += 1
                    else:
                        transcription.finish(
                            session=session, row=row, heard=heard, model=transcriber.name
                        )
                        audio_s += heard.seconds
                        busy_s += heard.processing_s
                        done += 1
                bar.update(task, completed=done + failed)
    finally:
        engine.dispose()
    speed = f"; real-time factor {busy_s / audio_s:.2f}" if audio_s else ""
    console.print(f"{done} transcribed, {failed} failed ({audio_s:.0f} s of audio{speed})")


def register(app: typer.Typer) -> None:
    """Add the quality commands to the ``hotline`` command."""
    app.add_typer(quality_app, name="quality")
