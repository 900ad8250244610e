"""The pure totals engine: exact Decimals, one rounding (half-even to the fiat's cents), per-invoice
or per-item tax, credit notes negated, refusals with the item's index."""

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from invoicing.totals import TotalsError, compute, crypto_amount


def test_subtotal_tax_and_total_with_an_invoice_rate():
    totals = compute([{"description": "a", "quantity": "3", "unit_price": "19.99"},
                      {"description": "b", "quantity": "0.5", "unit_price": "100"}], tax_rate="20", fiat="USD")
    assert [line.total for line in totals.lines] == [Decimal("59.97"), Decimal("50.00")]
    assert totals.subtotal == Decimal("109.97")
    assert totals.tax_amount == Decimal("21.99")  # 21.994 -> 21.99
    assert totals.total_amount == Decimal("131.96")
    assert not totals.per_item_tax


def test_half_even_rounding_of_lines_and_tax():
    totals = compute([{"description": "a", "quantity": "1", "unit_price": "0.125"},
                      {"description": "b", "quantity": "1", "unit_price": "0.135"}], tax_rate="10")
    assert [line.total for line in totals.lines] == [Decimal("0.12"), Decimal("0.14")]
    assert totals.subtotal == Decimal("0.26") and totals.tax_amount == Decimal("0.03")  # 0.026 -> 0.03


def test_per_item_rates_are_summed_exactly_then_rounded_once():
    totals = compute([{"description": "food", "quantity": "1", "unit_price": "10.05", "tax_rate": "5"},
                      {"description": "tool", "quantity": "1", "unit_price": "10.05"}], tax_rate="20")
    # 10.05 x 5 % = 0.5025 and 10.05 x 20 % = 2.01: 2.5125 -> 2.51 (rounded once, not 0.50 + 2.01)
    assert totals.per_item_tax and totals.tax_amount == Decimal("2.51")
    assert totals.total_amount == Decimal("22.61")


def test_zero_decimal_currency():
    totals = compute([{"description": "a", "quantity": "3", "unit_price": "333.5"}], tax_rate="10", fiat="JPY")
    assert totals.subtotal == Decimal("1000") and totals.tax_amount == Decimal("100") and totals.total_amount == Decimal("1100")


def test_credit_note_negates_every_amount():
    totals = compute([{"description": "a", "quantity": "2", "unit_price": "50"}], tax_rate="20", credit=True)
    assert totals.lines[0].total == Decimal("-100.00")
    assert (totals.subtotal, totals.tax_amount, totals.total_amount) == (Decimal("-100.00"), Decimal("-20.00"),
                                                                         Decimal("-120.00"))


@pytest.mark.parametrize("items, field", [
    ([], None),
    ([{"description": "a", "quantity": "-1", "unit_price": "5"}], "quantity"),
    ([{"description": "a", "quantity": "0", "unit_price": "5"}], "quantity"),
    ([{"description": "a", "quantity": "1", "unit_price": "-5"}], "unit_price"),
    ([{"description": "", "quantity": "1", "unit_price": "5"}], "description"),
    ([{"description": "a", "quantity": "x", "unit_price": "5"}], "quantity"),
    ([{"description": "a", "quantity": "NaN", "unit_price": "5"}], "quantity"),
    ([{"description": "a", "quantity": "1", "unit_price": "5", "tax_rate": "101"}], "tax_rate"),
])
def test_refusals_name_the_item_and_field(items, field):
    with pytest.raises(TotalsError) as refused:
        compute(items)
    assert refused.value.code == "invalid_items"
    if field:
        assert refused.value.details == {"index": 0, "field": field}


def test_invoice_rate_out_of_range():
    with pytest.raises(TotalsError):
        compute([{"description": "a", "quantity": "1", "unit_price": "5"}], tax_rate="-1")


def test_crypto_amount_is_rounded_to_eight_places_or_the_assets_decimals():
    assert crypto_amount(Decimal("360.00"), Decimal("2500"), decimals=18) == Decimal("0.14400000")
    assert crypto_amount(Decimal("100"), Decimal("3"), decimals=18) == Decimal("33.33333333")
    assert crypto_amount(Decimal("100"), Decimal("3"), decimals=6) == Decimal("33.333333")
    with pytest.raises(TotalsError):
        crypto_amount(Decimal("1"), Decimal("0"), decimals=18)


money = st.decimals(min_value=Decimal("0"), max_value=Decimal("1000000"), places=4, allow_nan=False)
quantities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000"), places=4, allow_nan=False)
rates = st.one_of(st.none(), st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2, allow_nan=False))


@given(st.lists(st.tuples(quantities, money, rates), min_size=1, max_size=20), rates,
       st.sampled_from(["USD", "EUR", "JPY"]))
def test_properties(rows, invoice_rate, fiat):
    items = [{"description": f"i{n}", "quantity": q, "unit_price": p, "tax_rate": r} for n, (q, p, r) in enumerate(rows)]
    totals = compute(items, tax_rate=invoice_rate, fiat=fiat)
    places = 0 if fiat == "JPY" else 2
    for amount in (totals.subtotal, totals.tax_amount, totals.total_amount, *(line.total for line in totals.lines)):
        assert amount == amount.quantize(Decimal(1).scaleb(-places)) and amount >= 0
    assert totals.subtotal == sum(line.total for line in totals.lines)
    assert totals.total_amount == totals.subtotal + totals.tax_amount
    exact_tax = sum(q * p * (r if r is not None else (invoice_rate or 0)) / 100 for q, p, r in rows) \
        if totals.per_item_tax else None
    if exact_tax is not None:
        # per item: within half a minor unit per line of the exact tax on exact lines
        assert abs(totals.tax_amount - exact_tax) <= Decimal(len(rows) + 1) * Decimal(1).scaleb(-places)
    credit = compute(items, tax_rate=invoice_rate, fiat=fiat, credit=True)
    assert credit.total_amount == -totals.total_amount
