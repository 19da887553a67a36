"""Survey commands: ``hotline surveys voc`` writes the month's voice-of-the-customer report.

The report (:mod:`hotline.surveys.voc`) goes to the product units as an Excel workbook and a
PDF, one section per product line: CSAT, DSAT, NPS and resolution with 95 % intervals, the
weekly trend, the DSAT root causes and the customers' complaints, faults and suggestions.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from hotline.cli.platform import _sessions
from hotline.cli.quality import CENTER, _center, month_option
from hotline.store.db import session_scope
from hotline.surveys import service
from hotline.surveys.voc_export import pdf, workbook

console = Console()

surveys_app = typer.Typer(help="Surveys: the voice-of-the-customer report.", no_args_is_help=True)


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


def register(app: typer.Typer) -> None:
    """Add the survey commands to the ``hotline`` command."""
    app.add_typer(surveys_app, name="surveys")
