"""A provider's monthly settlement statement as an Excel workbook for finance.

One sheet of claims (work order, product, parts, labour / parts / travel, total, whether the
follow-up verified it, its flags, approved / rejected with the reason / pending) and a
summary per status. Text from providers and clerks (parts, reasons) is written as text
cells (:func:`hotline.core.spreadsheet.append_row`), so a part named ``=HYPERLINK(…)`` shows
as typed instead of running as a formula in finance's spreadsheet.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from hotline.core.spreadsheet import append_row
from hotline.followup.service import StatementLine

HEADER = (
    "工单 Work order",
    "服务商 Provider",
    "提交时间 Submitted (UTC)",
    "产品型号 Product model",
    "配件 Parts",
    "人工 Labour (yuan)",
    "配件费 Parts (yuan)",
    "交通 Travel (yuan)",
    "合计 Total (yuan)",
    "回访已核实 Verified",
    "回访标记 Flags",
    "状态 Status",
    "原因 Reason",
)
STATUSES = ("approved", "rejected", "pending")


def statement_workbook(lines: Sequence[StatementLine], *, provider: str, month: str) -> bytes:
    """The statement of ``provider`` for ``month`` as .xlsx bytes."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "claims"
    append_row(sheet, [f"{provider} {month}"])
    append_row(sheet, HEADER)
    for line in lines:
        append_row(
            sheet,
            [
                line.number,
                line.provider,
                line.submitted_at.strftime("%Y-%m-%d %H:%M"),
                line.product_model,
                ", ".join(line.parts),
                line.labour_yuan,
                line.parts_yuan,
                line.travel_yuan,
                line.amount_yuan,
                "yes" if line.verified else "no",
                ", ".join(line.flags),
                line.status,
                line.reason,
            ],
        )
    summary = book.create_sheet("summary")
    append_row(summary, ["状态 Status", "笔数 Claims", "金额 Amount (yuan)"])
    for status in STATUSES:
        chosen = [line for line in lines if line.status == status]
        append_row(summary, [status, len(chosen), round(sum(x.amount_yuan for x in chosen), 2)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
