"""`{% load money %}`: the one way templates print amounts (core.money, Babel's locale data).

- `{{ amount|fiat:currency }}`: "$1,234.50" (the currency's digits, half-even, separators, symbol).
- `{{ amount|fiat_number:currency }}`: "1,234.50", for tables whose heading names the currency.
- `{{ amount|quantity }}` / `{{ amount|quantity:"ETH" }}`: "1,234.5" / "10 ETH" (every stored decimal,
  trailing zeros trimmed, never an exponent).
None or "" prints nothing (`|default:"—"` to show a dash).
"""

from __future__ import annotations

from django import template
from django.utils import translation

from core import money

register = template.Library()


def _locale() -> str:
    """The active language as a Babel locale ("en-us" -> "en_US"), else the default."""
    language = translation.get_language()
    return translation.to_locale(language) if language else money.DEFAULT_LOCALE


def _safe(render, *args, **kwargs) -> str:
    try:
        return render(*args, locale=_locale(), **kwargs)
    except ValueError:  # not a number: printed as nothing, never a 500 (an unknown locale falls back)
        return ""


@register.filter
def fiat(value, currency: str = "USD") -> str:
    return _safe(money.format_fiat, value, currency or "USD")


@register.filter
def fiat_number(value, currency: str = "USD") -> str:
    return _safe(money.format_fiat, value, currency or "USD", symbol=False)


@register.filter
def quantity(value, asset: str = "") -> str:
    return _safe(money.format_quantity, value, asset or None)
