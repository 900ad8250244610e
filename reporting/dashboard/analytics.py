"""Analytics over a custom period: time series and breakdowns, and the same data as CSV and XLSX.

`analytics_for(actor, start=, end=, interval=)` reads what the actor may see once (the dashboard's read:
reporting.portfolio, the engine run once) and answers, per bucket (day, ISO week from Monday, calendar
month; each bucket named by its first day, clipped to the period):
- `portfolio_value`: the holdings' value at the end of the bucket (wallets.portfolio.value_series);
- `inflows` / `outflows`: money put in and taken out (the portfolio's flow movements at their recorded
  fiat value, else the day's price), also split by asset and by category (`flows_by_asset`,
  `flows_by_category`);
- `fees`: fees paid (a fiat fee as it is, a crypto fee at the day's price);
- `realized_gains`: the engine's disposals (gains less losses), `income`: the engine's income events.
Breakdowns over the whole period by asset, wallet, category and counterparty (the other address of
the stored transaction). Categories: the transaction's tax category, else its classification, else
its type.

Bad periods are 422: end before start, end in the future (the organization's today), more than
`MAX_YEARS` years.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from core.errors import ErrorCode, InvalidInput
from core.money import ZERO
from core.spreadsheets import csv_text, safe_workbook
from reporting.dashboard.selectors import _fee_value, dashboard_data_for
from reporting.portfolio import movements_of
from wallets.portfolio import value_series
from wallets.selectors import wallet_list_for

INTERVALS = ("day", "week", "month")
MAX_YEARS = 5
UNKNOWN = "(unknown)"
FLOW_IN, FLOW_OUT = "IN", "OUT"


# --- buckets (pure) ------------------------------------------------------------------------------------
def bucket_of(day: dt.date, interval: str) -> dt.date:
    if interval == "day":
        return day
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown interval {interval!r}")


def buckets(start: dt.date, end: dt.date, interval: str) -> list[tuple[dt.date, dt.date]]:
    """(first day, last day) of each bucket meeting [start, end], clipped to it."""
    found, day = [], start
    while day <= end:
        first = bucket_of(day, interval)
        if interval == "day":
            following = first + dt.timedelta(days=1)
        elif interval == "week":
            following = first + dt.timedelta(days=7)
        else:
            following = (first + dt.timedelta(days=32)).replace(day=1)
        found.append((max(first, start), min(following - dt.timedelta(days=1), end)))
        day = following
    return found


def period_check(start: dt.date, end: dt.date, *, today: dt.date) -> None:
    if end < start:
        raise InvalidInput(ErrorCode.INVALID_RANGE, "The end date is before the start date.",
                           {"start": str(start), "end": str(end)})
    if end > today:
        raise InvalidInput(ErrorCode.INVALID_RANGE, "The end date cannot be in the future.",
                           {"end": str(end), "today": str(today)})
    try:
        limit = start.replace(year=start.year + MAX_YEARS)
    except ValueError:  # 29 February
        limit = start.replace(year=start.year + MAX_YEARS, day=28)
    if end >= limit:
        raise InvalidInput(ErrorCode.RANGE_TOO_LONG, f"Ask for at most {MAX_YEARS} years.",
                           {"max_years": MAX_YEARS, "start": str(start), "end": str(end)})


# --- the read --------------------------------------------------------------------------------------------
def _category(sources: list) -> str:
    for tx in sources:
        label = tx.tax_category or tx.ai_category
        if label:
            return label
    return sources[0].transaction_type if sources else UNKNOWN


def _counterparty(sources: list, kind: str, own: set[str]) -> str:
    for tx in sources:
        other = tx.to_address if kind == FLOW_OUT else tx.from_address
        if other and other.lower() not in own:
            return other
    return UNKNOWN


def _add(table: dict, key, inflow: Decimal, outflow: Decimal) -> None:
    row = table.setdefault(key, {"inflow": ZERO, "outflow": ZERO, "count": 0})
    row["inflow"] += inflow
    row["outflow"] += outflow
    row["count"] += 1


def analytics_for(actor, *, start: dt.date, end: dt.date, interval: str = "day") -> dict:
    if interval not in INTERVALS:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, f"interval is one of {', '.join(INTERVALS)}.", {"interval": interval})
    data = dashboard_data_for(actor)
    today = data.today
    period_check(start, end, today=today)
    book = data.book()
    spans = buckets(start, end, interval)
    firsts = [first for first, _ in spans]
    wallets = dict(wallet_list_for(actor).values_list("address", "name"))
    own = {address.lower() for address in wallets}

    def bucket(day: dt.date) -> dt.date:
        return max(bucket_of(day, interval), start)

    series = {first: {"bucket": first, "inflows": ZERO, "outflows": ZERO, "fees": ZERO, "realized_gains": ZERO,
                      "income": ZERO} for first in firsts}
    by_asset_series: dict = {}
    by_category_series: dict = {}
    breakdowns = {"asset": {}, "wallet": {}, "category": {}, "counterparty": {}}
    for trade, sources in zip(data.trades, data.sources):
        day = trade.date.date()
        if not start <= day <= end:
            continue
        key = bucket(day)
        category = _category(sources)
        fee = _fee_value(trade, data.fiat, book)
        if fee:
            series[key]["fees"] += fee
        for move in movements_of(trade, data.fiat):
            if move["kind"] not in (FLOW_IN, FLOW_OUT):
                continue
            worth = move["value"]
            if worth is None:
                price = book.on(move["asset"], day)
                worth = move["quantity"] * price if price is not None else None
            if worth is None:
                continue
            inflow, outflow = (worth, ZERO) if move["kind"] == FLOW_IN else (ZERO, worth)
            series[key]["inflows"] += inflow
            series[key]["outflows"] += outflow
            _add(by_asset_series, (key, move["asset"]), inflow, outflow)
            _add(by_category_series, (key, category), inflow, outflow)
            _add(breakdowns["asset"], move["asset"], inflow, outflow)
            _add(breakdowns["wallet"], wallets.get(move["wallet"], move["wallet"] or UNKNOWN), inflow, outflow)
            _add(breakdowns["category"], category, inflow, outflow)
            _add(breakdowns["counterparty"], _counterparty(sources, move["kind"], own), inflow, outflow)
    result, problems = data.costed()
    uncosted = {asset for problem in problems for asset in problem["assets"]}
    for disposal in result.disposals:
        if start <= disposal.date_disposed <= end and disposal.asset not in uncosted:
            series[bucket(disposal.date_disposed)]["realized_gains"] += disposal.gain
    for event in result.income:
        if start <= event.date <= end:
            series[bucket(event.date)]["income"] += event.value
    values = value_series(data.movements, [last for _, last in spans], book, today=today)
    for (first, _), point in zip(spans, values):
        series[first]["portfolio_value"] = point["value"]
        series[first]["unpriced"] = point["unpriced"]

    def flows(table: dict, name: str) -> list[dict]:
        return [{"bucket": key, name: label, "inflow": row["inflow"], "outflow": row["outflow"]}
                for (key, label), row in sorted(table.items(), key=lambda item: (item[0][0], str(item[0][1])))]

    def breakdown(table: dict) -> list[dict]:
        return [{"name": name, "inflow": row["inflow"], "outflow": row["outflow"],
                 "net": row["inflow"] - row["outflow"], "count": row["count"]}
                for name, row in sorted(table.items(), key=lambda item: (-(item[1]["inflow"] + item[1]["outflow"]),
                                                                         str(item[0])))]

    return {
        "fiat": data.fiat, "start": start, "end": end, "interval": interval,
        "series": [series[first] for first in firsts],
        "flows_by_asset": flows(by_asset_series, "asset"),
        "flows_by_category": flows(by_category_series, "category"),
        "breakdowns": {name: breakdown(table) for name, table in breakdowns.items()},
    }


# --- exports -----------------------------------------------------------------------------------------
SERIES_COLUMNS = ("bucket", "portfolio_value", "inflows", "outflows", "fees", "realized_gains", "income")
BREAKDOWN_COLUMNS = ("name", "inflow", "outflow", "net", "count")


def _tables(analytics: dict) -> list[tuple[str, tuple, list[list]]]:
    """(title, header, rows) of every table of the analytics answer: the same data as the JSON."""
    tables = [("Series", SERIES_COLUMNS, [[row[c] for c in SERIES_COLUMNS] for row in analytics["series"]]),
              ("Flows by asset", ("bucket", "asset", "inflow", "outflow"),
               [[r["bucket"], r["asset"], r["inflow"], r["outflow"]] for r in analytics["flows_by_asset"]]),
              ("Flows by category", ("bucket", "category", "inflow", "outflow"),
               [[r["bucket"], r["category"], r["inflow"], r["outflow"]] for r in analytics["flows_by_category"]])]
    for name, rows in analytics["breakdowns"].items():
        tables.append((f"By {name}", BREAKDOWN_COLUMNS, [[r[c] for c in BREAKDOWN_COLUMNS] for r in rows]))
    return tables


def _text(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def analytics_csv(analytics: dict) -> str:
    """One CSV: a `table` column first, then each table's header row and rows (every cell made safe)."""
    rows: list[list] = [["fiat", analytics["fiat"], "start", _text(analytics["start"]), "end",
                         _text(analytics["end"]), "interval", analytics["interval"]]]
    for title, header, body in _tables(analytics):
        rows.append(["table", *header])
        rows += [[title, *[_text(cell) for cell in row]] for row in body]
    return csv_text(rows)


def analytics_xlsx(analytics: dict) -> bytes:
    """One sheet per table; amounts are numeric cells (Decimal), dates date cells."""
    # Imported on use: openpyxl takes ~0.6 s to import, paid by every process otherwise.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for title, header, body in _tables(analytics):
        sheet = book.create_sheet(title[:31])
        sheet.append(list(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in body:
            sheet.append([cell if isinstance(cell, (Decimal, int, dt.date)) else str(cell) for cell in row])
    safe_workbook(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
