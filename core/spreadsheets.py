"""Cells of every CSV and XLSX the app writes, safe to open in a spreadsheet (issue 19).

A text cell that starts with `=`, `+`, `-`, `@`, a tab, a carriage return or a line feed is read by
Excel, LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)`, `=cmd|...`): OWASP's rule is to
prefix such a cell with a single quote, which the spreadsheet shows as text. A plain number written
as text (`-12.50`, a loss in the tax CSV) is not a formula and stays as it is; numeric cells
(Decimal, int) are never touched. Every export goes through `safe_cell` / `safe_row` / `csv_text`:
the transactions export (Koinly universal CSV), the tax report CSV and XLSX, the statements' XLSX.

`unneutralise` is the exact inverse, for the importer reading back one of our own exports.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable) -> list:
    return [safe_cell(value) for value in row]


def csv_text(rows: Iterable[Iterable]) -> str:
    """CSV (`\\n` line ends) of `rows`, every cell made safe. With `\\n` as the line end, the csv module
    leaves a lone carriage return unquoted, which splits the row for every reader: a row holding one
    is written fully quoted."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        cells = safe_row(row)
        (quoted if any(isinstance(cell, str) and "\r" in cell for cell in cells) else writer).writerow(cells)
    return out.getvalue()


def unneutralise(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value[1:]):
        return value[1:]
    return value


def safe_workbook(book) -> None:
    """Make every text cell of an openpyxl workbook safe, in place, just before it is saved (openpyxl
    would otherwise store a text starting with `=` as a formula)."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    safe = safe_cell(cell.value)
                    if safe is not cell.value or cell.data_type == "f":
                        cell.value = safe
                        cell.data_type = "s"
