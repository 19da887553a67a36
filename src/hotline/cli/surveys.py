"""Survey commands: ``hotline surveys voc`` writes the month's voice-of-the-customer report;
``hotline surveys sweep`` sends the survey links the center's ``surveys.send`` rule asks for
now (the server does this on its own every few minutes).

The report (:mod:`hotline.surveys.voc`) goes to the product units as an Excel workbook and a
PDF, one section per product line: CSAT, DSAT, NPS and resolution with 95 % intervals, the
weekly trend, the DSAT root causes and the customers' complaints, faults and suggestions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from hotline.cli.mail import server_secret
from hotline.cli.platform import _sessions
from hotline.cli.quality import CENTER, _center, month_option
from hotline.live.survey_sweep import sweep_links
from hotline.store.db import session_scope, writing
from hotline.surveys import service
from hotline.surveys.voc_export import pdf, workbook

console = Console()

surveys_app = typer.Typer(
    help="Surveys: the voice-of-the-customer report, the survey links sent by rule.",
    no_args_is_help=True,
)


@surveys_app.command("voc")
def voc(
    month: str = typer.Option(None, "--month", help="YYYY-MM (this month)."),
    out: Path = typer.Option(Path("."), "--out", help="Folder for voc-<month>.xlsx and .pdf."),
    center: Path = CENTER,
) -> None:
    """Write the month's voice-of-the-customer report per product line (Excel and PDF)."""
    config = _center(center)
    zone = config.center.timezone
    month, since, until = month_option(month, zone)
    out.mkdir(parents=True, exist_ok=True)
    engine, factory = _sessions()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("voice of the customer", total=3)
        try:
            with session_scope(factory) as session:
                report = service.monthly_report(
                    session=session,
                    month=month,
                    since=since,
                    until=until,
                    timezone=zone,
                    teams={a.id: a.team for a in config.agents},
                    definitions=config.surveys.definitions if config.surveys else [],
                )
        finally:
            engine.dispose()
        progress.advance(task)
        excel = out / f"voc-{month}.xlsx"
        excel.write_bytes(workbook(report))
        progress.advance(task)
        document = out / f"voc-{month}.pdf"
        document.write_bytes(pdf(report))
        progress.advance(task)
    lines = ", ".join(f"{s.product} ({s.figures.responses})" for s in report.products) or "none"
    console.print(f"product lines: {lines}")
    console.print(f"wrote {excel} and {document}")


@surveys_app.command("sweep")
def sweep(center: Path = CENTER) -> None:
    """Send the survey links the center's ``surveys.send`` rule asks for now."""
    config = _center(center)
    if config.surveys is None or config.surveys.send is None:
        console.print("the center configuration has no 'surveys: send:' rule: nothing to do")
        raise typer.Exit(1)
    engine, factory = _sessions()
    try:
        with writing(factory()) as session:
            result = sweep_links(
                session, center=config, secret=server_secret(), now=datetime.now(UTC)
            )
    finally:
        engine.dispose()
    console.print(
        f"{len(result.emailed)} link(s) e-mailed, {len(result.texted)} texted, "
        f"{len(result.refused)} SMS refused, {len(result.skipped)} occasion(s) skipped, "
        f"{len(result.retrying)} SMS to try again"
    )
    for key, reason in sorted(result.skipped.items()):
        console.print(f"  {key}: {reason}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the survey commands to the ``hotline`` command."""
    app.add_typer(surveys_app, name="surveys")
