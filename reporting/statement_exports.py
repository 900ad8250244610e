"""Financial statements printed: the rows shown on the pages, in the PDF (weasyprint) and in Excel
(openpyxl). All are drawn from a statement's plain JSON (reporting.statements.statement_as_json), so
a stored statement prints the same figures every time. Fiat is rounded half-even to cents only here,
when printed; Excel cells hold the exact Decimal with a cents format."""

from __future__ import annotations

import io
from decimal import Decimal

from django.template.loader import render_to_string

from core.spreadsheets import safe_workbook
from ledger.cost_basis import format_fiat
from reporting.models import StatementKind

TITLES = dict(StatementKind.choices)
# The figures printed under the sections, per kind: (totals key, label).
SUMMARY_ROWS = {
    StatementKind.BALANCE_SHEET: (("total_liabilities_and_equity", "Total liabilities and equity"),),
    StatementKind.INCOME_STATEMENT: (("net_income", "Net income"),
                                     ("result_including_fair_value", "Result including unrealised fair-value change")),
    StatementKind.CASH_FLOW: (("net_change_in_cash", "Net change in cash"), ("cash_at_start", "Cash at the start"),
                              ("cash_at_end", "Cash at the end")),
}
FIAT_FORMAT = "#,##0.00;-#,##0.00"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def statement_rows(data: dict) -> list[dict]:
    """Printable rows: section headings, lines (indented by level), section totals and summary
    figures, each with its amounts as exact strings (`values`) and printed to cents (`printed`)."""
    rows = []

    def add(kind, label, values, level=0, key=""):
        rows.append({"kind": kind, "label": label, "level": level, "key": key, "values": list(values),
                     "printed": [format_fiat(Decimal(v)) for v in values],
                     "negative": [Decimal(v) < 0 for v in values]})

    for section in data["sections"]:
        rows.append({"kind": "heading", "label": section["title"], "level": 0, "key": section["key"], "values": [],
                     "printed": [], "negative": []})
        for line in section["lines"]:
            add("line", line["label"], line["amounts"], line["level"], line["key"])
        add("total", f"Total {section['title'][0].lower()}{section['title'][1:]}", section["total"],
            key=f"total:{section['key']}")
    for key, label in SUMMARY_ROWS.get(data["kind"], ()):
        if key in data["totals"]:
            add("summary", label, data["totals"][key], key=key)
    return rows


def statement_chart_data(data: dict) -> dict:
    """What statements.js draws: one bar group per column, amounts as strings."""
    keys = {StatementKind.BALANCE_SHEET: (("total_assets", "Assets"), ("total_liabilities", "Liabilities"),
                                          ("total_equity", "Equity")),
            StatementKind.INCOME_STATEMENT: (("total_revenue", "Revenue"), ("total_expenses", "Expenses"),
                                             ("net_income", "Net income")),
            StatementKind.CASH_FLOW: (("net_cash_operating", "Operating"), ("net_cash_investing", "Investing"),
                          ("net_cash_financing", "Financing"), ("net_change_in_cash", "Net change"))}[data["kind"]]
    return {"kind": data["kind"], "currency": data["currency"],
            "columns": [column["label"] for column in data["columns"]],
            "series": [{"label": label, "values": data["totals"][key]} for key, label in keys]}


def _meta(stored) -> list[tuple[str, str]]:
    data = stored.statement
    rows = [("Statement", TITLES[stored.kind]), ("Currency", data["currency"])]
    rows.append(("As of", stored.as_of.isoformat()) if stored.as_of else
                ("Period", f"{stored.start_date.isoformat()} to {stored.end_date.isoformat()}"))
    rows.append(("Generated", f"{stored.created_at:%Y-%m-%d %H:%M} by {stored.created_by.get_username()}"))
    return rows


def statement_xlsx(stored) -> bytes:
    """One sheet for the statement: a column of labels, then the main and comparison columns."""
    # Imported on use: openpyxl and weasyprint take ~0.6 s and ~1.3 s to import, paid by every process otherwise.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    data = stored.statement
    book = Workbook()
    sheet = book.active
    sheet.title = TITLES[stored.kind][:31]
    bold = Font(bold=True)
    for label, value in _meta(stored):
        sheet.append((label, value))
    sheet.append(())
    sheet.append(("", *[column["label"] for column in data["columns"]]))
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for row in statement_rows(data):
        if row["kind"] == "heading":
            sheet.append((row["label"],))
            sheet.cell(row=sheet.max_row, column=1).font = bold
            continue
        sheet.append((row["label"], *[Decimal(value) for value in row["values"]]))
        cells = sheet[sheet.max_row]
        cells[0].alignment = Alignment(indent=row["level"] + (0 if row["kind"] != "line" else 1))
        for cell in cells[1:]:
            cell.number_format = FIAT_FORMAT
            if row["kind"] != "line":
                cell.font = bold
        if row["kind"] != "line":
            cells[0].font = bold
    for column, names in enumerate(data["unpriced"]):
        if names:
            sheet.append((f"At cost, no price ({data['columns'][column]['label']})", ", ".join(names)))
    for note in data["notes"]:
        sheet.append(("Note", note))
    sheet.column_dimensions["A"].width = 52
    for index in range(len(data["columns"])):
        sheet.column_dimensions[chr(ord("B") + index)].width = 24
    safe_workbook(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def statement_pdf(stored) -> bytes:
    from weasyprint import HTML  # on use: see above

    data = stored.statement
    html = render_to_string("reporting/statements_pdf.html", {
        "title": TITLES[stored.kind], "meta": _meta(stored), "columns": data["columns"], "rows": statement_rows(data),
        "unpriced": [(data["columns"][i]["label"], names) for i, names in enumerate(data["unpriced"]) if names],
        "notes": data["notes"],
    })
    return HTML(string=html).write_pdf()
