"""Money: the one place for amounts' constants, rounding and printing. Pure Python (no Django), so the
pure engines (ledger.cost_basis, reporting.statements) import it too.

- Stored precisions: crypto quantities keep 18 decimals (wei), fiat values 8 decimals inside; nothing is
  rounded when stored or summed.
- `quantize_fiat` rounds half-even to the currency's minor units (cents; 0 places for JPY/KRW) and
  `quantize_asset` to an asset's decimals.
- `plain` is the machine form (the API, CSV): plain notation, never an exponent, trailing zeros trimmed.
- `format_fiat` / `format_quantity` are the human form (pages, emails, notifications): locale-aware
  separators and currency symbols from Babel.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from functools import lru_cache

from babel.core import Locale as _babel_locale
from babel.core import UnknownLocaleError as _UnknownLocaleError
from babel.numbers import format_currency as _babel_currency
from babel.numbers import format_decimal as _babel_decimal
from babel.numbers import get_currency_precision as _babel_currency_precision

ZERO = Decimal(0)
CENT = Decimal("0.01")

MAX_DIGITS = 34
TOKEN_DECIMALS = 18  # wei: the smallest unit of ETH and of the ERC-20 tokens tracked
FIAT_DECIMALS = 8  # fiat values and prices keep 8 decimals inside; rounded only when printed
FIAT_INTEGER_DIGITS = MAX_DIGITS - FIAT_DECIMALS

# DecimalField specs (`models.DecimalField(**TOKEN_AMOUNT)`).
TOKEN_AMOUNT = {"max_digits": MAX_DIGITS, "decimal_places": TOKEN_DECIMALS}
FIAT_AMOUNT = {"max_digits": MAX_DIGITS, "decimal_places": FIAT_DECIMALS}

# Wide enough that no sum or rounding of stored amounts is ever rounded first by the context
# (the default context keeps 28 significant digits; a stored amount has up to 34).
EXACT = Context(prec=80)

DEFAULT_LOCALE = "en_US"


def to_decimal(value) -> Decimal | None:
    """A Decimal from a Decimal, int, str or float (through its str); None and "" stay None."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a decimal number: {value!r}") from None


def fiat_digits(fiat: str | None) -> int:
    """The currency's minor-unit digits: 2 for USD/EUR, 0 for JPY/KRW (Babel's CLDR data)."""
    code = (fiat or "").strip().upper()
    if not code:
        return 2
    return _babel_currency_precision(code)


def _quantize(amount: Decimal, places: int, rounding: str) -> Decimal:
    with localcontext(EXACT):
        rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=rounding)
    return rounded if rounded else abs(rounded)  # never "-0.00"


def quantize_fiat(amount, fiat: str | None = "USD", *, rounding: str = ROUND_HALF_EVEN) -> Decimal | None:
    """Half-even to the currency's minor units (cents; whole units for JPY/KRW). None stays None."""
    value = to_decimal(amount)
    return None if value is None else _quantize(value, fiat_digits(fiat), rounding)


def quantize_asset(amount, decimals: int = TOKEN_DECIMALS, *, rounding: str = ROUND_HALF_EVEN) -> Decimal | None:
    """Half-even to the asset's decimals (18 for ETH). None stays None."""
    value = to_decimal(amount)
    return None if value is None else _quantize(value, decimals, rounding)


def is_quantized(amount: Decimal, places: int) -> bool:
    """True when `amount` has no more than `places` decimals (exactly: never rounded by the context)."""
    with localcontext(EXACT):
        return amount == amount.quantize(Decimal(1).scaleb(-places))


def plain(amount, places: int | None = None) -> str | None:
    """The machine form: plain notation (never an exponent: `0E-17` -> "0", `1E+1` -> "10"), rounded
    half-even to `places` when given, trailing zeros trimmed. None stays None."""
    value = to_decimal(amount)
    if value is None:
        return None
    if places is not None:
        value = _quantize(value, places, ROUND_HALF_EVEN)
    if not value:
        return "0"
    with localcontext(EXACT):
        return format(value.normalize(), "f")


@lru_cache(maxsize=64)
def _locale(locale: str | None) -> str:
    """A locale Babel knows ("en-us" and "en_US" alike), else the default (never an error)."""
    name = (locale or DEFAULT_LOCALE).replace("-", "_")
    try:
        _babel_locale.parse(name)
    except (ValueError, TypeError, _UnknownLocaleError):
        return DEFAULT_LOCALE
    return name


def format_fiat(amount, fiat: str | None = "USD", locale: str | None = DEFAULT_LOCALE, *, symbol: bool = True) -> str:
    """The human form of a fiat amount: the currency's digits (2; 0 for JPY), half-even, thousands
    separators and (with `symbol`) the currency symbol of the locale: "$1,234.50", "-€5.00", "¥1,235".
    `symbol=False` prints the number only ("1,234.50"), for tables whose heading names the currency.
    None prints as ""."""
    rounded = quantize_fiat(amount, fiat)
    if rounded is None:
        return ""
    digits = fiat_digits(fiat)
    code = (fiat or "").strip().upper()
    with localcontext(EXACT):
        if symbol and code:
            return _babel_currency(rounded, code, locale=_locale(locale), currency_digits=True)
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return _babel_decimal(rounded, format=pattern, locale=_locale(locale))


def format_quantity(amount, asset=None, locale: str | None = DEFAULT_LOCALE, *, places: int | None = None) -> str:
    """The human form of a crypto quantity: every stored decimal (trimmed of trailing zeros, rounded
    to `places` or the asset's `decimals` when known), thousands separators, then the symbol:
    "10 ETH", "1,234.5 USDC". `asset` is a symbol, an object with `symbol` (and `decimals`), or None.
    None prints as ""."""
    value = to_decimal(amount)
    if value is None:
        return ""
    symbol = getattr(asset, "symbol", asset) or ""
    if places is None:
        places = getattr(asset, "decimals", None)
    if places is not None:
        value = _quantize(value, places, ROUND_HALF_EVEN)
    if not value:
        value = ZERO
    with localcontext(EXACT):
        value = value.normalize()
        text = _babel_decimal(value, locale=_locale(locale), decimal_quantization=False)
    return f"{text} {symbol}" if symbol else text
