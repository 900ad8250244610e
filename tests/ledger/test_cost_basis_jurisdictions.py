"""Cost-basis engine, issue 10: gifts by the method's jurisdiction, losses, fees on every row and
fee-only rows. Hand-worked per method (arithmetic in the comments).

Plain pytest, no database; runs under the project's pytest and without Django
(`python -m pytest -p no:django --noconftest -c /dev/null --rootdir=. tests/ledger/...`).
"""

from datetime import date
from decimal import Decimal as D

import pytest

from ledger.cost_basis import (
    Expense,
    InsufficientHoldings,
    Trade,
    TradeError,
    compute,
    disposal_csv_rows,
    expenses_in,
    format_fiat,
)
from ledger.cost_basis.classify import Dispose, Leave, operations

from .test_cost_basis import at, buy, only, receive, sell, send, transfer

US_METHODS = ("fifo", "lifo", "hifo")
ALL_METHODS = ("fifo", "lifo", "hifo", "acb", "uk")


def cents(value) -> str:
    return format_fiat(value)


# --- rule 1: gifts ---------------------------------------------------------------------------------
# The reproduction (GBP): 2024-01-10 buy 10 ETH for 1000; 2024-02-01 buy 1 ETH for 200, sell
# 1 ETH for 300, gift 1 ETH worth 250.

def gift_history(label="gift", worth=250):
    return [
        buy(at(2024, 1, 10), "ETH", 10, 1000, ref="b1"),  # 100 each
        buy(at(2024, 2, 1, 9), "ETH", 1, 200, ref="b2"),
        sell(at(2024, 2, 1, 10), "ETH", 1, 300, ref="s"),
        send(at(2024, 2, 1, 11), "ETH", 1, label, worth=worth, ref="g"),
    ]


def gbp(trades, method):
    # the helpers write USD legs; as GBP the USD legs would be crypto, so rename the fiat code
    renamed = [Trade(t.date, *(("GBP" if v == "USD" else v) for v in (
        t.sent_asset, t.sent_amount, t.received_asset, t.received_amount, t.fee_asset, t.fee_amount,
        t.fee_value, t.net_worth, t.label, t.wallet, t.to_wallet, t.ref))) for t in trades]
    return compute(renamed, method=method, fiat="GBP")


def test_uk_gift_is_part_of_the_days_single_disposal():
    result = gbp(gift_history(), "uk")
    row = only(result.disposals)
    # the day's disposals: 1 sold + 1 given = 2; same day: 1 bought at 200; the other from the pool
    # (10 at 1,000: 100); proceeds 300 + 250 = 550, cost 300, gain 250
    assert (row.asset, row.date_disposed, row.quantity) == ("ETH", date(2024, 2, 1), D(2))
    assert (row.proceeds, row.cost_basis, row.gain) == (D(550), D(300), D(250))
    assert (row.kind, row.ref) == ("sell+gift", "s;g")
    assert [(m.rule, m.quantity, m.cost) for m in row.lots] == [("same-day", D(1), D(200)), ("pool", D(1), D(100))]
    assert disposal_csv_rows(result)[1] == ["ETH", "2", "various", "2024-02-01", "550.00", "300.00", "250.00", "short"]
    assert result.removals == [] and result.expenses == []
    assert [(lot.quantity, lot.cost) for lot in result.open_lots] == [(D(9), D(900))]


def test_acb_gift_is_a_deemed_disposition_at_fair_market_value():
    result = gbp(gift_history(), "acb")
    sale, gift = result.disposals
    # pool 11 ETH costing 1,200 (109.0909...); each unit leaves at the average, which taking at the
    # average does not change: sale 300 - 109.09 = 190.91; gift 250 - 109.09 = 140.91
    assert (sale.kind, sale.ref, cents(sale.proceeds), cents(sale.cost_basis), cents(sale.gain)) == (
        "sell", "s", "300.00", "109.09", "190.91")
    assert (gift.kind, gift.ref, gift.quantity, cents(gift.proceeds), cents(gift.cost_basis), cents(gift.gain)) == (
        "gift", "g", D(1), "250.00", "109.09", "140.91")
    assert result.removals == []
    lot = only(result.open_lots)  # 9 ETH at 1,200 x 9 / 11 = 981.82
    assert (lot.quantity, cents(lot.cost)) == (D(9), "981.82")


