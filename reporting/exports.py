"""Tax reports as files: CSV (the stable interface of `manage.py tax_report`), XLSX and PDF.

The CSV headers are fixed (other tools read them): disposals
`asset,quantity,date_acquired,date_disposed,proceeds,cost_basis,gain,term` and totals
`year,proceeds,cost_basis,gains,losses,net`. Fiat is rounded half-even to cents only here, when printed.
"""

from __future__ import annotations

import dataclasses
import io
from decimal import Decimal

from django.template.loader import render_to_string

from core.spreadsheets import csv_text, safe_workbook
from ledger.cost_basis import disposal_csv_rows, format_fiat, format_quantity, totals_csv_rows
from reporting.selectors import TaxSummary

METHOD_NAMES = {"fifo": "FIFO", "lifo": "LIFO", "hifo": "HIFO", "acb": "Average cost (ACB)",
                "uk": "UK (HMRC share pooling)"}
FIAT_FORMAT = "#,##0.00"


def tax_report_csv(summary: TaxSummary, *, totals: bool = False) -> str:
    if totals:
        return csv_text(totals_csv_rows(summary.totals))
    return csv_text(disposal_csv_rows(dataclasses.replace(summary.result, disposals=summary.disposals)))


def _date(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


def tax_report_xlsx(summary: TaxSummary) -> bytes:
    """Summary, disposals (short and long term apart, like Form 8949 parts I and II) and income
    sheets; amounts are numeric cells (Decimal, exact), formatted to cents."""
    # Imported on use: openpyxl and weasyprint take ~0.6 s and ~1.3 s to import, paid by every process otherwise.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Summary"
    bold = Font(bold=True)
    for row in (
        ("Tax report", summary.user_label),
        ("Period", f"{summary.start.isoformat()} to {summary.end.isoformat()}"),
        ("Method", METHOD_NAMES[summary.method]),
        ("Lot scope", "per wallet" if summary.lot_scope == "wallet" else "all wallets"),
        ("Currency", summary.fiat),
    ):
        sheet.append(row)
    sheet.append(())
    figures = (
        ("Proceeds", sum((d.proceeds for d in summary.disposals), Decimal(0))),
        ("Cost basis", sum((d.cost_basis for d in summary.disposals), Decimal(0))),
        ("Gains", summary.total_gains),
        ("Losses", summary.total_losses),
        ("Net gain", summary.total_gains - summary.total_losses),
        ("Short-term net", sum((d.gain for d in summary.short_term), Decimal(0))),
        ("Long-term net", sum((d.gain for d in summary.long_term), Decimal(0))),
        ("Income", summary.total_income),
    )
    for label, value in figures:
        sheet.append((label, value))
        sheet.cell(row=sheet.max_row, column=2).number_format = FIAT_FORMAT
    sheet.append(("Taxable events", len(summary.disposals)))
    sheet.append(())
    sheet.append(("Year", "Proceeds", "Cost basis", "Gains", "Losses", "Net"))
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for total in summary.totals:
        sheet.append((total.year, total.proceeds, total.cost_basis, total.gains, total.losses, total.net))
        for cell in sheet[sheet.max_row][1:]:
            cell.number_format = FIAT_FORMAT
    for warning in summary.warnings:
        sheet.append(("Note", warning))
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 28

    disposals = book.create_sheet("Disposals")
    disposals.append(("Part", "Asset", "Quantity", "Date acquired", "Date disposed", "Proceeds", "Cost basis", "Gain",
                      "Term", "Kind", "Wallet", "Reference"))
    for cell in disposals[1]:
        cell.font = bold
    parts = (("I short-term", summary.short_term), ("II long-term", summary.long_term),
             ("various", summary.various_term))
    for part, rows in parts:
        for d in rows:
            disposals.append((part, d.asset, d.quantity, _date(d.date_acquired), d.date_disposed.isoformat(), d.proceeds,
                              d.cost_basis, d.gain, d.term, d.kind, d.wallet, d.ref))
            for cell in disposals[disposals.max_row][5:8]:
                cell.number_format = FIAT_FORMAT

    income = book.create_sheet("Income")
    income.append(("Date", "Asset", "Quantity", "Value", "Label", "Wallet", "Reference"))
    for cell in income[1]:
        cell.font = bold
    for event in summary.income:
        income.append((event.date.isoformat(), event.asset, event.quantity, event.value, event.label, event.wallet,
                       event.ref))
        income.cell(row=income.max_row, column=4).number_format = FIAT_FORMAT

    safe_workbook(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def tax_report_pdf(summary: TaxSummary) -> bytes:
    from weasyprint import HTML  # on use: see above

    def row(d):
        return {"asset": d.asset, "quantity": format_quantity(d.quantity), "acquired": _date(d.date_acquired),
                "disposed": d.date_disposed.isoformat(), "proceeds": format_fiat(d.proceeds),
                "cost": format_fiat(d.cost_basis), "gain": format_fiat(d.gain), "negative": d.gain < 0}

    def subtotal(rows):
        return {name: format_fiat(sum((getattr(d, attr) for d in rows), Decimal(0)))
                for name, attr in (("proceeds", "proceeds"), ("cost", "cost_basis"), ("gain", "gain"))}

    parts = [(title, [row(d) for d in rows], subtotal(rows))
             for title, rows in (("Part I — short-term (held one year or less)", summary.short_term),
                                 ("Part II — long-term (held more than one year)", summary.long_term),
                                 ("Pooled or mixed holding periods", summary.various_term)) if rows]
    html = render_to_string("reporting/tax_report_pdf.html", {
        "summary": summary, "method_name": METHOD_NAMES[summary.method], "parts": parts,
        "totals": [{"year": t.year, "proceeds": format_fiat(t.proceeds), "cost": format_fiat(t.cost_basis),
                    "gains": format_fiat(t.gains), "losses": format_fiat(t.losses), "net": format_fiat(t.net)}
                   for t in summary.totals],
        "gains": format_fiat(summary.total_gains), "losses": format_fiat(summary.total_losses),
        "net": format_fiat(summary.total_gains - summary.total_losses), "income_total": format_fiat(summary.total_income),
        "income": [{"date": e.date.isoformat(), "asset": e.asset, "quantity": format_quantity(e.quantity),
                    "value": format_fiat(e.value), "label": e.label} for e in summary.income],
    })
    return HTML(string=html).write_pdf()
