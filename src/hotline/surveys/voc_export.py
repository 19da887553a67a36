"""The voice-of-the-customer report as files for the product units: Excel and PDF.

The workbook has a summary sheet (one row per product line: responses, CSAT, DSAT, NPS and
resolution with their 95 % intervals) and one sheet per product line (weekly trend, DSAT root
causes, complaints, faults, suggestions). Customers' words are written as text cells
(:func:`hotline.core.spreadsheet.append_row`), so a comment starting with ``=`` shows as
typed instead of running as a formula.

The PDF is drawn with matplotlib's PDF backend (already the project's chart library): one
page per product line with its figures, the weekly CSAT chart, the root causes and the
verbatims, in a CJK font (Noto Sans CJK from ``fonts-noto-cjk``, installed by
``scripts/system-deps.sh``) embedded in the file.
"""

from __future__ import annotations

import io
import textwrap
from typing import Any

from hotline.core.spreadsheet import append_row
from hotline.surveys.statistics import NetPromoter, Proportion
from hotline.surveys.voc import ProductSection, VocReport

#: Fonts tried in order for the PDF; the first has the Chinese glyphs.
FONTS = ["Noto Sans CJK SC", "Noto Serif CJK SC", "DejaVu Sans"]
SUMMARY = (
    "产品 Product",
    "回答 Responses",
    "CSAT",
    "CSAT 95% low",
    "CSAT 95% high",
    "DSAT",
    "NPS",
    "NPS 95% low",
    "NPS 95% high",
    "已解决 Resolved",
)


def _share(p: Proportion) -> str:
    if p.share is None:
        return "–"
    return f"{100 * p.share:.1f}% [{100 * (p.low or 0):.1f}–{100 * (p.high or 0):.1f}] n={p.n}"


def _nps(p: NetPromoter) -> str:
    if p.score is None:
        return "–"
    return f"{p.score:.1f} [{p.low or 0:.1f}, {p.high or 0:.1f}] n={p.n}"


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def workbook(report: VocReport) -> bytes:
    """The report as .xlsx bytes."""
    from openpyxl import Workbook

    book = Workbook()
    summary = book.active
    summary.title = "summary"
    append_row(summary, [f"客户之声 Voice of the customer {report.month}"])
    append_row(summary, SUMMARY)
    for section in report.products:
        f = section.figures
        append_row(
            summary,
            [
                section.product,
                f.responses,
                _round(f.csat.share),
                _round(f.csat.low),
                _round(f.csat.high),
                _round(f.dsat.share),
                _round(f.nps.score, 1),
                _round(f.nps.low, 1),
                _round(f.nps.high, 1),
                _round(f.resolved.share),
            ],
        )
    for index, section in enumerate(report.products):
        # Sheet names: at most 31 characters, none of []:*?/\ (Excel's rules).
        name = "".join(ch for ch in section.product if ch not in "[]:*?/\\")[:28]
        sheet = book.create_sheet(f"{index + 1}-{name}"[:31])
        append_row(sheet, ["周 Week", "回答 Responses", "CSAT"])
        for week in section.weekly:
            append_row(sheet, [week.week.isoformat(), week.responses, _round(week.csat)])
        append_row(sheet, [])
        append_row(sheet, ["不满意原因 DSAT root causes", "留言 Comments", "典型留言 Example"])
        for cause in section.root_causes:
            append_row(sheet, [" · ".join(cause.keywords), cause.size, cause.example])
        for title, texts in _verbatims(section):
            append_row(sheet, [])
            append_row(sheet, [title])
            for text in texts:
                append_row(sheet, [text])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _verbatims(section: ProductSection) -> list[tuple[str, tuple[str, ...]]]:
    return [
        ("投诉 Complaints", section.complaints),
        ("故障 Faults", section.faults),
        ("建议 Suggestions", section.suggestions),
    ]


def pdf(report: VocReport) -> bytes:
    """The report as PDF bytes, one page per product line (a note page when there is none)."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    out = io.BytesIO()
    with (
        matplotlib.rc_context({"font.family": FONTS, "pdf.fonttype": 42}),
        PdfPages(out, metadata={"Title": f"VoC {report.month}"}) as pages,
    ):
        if not report.products:
            figure = Figure(figsize=(8.27, 11.69))
            figure.text(0.08, 0.92, f"客户之声 Voice of the customer {report.month}", size=16)
            figure.text(0.08, 0.86, "本月没有调查回答 No survey answers this month", size=11)
            pages.savefig(figure)
        for section in report.products:
            pages.savefig(_page(Figure(figsize=(8.27, 11.69)), report.month, section))
    return out.getvalue()


def _page(figure: Any, month: str, section: ProductSection) -> Any:
    f = section.figures
    figure.text(0.08, 0.95, f"客户之声 Voice of the customer {month} · {section.product}", size=15)
    lines = [
        f"回答 Responses: {f.responses}",
        f"CSAT (top-2-box): {_share(f.csat)}",
        f"DSAT (bottom box): {_share(f.dsat)}",
        f"NPS: {_nps(f.nps)}",
        f"已解决 Resolved: {_share(f.resolved)}",
    ]
    figure.text(0.08, 0.80, "\n".join(lines), size=10, va="bottom", linespacing=1.5)
    chart = figure.add_axes((0.1, 0.60, 0.8, 0.15))
    weeks = [w for w in section.weekly if w.csat is not None]
    chart.plot([w.week.isoformat() for w in weeks], [100 * (w.csat or 0) for w in weeks], "o-")
    chart.set_ylim(0, 100)
    chart.set_ylabel("CSAT %")
    chart.set_title("每周 CSAT Weekly CSAT", size=10)
    chart.tick_params(labelsize=8)
    text: list[str] = ["不满意原因 DSAT root causes:"]
    text += [f"  {' · '.join(c.keywords)} ({c.size}): {c.example}" for c in section.root_causes]
    for title, verbatims in _verbatims(section):
        text.append(f"{title}:")
        text += [f"  · {v}" for v in verbatims[:5]]
    wrapped = [part for line in text for part in textwrap.wrap(line, 60) or [""]]
    figure.text(0.08, 0.52, "\n".join(wrapped[:40]), size=9, va="top", linespacing=1.4)
    return figure
