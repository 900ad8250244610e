"""Kept for old templates: `{% load ledger_format %}` gives the filters of `{% load money %}`
(core/templatetags/money.py), and `{{ amount|money }}` is `fiat_number` (2 decimals, separators)."""

from core.templatetags.money import fiat_number, register

register.filter("money", fiat_number)
