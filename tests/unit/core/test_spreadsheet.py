"""Exports never turn imported text into spreadsheet formulas; Hotline's import undoes it."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook, load_workbook

from hotline.core.spreadsheet import append_row, csv_cell
from hotline.metrics.compute import frame_to_csv, records_to_frame
from hotline.metrics.importer import read_contact_records
from hotline.metrics.records import ContactRecord

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_every_formula_start_is_neutralised_in_csv() -> None:
    assert [csv_cell(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert csv_cell("repair") == "repair" and csv_cell(-2.5) == -2.5


def test_xlsx_text_cells_stay_text_when_opened() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    append_row(sheet, ["queue", "offered"])
    for value in HOSTILE:
        append_row(sheet, [value, 3])
    buffer = io.BytesIO()
    book.save(buffer)
    opened = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert opened is not None
    cells = [row[0] for row in opened.iter_rows(min_row=2)]
    # XML stores a carriage return as a line feed; the text is otherwise kept exactly.
    assert [c.value for c in cells] == [v.replace("\r", "\n") for v in HOSTILE]
    assert {c.data_type for c in cells} == {"s"}  # not "f": no formula is stored
    assert opened.cell(row=2, column=2).data_type == "n"


def test_contact_export_is_neutralised_and_imports_back_unchanged(tmp_path: Path) -> None:
    records = [
        ContactRecord(
            contact_id=f"c{i}",
            arrived_at=1_772_438_400.0 + i,
            outcome="self_served",
            queue=value.strip(),
            agent="@agent" if i == 0 else None,
        )
        for i, value in enumerate(HOSTILE[:4])
    ]
    path = tmp_path / "out.csv"
    frame_to_csv(records_to_frame(records), path)
    text = path.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'@agent" in text and "'+1+1" in text
    assert ",=" not in text and ",@" not in text and ",+" not in text
    back = read_contact_records(path).records
    assert [r.queue for r in back] == [r.queue for r in records]
    assert back[0].agent == "@agent"
