"""`{{ amount|money }}`: a Decimal as plain digits (never 1E+3), at least 2 decimals, no trailing zeros beyond."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return ""
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    text = f"{amount:,f}"
    if "." in text:
        text = text.rstrip("0")
        whole, _, decimals = text.partition(".")
        text = f"{whole}.{decimals.ljust(2, '0')}"
    else:
        text = f"{text}.00"
    return text
