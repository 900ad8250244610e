"""Portfolio positions with average cost, from plain movements (pure Python, no Django).

Average cost: acquisitions (buys, income, transfers in) add quantity and cost; disposals (sells,
expenses, transfers out) remove quantity and the proportional share of cost. Transfers between the
owner's own wallets are not movements here."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

ACQUISITIONS = {"BUY", "INCOME", "IN"}
DISPOSALS = {"SELL", "EXPENSE", "OUT"}


@dataclass
class Position:
    asset: str
    quantity: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)  # total invested still held, in fiat

    @property
    def average_price(self) -> Decimal | None:
        return self.cost / self.quantity if self.quantity > 0 else None


def positions_from(movements: list[dict]) -> dict[str, Position]:
    """movements: dicts with kind (BUY, SELL, INCOME, EXPENSE, IN, OUT), asset, quantity, value
    (fiat value or None, known for acquisitions), in date order."""
    positions: dict[str, Position] = {}
    for move in movements:
        position = positions.setdefault(move["asset"], Position(move["asset"]))
        quantity = move["quantity"]
        if move["kind"] in ACQUISITIONS:
            position.quantity += quantity
            position.cost += move.get("value") or Decimal(0)
        elif move["kind"] in DISPOSALS and position.quantity > 0:
            share = min(quantity / position.quantity, Decimal(1))
            position.cost -= position.cost * share
            position.quantity -= quantity
        elif move["kind"] in DISPOSALS:
            position.quantity -= quantity
    return positions


def valued(positions: dict[str, Position], prices: dict[str, Decimal | None]) -> list[dict]:
    rows = []
    for asset, position in sorted(positions.items()):
        price = prices.get(asset)
        value = position.quantity * price if price is not None else None
        rows.append({
            "asset": asset, "quantity": position.quantity, "average_buy_price": position.average_price,
            "total_invested": position.cost, "current_price": price, "current_value": value,
            "unrealized_gain_loss": value - position.cost if value is not None else None,
        })
    return rows


# --- prices by day, value history, performance ------------------------------------------------------
SIGNS = {**{kind: 1 for kind in ACQUISITIONS}, **{kind: -1 for kind in DISPOSALS}}
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
    `end` at the current price. Flows F_i are movements from outside during the window (buys, income,
    transfers in: +; sells, expenses, transfers out: -) at their recorded fiat value, else quantity
    times that day's price. So money put in or taken out is not counted as gain or loss. The ROI
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
        flows = [m for m in in_window if m["asset"] == asset]
        held_after = held_before + sum((_signed(m) for m in flows), Decimal(0))
        start_price = book.on(asset, start.date()) if held_before else Decimal(0)
        end_price = book.current(asset) if held_after else Decimal(0)
        flow_values = []
        for move in flows:
            value = move.get("value")
            if value is None:
                price = book.on(asset, move["date"].date())
                value = move["quantity"] * price if price is not None else None
            flow_values.append((move, value))
        if start_price is None or end_price is None or any(value is None for _, value in flow_values):
            unpriced.append(asset)
            continue
        totals["start_value"] += held_before * start_price
        totals["end_value"] += held_after * end_price
        for move, value in flow_values:
            sign = SIGNS[move["kind"]]
            totals["inflows" if sign > 0 else "outflows"] += value
            weight = Decimal((end - move["date"]) // MICROSECOND) / length if length > 0 else Decimal(1)
            weighted_flows += sign * value * weight
    net_flows = totals["inflows"] - totals["outflows"]
    pnl = totals["end_value"] - totals["start_value"] - net_flows
    capital = totals["start_value"] + weighted_flows
    roi = (pnl / capital * 100).quantize(Decimal("0.01")) if capital > 0 else None
    return {"start": start, "end": end, **totals, "net_flows": net_flows, "pnl": pnl, "roi_percent": roi,
            "unpriced": unpriced}