@pytest.mark.parametrize("method, sale_cost, gift_cost, open_lots", [
    # fifo: the sale takes lot 1 (100), the gift the next unit of lot 1 (100); left 8 of lot 1 + lot 2
    ("fifo", D(100), D(100), [(1, D(8), D(800)), (2, D(1), D(200))]),
    # lifo: the sale takes lot 2 (200), the gift the last of lot 1 (100)
    ("lifo", D(200), D(100), [(1, D(9), D(900))]),
    # hifo: lot 2 costs 200/unit, the highest: the sale takes it; the gift then lot 1 (100)
    ("hifo", D(200), D(100), [(1, D(9), D(900))]),
])
def test_us_gift_is_no_disposal_and_leaves_at_cost(method, sale_cost, gift_cost, open_lots):
    result = gbp(gift_history(), method)
    sale = only(result.disposals)
    assert (sale.kind, sale.proceeds, sale.cost_basis, sale.gain) == ("sell", D(300), sale_cost, D(300) - sale_cost)
    gift = only(result.removals)
    assert (gift.label, gift.ref, gift.quantity, gift.cost) == ("gift", "g", D(1), gift_cost)
    assert [(lot.lot_id, lot.quantity, lot.cost) for lot in result.open_lots] == open_lots


@pytest.mark.parametrize("method", ["uk", "acb"])
def test_gift_without_net_worth_is_refused_naming_the_trade(method):
    with pytest.raises(TradeError, match=r"trade #3 ref='g': a gift under method '(uk|acb)'.*needs net_worth"):
        gbp(gift_history(worth=None), method)


@pytest.mark.parametrize("method", US_METHODS)
def test_us_gift_needs_no_net_worth(method):
    assert only(gbp(gift_history(worth=None), method).removals).quantity == D(1)


def test_fiat_fee_on_a_gift_is_its_disposal_cost_under_uk_and_acb_and_an_expense_under_us_rules():
    trades = [
        buy(at(2024, 1, 1), "ETH", 1, 1000),
        send(at(2024, 6, 1), "ETH", 1, "gift", worth=1500, fee_asset="USD", fee_amount=D(10), ref="g"),
    ]
    for method in ("uk", "acb"):
        result = compute(trades, method=method)
        gift = only(result.disposals)
        # proceeds 1,500 - 10 = 1,490, cost 1,000, gain 490
        assert (gift.kind, gift.proceeds, gift.cost_basis, gift.gain) == ("gift", D(1490), D(1000), D(490)), method
        assert result.expenses == [], method
    for method in US_METHODS:
        result = compute(trades, method=method)
        assert result.disposals == [] and only(result.removals).cost == D(1000)
        assert result.expenses == [Expense(D(10), date(2024, 6, 1), "gift", "g", "")]


def test_uk_gift_takes_part_in_the_30_day_rule():
    result = gbp([
        buy(at(2024, 1, 10), "ETH", 10, 1000),  # pool 100 each
        send(at(2024, 3, 1), "ETH", 1, "gift", worth=150, ref="g"),
        buy(at(2024, 3, 15), "ETH", 1, 120),  # within 30 days after the gift
    ], "uk")
    gift = only(result.disposals)
    # matched with the 15 March acquisition (120): gain 150 - 120 = 30; that acquisition never
    # enters the pool, which keeps its 10 at 1,000
    assert (gift.kind, gift.proceeds, gift.cost_basis, gift.gain) == ("gift", D(150), D(120), D(30))
    assert [(m.rule, m.acquired) for m in gift.lots] == [("30-day", date(2024, 3, 15))]
    assert [(lot.quantity, lot.cost) for lot in result.open_lots] == [(D(10), D(1000))]


