"""The one rounding rule of payroll, and the engine's error type."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Exact intermediate arithmetic: 80 significant digits, far beyond any salary times any rate.
EXACT = Context(prec=80)


class PayrollError(ValueError):
    """Input the engine cannot compute with: `code` (a short snake_case reason), `message`, `details`."""

    def __init__(self, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details or {}


def to_money(value, field: str = "amount", *, allow_negative: bool = False) -> Decimal:
    """A Decimal from a Decimal, an int or a numeric string; floats (inexact) and NaN are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise PayrollError("invalid_amount", f"{field}: a Decimal, an int or a string, never a float.",
                           {"field": field})
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip() if value is not None else "0")
    except (InvalidOperation, ValueError):
        raise PayrollError("invalid_amount", f"{field}: not a number.", {"field": field}) from None
    if not number.is_finite():
        raise PayrollError("invalid_amount", f"{field}: not a finite number.", {"field": field})
    if number < 0 and not allow_negative:
        raise PayrollError("invalid_amount", f"{field}: must not be negative.", {"field": field})
    return number


def cents(amount: Decimal) -> Decimal:
    """THE rounding of payroll: half-even to whole cents. Called once per payslip line."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN, context=EXACT)
