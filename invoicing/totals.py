"""The totals of an invoice, pure (no Django): items in, exact Decimals out.

Rules (the one place amounts are rounded, half-even to the fiat's minor units via core.money):
- an item's `total` is quantity x unit price, rounded to the fiat's cents (it is printed);
- `subtotal` is the sum of the items' rounded totals (so the printed lines add up to it);
- tax: when any item carries its own `tax_rate`, the tax is per item (an item without a rate uses
  the invoice's rate) - the exact sum of every item's total x rate, rounded once; otherwise it is
  the subtotal x the invoice's rate, rounded once. Rates are percentages (20 = 20 %), 0..100;
- `total_amount` = subtotal + tax.
A credit note (`credit=True`) takes the same positive items and negates every amount.
Quantities are positive (a credit note, not a negative quantity, takes an amount back), unit
prices zero or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext

from core.money import EXACT, ZERO, quantize_fiat

MAX_ITEMS = 500
HUNDRED = Decimal(100)


class TotalsError(ValueError):
    """An item the engine refuses: `code` (an ErrorCode value), `message`, `details`."""

    def __init__(self, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details or {}


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal | None
    total: Decimal


@dataclass(frozen=True)
class Totals:
    lines: tuple[Line, ...]
    subtotal: Decimal
    tax_amount: Decimal
    total_amount: Decimal
    per_item_tax: bool


def _decimal(value, what: str, index: int) -> Decimal:
    if isinstance(value, float):
        value = str(value)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise TotalsError("invalid_items", f"Item {index + 1}: {what} is not a number.",
                          {"index": index, "field": what}) from None
    if not number.is_finite():
        raise TotalsError("invalid_items", f"Item {index + 1}: {what} is not a number.", {"index": index, "field": what})
    return number


def _rate(value, what: str, index: int | None) -> Decimal | None:
    if value is None or value == "":
        return None
    number = _decimal(value, what, index if index is not None else -1)
    if number < 0 or number > HUNDRED:
        where = f"Item {index + 1}: " if index is not None else ""
        raise TotalsError("invalid_items", f"{where}a tax rate is a percentage from 0 to 100.",
                          {"index": index, "field": what})
    return number


def cents(amount: Decimal, fiat: str) -> Decimal:
    """The one rounding of invoice amounts: half-even to the fiat's minor units."""
    return quantize_fiat(amount, fiat)


def compute(items, *, tax_rate=None, fiat: str = "USD", credit: bool = False) -> Totals:
    """`items`: mappings with description, quantity, unit_price and optionally tax_rate."""
    items = list(items or [])
    if not items:
        raise TotalsError("invalid_items", "An invoice needs at least one item.", {})
    if len(items) > MAX_ITEMS:
        raise TotalsError("invalid_items", f"At most {MAX_ITEMS} items.", {"count": len(items)})
    invoice_rate = _rate(tax_rate, "tax_rate", None) or ZERO
    lines, taxable = [], []
    per_item = any(item.get("tax_rate") not in (None, "") for item in items)
    with localcontext(EXACT):
        for index, item in enumerate(items):
            description = str(item.get("description") or "").strip()
            if not description:
                raise TotalsError("invalid_items", f"Item {index + 1}: a description is required.",
                                  {"index": index, "field": "description"})
            quantity = _decimal(item.get("quantity"), "quantity", index)
            unit_price = _decimal(item.get("unit_price"), "unit_price", index)
            if quantity <= 0:
                raise TotalsError("invalid_items", f"Item {index + 1}: the quantity must be more than zero.",
                                  {"index": index, "field": "quantity"})
            if unit_price < 0:
                raise TotalsError("invalid_items", f"Item {index + 1}: the unit price cannot be negative.",
                                  {"index": index, "field": "unit_price"})
            rate = _rate(item.get("tax_rate"), "tax_rate", index)
            total = cents(quantity * unit_price, fiat)
            lines.append(Line(description, quantity, unit_price, rate, total))
            taxable.append((total, rate if rate is not None else invoice_rate))
        subtotal = sum((line.total for line in lines), ZERO)
        if per_item:
            tax = cents(sum((total * rate / HUNDRED for total, rate in taxable), ZERO), fiat)
        else:
            tax = cents(subtotal * invoice_rate / HUNDRED, fiat)
        total_amount = subtotal + tax
    if credit:
        lines = [Line(line.description, line.quantity, line.unit_price, line.tax_rate, -line.total) for line in lines]
        subtotal, tax, total_amount = -subtotal, -tax, -total_amount
    return Totals(tuple(lines), cents(subtotal, fiat), cents(tax, fiat), cents(total_amount, fiat), per_item)


def crypto_amount(total: Decimal, rate: Decimal, *, decimals: int, places: int = 8) -> Decimal:
    """The crypto to ask for a fiat total at `rate` (fiat per unit): rounded half-even to `places`
    decimals (8, or the asset's decimals when fewer), so the amount is one a wallet can type."""
    if rate is None or rate <= 0:
        raise TotalsError("no_price", "No positive price for the asset.", {})
    with localcontext(EXACT):
        return (total / rate).quantize(Decimal(1).scaleb(-min(places, decimals)))