# --- rule 2: lost ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method, sale_cost, lost_cost", [
    ("fifo", D(100), D(100)),  # sale: lot 1; lost: lot 1 again
    ("lifo", D(200), D(100)),  # sale: lot 2; lost: lot 1
    ("hifo", D(200), D(100)),  # sale: lot 2 (200/unit); lost: lot 1
    # acb: 1,200 / 11 each (109.0909...)
    ("acb", D(1200) / D(11), D(1200) / D(11)),
    # uk: the loss is not matched, so the sale alone takes the same-day acquisition (200); the loss
    # leaves the pool (10 at 1,000) at 100. Before issue 10 the loss was matched like a disposal: the
    # day's 2 units took same day 200 + pool 100, shared 150 / 150 (sale gain 150).
    ("uk", D(200), D(100)),
])
def test_lost_is_no_disposal_for_any_method(method, sale_cost, lost_cost):
    result = gbp(gift_history(label="lost", worth=None), method)
    sale = only(result.disposals)
    assert (sale.kind, sale.quantity, sale.proceeds) == ("sell", D(1), D(300))
    assert (cents(sale.cost_basis), cents(sale.gain)) == (cents(sale_cost), cents(D(300) - sale_cost))
    lost = only(result.removals)
    assert (lost.label, lost.ref, lost.quantity, cents(lost.cost)) == ("lost", "g", D(1), cents(lost_cost))
    assert cents(sum((lot.cost for lot in result.open_lots), D(0))) == cents(D(1200) - sale.cost_basis - lost.cost)


def test_uk_loss_is_not_matched_by_the_30_day_rule():
    result = gbp([
        buy(at(2024, 1, 10), "ETH", 10, 1000),  # pool 10 at 1,000
        send(at(2024, 3, 1), "ETH", 1, "lost", ref="l"),  # out of the pool at 100: pool 9 at 900
        buy(at(2024, 3, 15), "ETH", 1, 120),  # into the pool: 10 at 1,020
        sell(at(2024, 4, 20), "ETH", 1, 200),  # pool: 102, gain 98
    ], "uk")
    lost = only(result.removals)
    assert (lost.cost, [m.rule for m in lost.lots]) == (D(100), ["pool"])
    sale = only(result.disposals)
    # before issue 10 the loss took the 15 March acquisition (120) by the 30-day rule and the sale
    # cost 100 (gain 100)
    assert (sale.cost_basis, sale.gain) == (D(102), D(98))
    assert [(lot.quantity, lot.cost) for lot in result.open_lots] == [(D(9), D(918))]


def test_uk_loss_cannot_exceed_holdings():
    with pytest.raises(InsufficientHoldings, match="short by 1 ETH"):
        gbp([buy(at(2024, 1, 10), "ETH", 1, 100), send(at(2024, 1, 11), "ETH", 2, "lost")], "uk")


# --- rule 3: a fiat fee on a spend is a disposal cost --------------------------------------------

@pytest.mark.parametrize("method", ALL_METHODS)
def test_fiat_fee_on_a_spend_is_a_disposal_cost(method):
    trades = [
        buy(at(2024, 2, 1), "ETH", 1, 2000),
        send(at(2024, 2, 4, 10), "ETH", "0.1", "cost", worth="270.00", fee_asset="USD", fee_amount=D("1.50"),
             ref="0xa3"),
    ]
    result = compute(trades, method=method)
    spend = only(result.disposals)
    # proceeds 270.00 - 1.50 = 268.50; cost 0.1 x 2,000 = 200.00; gain 68.50
    assert (spend.kind, spend.proceeds, spend.cost_basis, spend.gain) == ("spend", D("268.50"), D(200), D("68.50"))
    assert result.expenses == []


# --- rule 4: a fee on an acquisition is part of its cost -------------------------------------------

