"""core.money (the one money module), the API's amount type and the `money` template filters."""

import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.template import Context, Template
from ninja import Schema

from core import money
from core.jsonapi.types import Amount, FiatAmount


# --- plain (the machine form) --------------------------------------------------------------------

@pytest.mark.parametrize("value, places, printed", [
    (D("0E-17"), None, "0"),
    (D("1E+1"), None, "10"),
    (D("20.000000000000000000"), None, "20"),
    (D("-0.0"), None, "0"),
    (D("-1.50"), None, "-1.5"),
    (D("0.000000000000000001"), 18, "0.000000000000000001"),
    (D("181.8181818181818181818181818"), 8, "181.81818182"),
    (D("12345678901234567.123456789012345678"), None, "12345678901234567.123456789012345678"),  # 35 digits
    ("2.5", None, "2.5"),
    (3, None, "3"),
])
def test_plain_is_plain_notation_trimmed(value, places, printed):
    assert money.plain(value, places) == printed


def test_plain_of_none_is_none():
    assert money.plain(None) is None


# --- quantize -------------------------------------------------------------------------------------

def test_quantize_fiat_is_half_even_to_the_currency_digits():
    assert money.quantize_fiat(D("0.125"), "USD") == D("0.12")
    assert money.quantize_fiat(D("0.135"), "USD") == D("0.14")
    assert money.quantize_fiat(D("1234.5"), "JPY") == D("1234")
    assert money.quantize_fiat(D("1235.5"), "KRW") == D("1236")
    assert str(money.quantize_fiat(D("-0.001"), "EUR")) == "0.00"  # never "-0.00"
    assert money.quantize_fiat(None, "USD") is None


def test_quantize_asset_and_digits():
    assert money.quantize_asset(D("1.0000000000000000005"), 18) == D("1.000000000000000000")
    assert money.quantize_asset(D("1.25"), 1) == D("1.2")
    assert money.fiat_digits("JPY") == 0 and money.fiat_digits("usd") == 2 and money.fiat_digits(None) == 2


def test_stored_precisions_are_the_models():
    from ledger.models import MONEY
    from wallets.models import Transaction

    assert MONEY == money.FIAT_AMOUNT == {"max_digits": 34, "decimal_places": 8}
    field = Transaction._meta.get_field("amount")
    assert (field.max_digits, field.decimal_places) == (34, money.TOKEN_DECIMALS)


# --- human forms ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, fiat, locale, printed", [
    (D("1234567.125"), "USD", "en_US", "$1,234,567.12"),
    (D("-1234.5"), "USD", "en_US", "-$1,234.50"),
    (D("1234.5"), "JPY", "en_US", "¥1,234"),
    (D("1234.5"), "EUR", "de_DE", "1.234,50\xa0€"),
    (D("0E-17"), "USD", "en_US", "$0.00"),
    (D("-0.001"), "USD", "en_US", "$0.00"),
    ("5", "USD", "xx_NOPE", "$5.00"),  # an unknown locale falls back to the default
])
def test_format_fiat(value, fiat, locale, printed):
    assert money.format_fiat(value, fiat, locale) == printed


def test_format_fiat_without_symbol_and_none():
    assert money.format_fiat(D("1234.555"), "USD", symbol=False) == "1,234.56"
    assert money.format_fiat(D("1234.5"), "JPY", symbol=False) == "1,234"
    assert money.format_fiat(None, "USD") == ""


def test_format_quantity():
    assert money.format_quantity(D("1E+1"), "ETH") == "10 ETH"
    assert money.format_quantity(D("1234.500000000000000000"), "USDC") == "1,234.5 USDC"
    assert money.format_quantity(D("-0.000000000000000001")) == "-0.000000000000000001"
    assert money.format_quantity(D("0E-17"), "ETH") == "0 ETH"
    assert money.format_quantity(D("1.23456"), "XYZ", places=2) == "1.23 XYZ"
    assert money.format_quantity(None, "ETH") == ""


def test_money_module_imports_no_django():
    root = Path(__file__).resolve().parents[2]
    code = "import sys, core.money; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the API's amount type ------------------------------------------------------------------------

class _Out(Schema):
    quantity: Amount
    value: FiatAmount | None
    fee: Amount | None = None


def test_api_amounts_are_plain_strings_trimmed_to_the_stored_precision():
    out = _Out(quantity=D("20.000000000000000000"), value=D("181.8181818181818181818181818"), fee=D("0E-17"))
    assert out.model_dump() == {"quantity": "20", "value": "181.81818182", "fee": "0"}
    assert _Out(quantity=D("1E+1"), value=None).model_dump_json() == '{"quantity":"10","value":null,"fee":null}'
    assert _Out.model_json_schema(mode="serialization")["properties"]["quantity"]["type"] == "string"


def test_api_amount_round_trip():
    dumped = _Out(quantity=D("0.000000000000000001"), value=D("-12.5")).model_dump(mode="json")
    again = _Out.model_validate(dumped)
    assert again.quantity == D("0.000000000000000001") and again.value == D("-12.5")


# --- the template filters -------------------------------------------------------------------------

def _render(text: str, **context) -> str:
    return Template("{% load money %}" + text).render(Context(context))


def test_template_filters():
    assert _render("{{ v|fiat:'USD' }}", v=D("1234.5")) == "$1,234.50"
    assert _render("{{ v|fiat_number:c }}", v=D("-1234567.005"), c="USD") == "-1,234,567.00"
    assert _render("{{ v|fiat_number:'JPY' }}", v="1234.5") == "1,234"
    assert _render("{{ v|quantity:'ETH' }}", v=D("1E+1")) == "10 ETH"
    assert _render("{{ v|quantity }}", v=D("0.500000000000000000")) == "0.5"
    assert _render("[{{ v|fiat:'USD' }}][{{ v|quantity }}]", v=None) == "[][]"
    assert _render("{{ v|fiat:'USD'|default:'—' }}", v=None) == "—"
    assert _render("{{ v|fiat:'USD' }}", v="not a number") == ""


def test_old_ledger_format_library_still_works():
    assert Template("{% load ledger_format %}{{ v|money }}").render(Context({"v": D("1234.5")})) == "1,234.50"
