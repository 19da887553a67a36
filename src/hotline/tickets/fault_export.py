"""Fault statistics per product and model as an Excel workbook for the product units.

A summary sheet (product line, model, repairs, repeat repairs, first-visit fix rate), then
one row per model and fault category, per model and part, and per model and month. Fault
and part names come from providers' reports, so they are written as text cells
(:func:`hotline.core.spreadsheet.append_row`), never as formulas.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

from hotline.core.spreadsheet import append_row
from hotline.tickets.faults import ModelFaults

SUMMARY = (
    "产品线 Product line",
    "型号 Model",
    "维修单 Repairs",
    "重复维修 Repeat repairs (90 days)",
    "首次上门修复率 First-visit fix rate",
)


def workbook(models: Sequence[ModelFaults], *, since: str, until: str) -> bytes:
    """The statistics of ``since``–``until`` (months, ``YYYY-MM``) as .xlsx bytes."""
    from openpyxl import Workbook

    book = Workbook()
    summary = book.active
    summary.title = "summary"
    append_row(summary, [f"故障统计 Fault statistics {since} – {until}"])
    append_row(summary, SUMMARY)
    for m in models:
        rate = m.first_visit_fix_rate
        append_row(
            summary,
            [
                m.product_line,
                m.model,
                m.repairs,
                m.repeat_repairs,
                None if rate is None else round(rate, 4),
            ],
        )
    repairs, uses = "维修单 Repairs", "使用次数 Times used"
    sheets: list[tuple[str, str, str, Callable[[ModelFaults], dict[str, int]]]] = [
        ("faults", "故障类别 Fault category", repairs, lambda m: m.faults),
        ("parts", "配件 Part", uses, lambda m: m.parts),
        ("monthly", "月份 Month", repairs, lambda m: m.monthly),
    ]
    for title, header, counted, counts in sheets:
        sheet = book.create_sheet(title)
        append_row(sheet, ["产品线 Product line", "型号 Model", header, counted])
        for m in models:
            for key, count in counts(m).items():
                append_row(sheet, [m.product_line, m.model, key, count])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