@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("label", ["staking", "", "gift"])
def test_fiat_fee_on_income_and_receives_is_a_cost_of_acquisition(method, label):
    trades = [
        receive(at(2024, 1, 5), "ETH", 1, "2100.00", label=label, fee_asset="USD", fee_amount=D("5.00"), ref="in"),
        sell(at(2024, 3, 1), "ETH", 1, 2500),
    ]
    result = compute(trades, method=method)
    sale = only(result.disposals)
    # cost 2,100 + 5 = 2,105, gain 2,500 - 2,105 = 395 (before issue 10: 2,100 / 400)
    assert (sale.cost_basis, sale.gain) == (D("2105.00"), D("395.00"))
    # the income stays the fair value received: the fee is a cost of acquisition, not less income
    expected_income = [(D("2100.00"), "staking", "in")] if label == "staking" else []
    assert [(e.value, e.label, e.ref) for e in result.income] == expected_income
    assert result.expenses == []


@pytest.mark.parametrize("method", ALL_METHODS)
def test_crypto_fee_on_income_is_a_cost_and_a_fee_disposal(method):
    trades = [
        # 0.01 ETH fee priced at the row's rate, 2,000 / 1 ETH -> 20: lot 1 ETH costing 2,020;
        # the fee's 0.01 ETH are disposed of from it: proceeds 20, cost 20.20, loss 0.20
        receive(at(2024, 1, 5), "ETH", 1, 2000, label="staking", fee_asset="ETH", fee_amount=D("0.01")),
    ]
    result = compute(trades, method=method)
    fee = only(result.disposals)
    assert (fee.kind, fee.quantity, fee.proceeds, fee.cost_basis, fee.gain) == (
        "fee", D("0.01"), D(20), D("20.20"), D("-0.20"))
    assert only(result.income).value == D(2000)
    assert [(lot.quantity, lot.cost) for lot in result.open_lots] == [(D("0.99"), D("1999.80"))]


def test_crypto_fee_in_another_asset_on_income():
    trades = [
        buy(at(2024, 1, 1), "BTC", 1, 20000),
        # 0.001 BTC worth 30 (fee_value): ETH lot 2,100 + 30 = 2,130; fee disposal 30 - 20 = 10
        receive(at(2024, 1, 5), "ETH", 1, 2100, label="staking", fee_asset="BTC", fee_amount=D("0.001"),
                fee_value=D(30)),
        sell(at(2024, 3, 1), "ETH", 1, 2500),
    ]
    for method in ALL_METHODS:
        fee, sale = compute(trades, method=method).disposals
        assert (fee.asset, fee.kind, fee.proceeds, fee.cost_basis, fee.gain) == ("BTC", "fee", D(30), D(20), D(10))
        assert (sale.cost_basis, sale.gain) == (D(2130), D(370)), method


# --- rule 5: fee-only rows -------------------------------------------------------------------------

def fee_only(when, asset, amount, worth=None, **extra) -> Trade:
    return Trade(when, fee_asset=asset, fee_amount=D(amount), net_worth=None if worth is None else D(worth), **extra)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_crypto_fee_only_row_is_a_disposal_of_the_fee_at_net_worth(method):
    trades = [
        buy(at(2024, 1, 1), "ETH", 1, 2000),
        # gas of a failed or approval transaction: 0.01 ETH worth 25.00; cost 0.01 x 2,000 = 20, gain 5
        fee_only(at(2024, 1, 2, 10), "ETH", "0.01", "25.00", ref="0x2"),
    ]
    result = compute(trades, method=method)
    fee = only(result.disposals)
    assert (fee.kind, fee.ref, fee.quantity, fee.proceeds, fee.cost_basis, fee.gain) == (
        "fee", "0x2", D("0.01"), D("25.00"), D(20), D(5))
    assert [(lot.quantity, lot.cost) for lot in result.open_lots] == [(D("0.99"), D(1980))]
    assert result.expenses == [] and result.removals == []


