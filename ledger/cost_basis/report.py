"""Period filters, yearly totals and the printed (CSV) form of a Result."""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from .model import METHODS, Disposal, Expense, IncomeEvent, Result, TradeError, YearTotal

DISPOSAL_CSV_HEADER = ["asset", "quantity", "date_acquired", "date_disposed", "proceeds", "cost_basis", "gain", "term"]
TOTALS_CSV_HEADER = ["year", "proceeds", "cost_basis", "gains", "losses", "net"]
CENT = Decimal("0.01")
ZERO = Decimal(0)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TradeError(f"expected a date, got {value!r}")


def disposals_in(result: Result, start, end) -> list[Disposal]:
    """Disposals dated `start` to `end`, both inclusive, out of a computation over the whole history."""
    start, end = _as_date(start), _as_date(end)
    return [d for d in result.disposals if start <= d.date_disposed <= end]


def income_in(result: Result, start, end) -> list[IncomeEvent]:
    start, end = _as_date(start), _as_date(end)
    return [event for event in result.income if start <= event.date <= end]


def expenses_in(result: Result, start, end) -> list[Expense]:
    """Fiat fees that are no capital item (Result.expenses) dated `start` to `end`, both inclusive."""
    start, end = _as_date(start), _as_date(end)
    return [expense for expense in result.expenses if start <= expense.date <= end]


def tax_year(day: date, method: str) -> int:
    """Calendar year; for `uk` the tax year 6 April - 5 April, named by the year it starts in."""
    if method == "uk":
        return day.year if (day.month, day.day) >= (4, 6) else day.year - 1
    return day.year


def totals_by_year(disposals: Iterable[Disposal], *, method: str) -> list[YearTotal]:
    if method not in METHODS:
        raise TradeError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    with decimal.localcontext(decimal.Context(prec=50, rounding=decimal.ROUND_HALF_EVEN)):  # full precision (rule 7)
        return _totals(disposals, method)


def _totals(disposals: Iterable[Disposal], method: str) -> list[YearTotal]:
    years: dict[int, list[Decimal]] = {}
    for disposal in disposals:
        sums = years.setdefault(tax_year(disposal.date_disposed, method), [ZERO, ZERO, ZERO, ZERO])
        sums[0] += disposal.proceeds
        sums[1] += disposal.cost_basis
        if disposal.gain > 0:
            sums[2] += disposal.gain
        elif disposal.gain < 0:
            sums[3] -= disposal.gain
    return [YearTotal(year, p, c, g, loss, g - loss) for year, (p, c, g, loss) in sorted(years.items())]


def format_fiat(value: Decimal) -> str:
    """Half-even to cents, plain notation ("0.00" form, never an exponent, never "-0.00")."""
    with decimal.localcontext(decimal.Context(prec=100)):  # the caller's context must not round first
        rounded = Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)
    if not rounded:
        rounded = abs(rounded)
    return format(rounded, "f")


def format_quantity(value: Decimal) -> str:
    """Full precision, no exponent, no trailing zeros."""
    if not value:
        return "0"
    with decimal.localcontext(decimal.Context(prec=100)):  # normalize() would round to a 28-digit context
        return format(Decimal(value).normalize(), "f")


def _format_date(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


def disposal_csv_rows(result: Result | Iterable[Disposal]) -> list[list[str]]:
    """Header then one row per disposal (of a Result, or a list such as disposals_in's), for csv.writer."""
    disposals = result.disposals if isinstance(result, Result) else result
    rows = [list(DISPOSAL_CSV_HEADER)]
    for d in disposals:
        rows.append([
            d.asset, format_quantity(d.quantity), _format_date(d.date_acquired), _format_date(d.date_disposed),
            format_fiat(d.proceeds), format_fiat(d.cost_basis), format_fiat(d.gain), d.term,
        ])
    return rows


def totals_csv_rows(totals: Iterable[YearTotal]) -> list[list[str]]:
    rows = [list(TOTALS_CSV_HEADER)]
    for t in totals:
        rows.append([str(t.year), format_fiat(t.proceeds), format_fiat(t.cost_basis), format_fiat(t.gains),
                     format_fiat(t.losses), format_fiat(t.net)])
    return rows
