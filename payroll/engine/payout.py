"""Net fiat pay as a quantity of the payout asset, exact in the token's decimals (for the crypto
payout: the rate and its source are stored on the payslip)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from payroll.engine.rounding import EXACT, PayrollError, to_money


def token_amount(net_fiat: Decimal, rate: Decimal, decimals: int) -> tuple[Decimal, int]:
    """(quantity, base units): `net_fiat` / `rate` (fiat per whole token), rounded half-even to the
    token's `decimals`; base units = quantity x 10**decimals, an exact integer."""
    net_fiat, rate = to_money(net_fiat, "net"), to_money(rate, "rate")
    if rate <= 0:
        raise PayrollError("invalid_rate", "A conversion rate is positive.")
    if not 0 <= int(decimals) <= 36:
        raise PayrollError("invalid_decimals", "A token has 0 to 36 decimals.")
    quantity = EXACT.divide(net_fiat, rate).quantize(Decimal(1).scaleb(-int(decimals)), rounding=ROUND_HALF_EVEN,
                                                     context=EXACT)
    return quantity, int(quantity.scaleb(int(decimals), context=EXACT))
