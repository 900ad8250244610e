"""Portfolio positions with average cost, from plain movements (pure Python, no Django).

Average cost: acquisitions (buys, income, transfers in) add quantity and cost; disposals (sells,
expenses, transfers out) remove quantity and the proportional share of cost. Transfers between the
owner's own wallets are not movements here."""

from __future__ import annotations

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
