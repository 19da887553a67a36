"""Spreadsheet exports that never turn imported text into formulas ("CSV injection").

Queue names, agent ids, customer names and notes come from imported files and from users.
Opened in Excel or WPS, a CSV cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return before one) is evaluated as a formula: ``=HYPERLINK(...)`` or a DDE call
runs on the supervisor's machine. Every export neutralises such cells here:

- in CSV, a text cell that would start a formula gets a leading apostrophe, which Excel
  shows as text (OWASP's recommendation); Hotline's own importer removes it again, so an
  exported contact-record file imports back unchanged;
- in Excel (.xlsx), the cell is written as a text cell, so it shows exactly what was stored.

Numbers stay numbers: only text is touched (``-5`` as a number is fine; as text it is not).

>>> csv_cell("=HYPERLINK(\\"http://x\\")"), csv_cell("-5"), csv_cell(-5), csv_cell("repair")
('\\'=HYPERLINK("http://x")', "'-5", -5, 'repair')
>>> import_cell("'=1+2"), import_cell("'quoted"), import_cell("=1+2")
('=1+2', "'quoted", '=1+2')
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: First characters that make a spreadsheet read a cell as a formula (tab and carriage return
#: too: some spreadsheets skip them and read what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The same as a regular expression character class, for dataframe expressions.
FORMULA_PATTERN = r"^[=+\-@\t\r]"


def csv_cell(value: Any) -> Any:
    """Return ``value`` safe to write in a CSV cell: text that would start a formula is
    prefixed with an apostrophe; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def import_cell(text: str) -> str:
    """Undo :func:`csv_cell` when reading a file Hotline exported (only a neutralised cell
    loses its apostrophe)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def append_row(sheet: Any, values: Iterable[Any]) -> None:
    """Append ``values`` to an openpyxl worksheet, keeping every text cell as text.

    openpyxl stores a string starting with ``=`` as a formula; the cells of the new row that
    came from text are switched back to text cells (data type ``s``).
    """
    values = list(values)
    sheet.append(values)
    row = sheet.max_row
    for column, value in enumerate(values, start=1):
        if isinstance(value, str):
            cell = sheet.cell(row=row, column=column)
            cell.data_type = "s"
