"""Prices by day, the value of holdings over time and their performance, from plain movements (pure
Python, no Django). Cost basis and realised P&L are not computed here: they come from the books'
cost-basis engine (ledger.cost_basis, read by reporting.portfolio).

A movement is a dict: kind, asset, quantity (positive), value (its fiat value or None: then the
day's price), date (aware datetime) and day (its calendar day in the organization's time zone).
Kinds:
- flows, money put in or taken out: BUY, INCOME, IN (+) and SELL, EXPENSE, OUT (-);
- LOSS (-): units that leave without money coming back (a fee paid in crypto, lost coins): a loss
  in the performance, not a withdrawal;
- MOVE_IN (+) / MOVE_OUT (-): a transfer between two wallets of the same holder, no flow.
Only confirmed transactions are movements: pending ones are not held yet."""

from __future__ import annotations

import bisect
import datetime as dt
from decimal import Decimal

FLOW_SIGNS = {"BUY": 1, "INCOME": 1, "IN": 1, "SELL": -1, "EXPENSE": -1, "OUT": -1}
SIGNS = {**FLOW_SIGNS, "LOSS": -1, "MOVE_IN": 1, "MOVE_OUT": -1}
MICROSECOND = dt.timedelta(microseconds=1)


class PriceBook:
    """Prices of assets by day from plain rows, with carry-forward: the price of an asset on a day
    is that day's price, else the newest earlier one (markets close every day; the store may not)."""

    def __init__(self, daily: list[tuple[str, dt.date, Decimal]], latest: dict[str, Decimal] | None = None):
        by_asset: dict[str, dict[dt.date, Decimal]] = {}
        for asset, day, price in daily:
            by_asset.setdefault(asset, {}).setdefault(day, price)  # the first row of a day wins
        self._days = {asset: sorted(prices) for asset, prices in by_asset.items()}
        self._prices = by_asset
        self._latest = dict(latest or {})

    def on(self, asset: str, day: dt.date) -> Decimal | None:
        days = self._days.get(asset)
        if not days:
            return None
        index = bisect.bisect_right(days, day)
        return self._prices[asset][days[index - 1]] if index else None

    def current(self, asset: str) -> Decimal | None:
        """The latest quote, else the newest daily price."""
        if asset in self._latest:
            return self._latest[asset]
        days = self._days.get(asset)
        return self._prices[asset][days[-1]] if days else None


def _signed(move: dict) -> Decimal:
    return SIGNS[move["kind"]] * move["quantity"]


def value_series(movements: list[dict], days: list[dt.date], book: PriceBook,
                 today: dt.date | None = None) -> list[dict]:
    """Value of the holdings at the end of each day: quantity held after that day's movements (each
    movement has `day`) times the day's price. `today`'s point uses the current price. Assets
    without a price that day are listed in `unpriced`, not counted as zero."""
    ordered = sorted((m for m in movements if m["kind"] in SIGNS), key=lambda move: move["day"])
    quantities: dict[str, Decimal] = {}
    index, points = 0, []
    for day in days:
        while index < len(ordered) and ordered[index]["day"] <= day:
            move = ordered[index]
            quantities[move["asset"]] = quantities.get(move["asset"], Decimal(0)) + _signed(move)
            index += 1
        value, unpriced = Decimal(0), []
        for asset, quantity in sorted(quantities.items()):
            if not quantity:
                continue
            price = book.current(asset) if day == today else book.on(asset, day)
            if price is None:
                unpriced.append(asset)
            else:
                value += quantity * price
        points.append({"date": day, "value": value, "unpriced": unpriced})
    return points


def window_performance(movements: list[dict], book: PriceBook, *, start: dt.datetime | None,
                       end: dt.datetime) -> dict:
    """P&L and ROI of the holdings between `start` (None: since the first movement) and `end`.

        P&L = V_end - V_start - (inflows - outflows)
        ROI = P&L / (V_start + sum(w_i * F_i)),  w_i = (end - t_i) / (end - start)

    V_start: quantities held before `start` at the price of start's day; V_end: quantities held at
    `end` at the current price. Flows F_i are the flow movements during the window (money put in: +,
    taken out: -) at their recorded fiat value, else quantity times that day's price. So money put in
    or taken out is not counted as gain or loss; a LOSS (a fee paid in crypto) is. The ROI
    denominator is the Modified Dietz average capital (each flow weighted by the share of the window
    it was invested); no ROI when that capital is not positive. An asset missing a price it needs
    (at start, now, or for a flow) is listed in `unpriced` and left out of every figure."""
    movements = [m for m in movements if m["kind"] in SIGNS]
    in_window = [m for m in movements if m["date"] <= end and (start is None or m["date"] >= start)]
    before = [m for m in movements if start is not None and m["date"] < start]
    if start is None:
        start = min((m["date"] for m in in_window), default=end)
    length = (end - start) // MICROSECOND  # exact integers: the Dietz weights stay Decimal
    assets = sorted({m["asset"] for m in in_window} | {m["asset"] for m in before})
    totals = {"start_value": Decimal(0), "end_value": Decimal(0), "inflows": Decimal(0), "outflows": Decimal(0)}
    weighted_flows = Decimal(0)
    unpriced = []
    for asset in assets:
        held_before = sum((_signed(m) for m in before if m["asset"] == asset), Decimal(0))
        moves = [m for m in in_window if m["asset"] == asset]
        held_after = held_before + sum((_signed(m) for m in moves), Decimal(0))
        start_price = book.on(asset, start.date()) if held_before else Decimal(0)
        end_price = book.current(asset) if held_after else Decimal(0)
        flow_values = []
        for move in moves:
            if move["kind"] not in FLOW_SIGNS:
                continue
            value = move.get("value")
            if value is None:
                price = book.on(asset, move["day"])
                value = move["quantity"] * price if price is not None else None
            flow_values.append((move, value))
        if start_price is None or end_price is None or any(value is None for _, value in flow_values):
            unpriced.append(asset)
            continue
        totals["start_value"] += held_before * start_price
        totals["end_value"] += held_after * end_price
        for move, value in flow_values:
            sign = FLOW_SIGNS[move["kind"]]
            totals["inflows" if sign > 0 else "outflows"] += value
            weight = Decimal((end - move["date"]) // MICROSECOND) / length if length > 0 else Decimal(1)
            weighted_flows += sign * value * weight
    net_flows = totals["inflows"] - totals["outflows"]
    pnl = totals["end_value"] - totals["start_value"] - net_flows
    capital = totals["start_value"] + weighted_flows
    roi = (pnl / capital * 100).quantize(Decimal("0.01")) if capital > 0 else None
    return {"start": start, "end": end, **totals, "net_flows": net_flows, "pnl": pnl, "roi_percent": roi,
            "unpriced": unpriced}