def test_fee_only_row_without_net_worth_is_refused_naming_the_trade():
    trades = [buy(at(2024, 1, 1), "ETH", 1, 2000), fee_only(at(2024, 1, 2), "ETH", "0.01", ref="0x2")]
    for method in ALL_METHODS:
        with pytest.raises(TradeError, match=r"trade #1 ref='0x2': a fee-only row .* needs net_worth"):
            compute(trades, method=method)


def test_fee_only_row_takes_fee_value_but_not_two_different_values():
    base = [buy(at(2024, 1, 1), "ETH", 1, 2000)]
    same = fee_only(at(2024, 1, 2), "ETH", "0.01", 25, fee_value=D(25))
    only_fee_value = fee_only(at(2024, 1, 2), "ETH", "0.01", fee_value=D(25))
    for row in (same, only_fee_value):
        assert only(compute(base + [row], method="fifo").disposals).proceeds == D(25)
    with pytest.raises(TradeError, match="net_worth 25 but fee_value 30"):
        compute(base + [fee_only(at(2024, 1, 2), "ETH", "0.01", 25, fee_value=D(30))], method="fifo")


def test_fee_only_row_cannot_spend_more_than_held():
    with pytest.raises(InsufficientHoldings, match="short by 0.01 ETH"):
        compute([fee_only(at(2024, 1, 2), "ETH", "0.01", 25)], method="uk")


@pytest.mark.parametrize("method", ALL_METHODS)
def test_fiat_fee_only_row_is_an_expense_and_no_capital_event(method):
    trades = [
        buy(at(2024, 1, 1), "ETH", 1, 2000),
        fee_only(at(2024, 1, 2), "USD", "3.00", label="Network fee", wallet="A", ref="0x3"),
        fee_only(at(2025, 1, 2), "usd", "1.00", ref="0x4"),
    ]
    result = compute(trades, method=method)
    assert result.disposals == [] and result.removals == [] and result.income == []
    assert [(lot.quantity, lot.cost) for lot in result.open_lots] == [(D(1), D(2000))]
    assert result.expenses == [Expense(D("3.00"), date(2024, 1, 2), "network fee", "0x3", "A"),
                               Expense(D("1.00"), date(2025, 1, 2), "", "0x4", "")]
    assert [e.ref for e in expenses_in(result, date(2024, 1, 1), date(2024, 12, 31))] == ["0x3"]


def test_fiat_fees_outside_any_capital_item_are_expenses():
    trades = [
        buy(at(2024, 1, 1), "ETH", 2, 2000, wallet="A"),
        transfer(at(2024, 1, 2), "ETH", 1, "A", "B", fee_asset="USD", fee_amount=D(2), ref="t"),
        send(at(2024, 1, 3), "ETH", "0.5", "lost", wallet="B", fee_asset="USD", fee_amount=D(1), ref="l"),
        Trade(at(2024, 1, 4), sent_asset="USD", sent_amount=D(100), fee_asset="USD", fee_amount=D("0.5"), ref="w"),
    ]
    for method in ALL_METHODS:
        result = compute(trades, method=method)
        assert [(e.amount, e.ref) for e in result.expenses] == [(D(2), "t"), (D(1), "l"), (D("0.5"), "w")], method
        assert result.disposals == []


def test_nothing_at_all_is_still_refused():
    with pytest.raises(TradeError, match="nothing sent, received or paid"):
        compute([Trade(at(2024, 1, 1), fee_asset="ETH", fee_amount=D(0), net_worth=D(1))], method="fifo")


# --- the classification the automatic journals read (ledger/journal_rules.py) --------------------

def test_operations_classify_a_gift_by_method_and_default_to_us_rules():
    gift = send(at(2024, 1, 1), "ETH", 1, "gift", worth=250)
    assert isinstance(only(operations(gift, 0, "USD")[0]), Leave)  # no method: fifo/lifo/hifo rules
    assert isinstance(only(operations(gift, 0, "USD", "fifo")[0]), Leave)
    for method in ("uk", "acb"):
        op = only(operations(gift, 0, "USD", method)[0])
        assert isinstance(op, Dispose) and (op.kind, op.proceeds) == ("gift", D(250))
