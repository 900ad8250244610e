"""Cost-basis engine: yearly totals, the CSV form, and the unhappy paths."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal as D

import pytest

from ledger.cost_basis import (
    DISPOSAL_CSV_HEADER,
    TOTALS_CSV_HEADER,
    Disposal,
    InsufficientHoldings,
    Result,
    Trade,
    TradeError,
    YearTotal,
    compute,
    disposal_csv_rows,
    format_fiat,
    format_quantity,
    totals_by_year,
    totals_csv_rows,
)

from .test_cost_basis import at, buy, receive, send, sell, swap, transfer


def disposal(day, proceeds, cost, quantity="1", acquired=date(2020, 1, 1), term="long"):
    proceeds, cost = D(proceeds), D(cost)
    return Disposal("BTC", D(quantity), acquired, day, proceeds, cost, proceeds - cost, term, "", "", "sell")


# --- totals --------------------------------------------------------------------------------------

def test_totals_by_calendar_year_split_gains_and_losses():
    disposals = [
        disposal(date(2023, 1, 1), 500, 200),  # +300
        disposal(date(2023, 12, 31), 100, 250),  # -150
        disposal(date(2024, 4, 5), 50, 60),  # -10
        disposal(date(2024, 4, 6), 90, 40),  # +50
    ]
    assert totals_by_year(disposals, method="fifo") == [
        YearTotal(2023, D(600), D(450), D(300), D(150), D(150)),
        YearTotal(2024, D(140), D(100), D(50), D(10), D(40)),
    ]


def test_totals_by_uk_tax_year_run_6_april_to_5_april():
    disposals = [
        disposal(date(2023, 1, 1), 500, 200),  # tax year 2022 (6 Apr 2022 - 5 Apr 2023)
        disposal(date(2023, 4, 5), 100, 250),  # still 2022
        disposal(date(2023, 4, 6), 50, 60),  # 2023
        disposal(date(2024, 4, 5), 90, 40),  # 2023
    ]
    assert [(t.year, t.gains, t.losses, t.net) for t in totals_by_year(disposals, method="uk")] == [
        (2022, D(300), D(150), D(150)), (2023, D(50), D(10), D(40))]


def test_totals_of_a_computed_history():
    trades = [
        buy(at(2022, 6, 1), "BTC", 2, 40000),
        sell(at(2022, 11, 1), "BTC", 1, 15000),  # -5,000
        sell(at(2023, 3, 1), "BTC", "0.5", 12000),  # +2,000
        swap(at(2023, 9, 1), "BTC", "0.5", "ETH", 10, 13000),  # +3,000
    ]
    totals = totals_by_year(compute(trades, method="fifo").disposals, method="fifo")
    assert [(t.year, t.proceeds, t.cost_basis, t.gains, t.losses, t.net) for t in totals] == [
        (2022, D(15000), D(20000), D(0), D(5000), D(-5000)),
        (2023, D(25000), D(20000), D(5000), D(0), D(5000)),
    ]


# --- printed form --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, printed",
    [
        (D("0.125"), "0.12"), (D("0.135"), "0.14"), (D("2.5"), "2.50"), (D("-0.125"), "-0.12"),
        (D("-0.004"), "0.00"), (D(0), "0.00"), (D("1E+6"), "1000000.00"), (D("1E-30"), "0.00"),
        (D("12345678901234567890123456789.005"), "12345678901234567890123456789.00"),
        (D("33.333333333333333333333333333333333333333333333333"), "33.33"),
    ],
)
def test_fiat_is_rounded_half_even_to_cents_without_exponent(value, printed):
    assert format_fiat(value) == printed


@pytest.mark.parametrize(
    "value, printed",
    [
        (D("1.50000"), "1.5"), (D("1E+2"), "100"), (D("0.00000001"), "0.00000001"), (D("0E-8"), "0"),
        (D("123456789.123456789012345678901234567"), "123456789.123456789012345678901234567"),
    ],
)
def test_quantities_print_at_full_precision_without_exponent_or_trailing_zeros(value, printed):
    assert format_quantity(value) == printed


def test_disposal_csv_rows():
    trades = [
        buy(at(2023, 1, 2), "BTC", "0.00000003", "0.03"),
        buy(at(2023, 1, 3), "ETH", "2.000", "300"),
        sell(at(2023, 2, 1), "BTC", "0.00000003", "0.155"),  # gain 0.125 -> 0.12
        sell(at(2024, 1, 4), "ETH", "1.5", "225.135"),  # cost 225, gain 0.135 -> 0.14
    ]
    rows = disposal_csv_rows(compute(trades, method="fifo"))
    assert rows == [
        ["asset", "quantity", "date_acquired", "date_disposed", "proceeds", "cost_basis", "gain", "term"],
        ["BTC", "0.00000003", "2023-01-02", "2023-02-01", "0.16", "0.03", "0.12", "short"],
        ["ETH", "1.5", "2023-01-03", "2024-01-04", "225.14", "225.00", "0.14", "long"],
    ]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    assert text.getvalue().splitlines()[0] == "asset,quantity,date_acquired,date_disposed,proceeds,cost_basis,gain,term"
    assert DISPOSAL_CSV_HEADER == rows[0]


def test_disposal_csv_rows_print_various_and_take_a_filtered_list():
    trades = [buy(at(2023, 1, 2), "BTC", 1, 100), buy(at(2023, 1, 3), "BTC", 1, 100), sell(at(2023, 2, 1), "BTC", 2, 300)]
    result = compute(trades, method="acb")
    assert disposal_csv_rows(result.disposals)[1] == ["BTC", "2", "various", "2023-02-01", "300.00", "200.00", "100.00", "short"]


def test_totals_csv_rows():
    totals = [YearTotal(2023, D("1000.005"), D("999.995"), D("0.125"), D("0.115"), D("0.01"))]
    assert totals_csv_rows(totals) == [
        ["year", "proceeds", "cost_basis", "gains", "losses", "net"],
        ["2023", "1000.00", "1000.00", "0.12", "0.12", "0.01"],
    ]
    assert TOTALS_CSV_HEADER == ["year", "proceeds", "cost_basis", "gains", "losses", "net"]


# --- unhappy paths -------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["fifo", "lifo", "hifo", "acb", "uk"])
def test_oversell_names_asset_date_and_shortfall(method):
    trades = [buy(at(2023, 1, 1), "BTC", "1.5", 100), sell(at(2023, 3, 4), "BTC", 2, 300)]
    with pytest.raises(InsufficientHoldings) as raised:
        compute(trades, method=method)
    error = raised.value
    assert isinstance(error, ValueError)
    assert (error.asset, error.shortfall) == ("BTC", D("0.5"))
    assert "BTC" in str(error) and "2023-03-04" in str(error) and "0.5" in str(error)


def test_oversell_of_a_fee_and_of_a_gift():
    with pytest.raises(InsufficientHoldings, match="ETH.*2023-02-01.*0.01"):
        compute([buy(at(2023, 2, 1), "BTC", 1, 100, fee_asset="ETH", fee_amount=D("0.01"), fee_value=D(5))], method="fifo")
    with pytest.raises(InsufficientHoldings, match="short by 1 BTC"):  # acb: a gift needs its worth (issue 10)
        compute([send(at(2023, 2, 1), "BTC", 1, "gift", worth=100)], method="acb")
    with pytest.raises(InsufficientHoldings, match="short by 1 BTC"):
        compute([send(at(2023, 2, 1), "BTC", 1, "gift")], method="fifo")


def test_oversell_in_one_wallet_when_pooled_holdings_would_cover_it():
    trades = [buy(at(2023, 1, 1), "BTC", 1, 100, wallet="A"), sell(at(2023, 2, 1), "BTC", 1, 200, wallet="B")]
    assert compute(trades, method="fifo").disposals[0].gain == D(100)
    with pytest.raises(InsufficientHoldings, match="wallet 'B'") as raised:
        compute(trades, method="fifo", lot_scope="wallet")
    assert raised.value.wallet == "B"


def test_own_transfer_of_more_than_held_fails_even_when_pooled():
    trades = [buy(at(2023, 1, 1), "BTC", 1, 100, wallet="A"), transfer(at(2023, 2, 1), "BTC", 2, "A", "B")]
    for method in ("fifo", "acb", "uk"):
        with pytest.raises(InsufficientHoldings):
            compute(trades, method=method)


def test_sale_before_the_buy_it_would_need_fails():
    # only the full history is valid input: computing on a slice that drops the earlier buy fails
    trades = [buy(at(2022, 1, 1), "BTC", 1, 100), sell(at(2024, 1, 1), "BTC", 1, 500)]
    with pytest.raises(InsufficientHoldings):
        compute([t for t in trades if t.date.year == 2024], method="fifo")


MALFORMED = [
    (Trade(at(2023, 1, 1), sent_asset="USD", sent_amount=D(-1), received_asset="BTC", received_amount=D(1)), "negative"),
    (Trade(at(2023, 1, 1), sent_asset="USD", sent_amount=100.0, received_asset="BTC", received_amount=D(1)), "Decimal"),
    (Trade(at(2023, 1, 1), sent_asset="USD", sent_amount=D("NaN"), received_asset="BTC", received_amount=D(1)), "finite"),
    (Trade(datetime(2023, 1, 1), sent_asset="USD", sent_amount=D(1), received_asset="BTC", received_amount=D(1)), "timezone"),
    (Trade(at(2023, 1, 1), sent_asset="USD", sent_amount=D(1), received_asset="BTC"), "received_amount"),
    (Trade(at(2023, 1, 1), sent_amount=D(1), received_asset="BTC", received_amount=D(1)), "no sent_asset"),
    (Trade(at(2023, 1, 1), sent_asset="ETH", sent_amount=D(1), received_asset="BTC", received_amount=D(1)), "net_worth"),
    (Trade(at(2023, 1, 1), sent_asset="USD", sent_amount=D(1), received_asset="usd", received_amount=D(1)), "fiat for fiat"),
    (Trade(at(2023, 1, 1), received_asset="BTC", received_amount=D(1)), "net_worth"),
    (Trade(at(2023, 1, 1), received_asset="BTC", received_amount=D(1), net_worth=D(1), label="salary-ish"), "unknown label"),
    (Trade(at(2023, 1, 1), sent_asset="BTC", sent_amount=D(1)), "needs a label"),
    (Trade(at(2023, 1, 1), sent_asset="BTC", sent_amount=D(1), label="payment"), "net_worth"),
    (Trade(at(2023, 1, 1), sent_asset="USD", sent_amount=D(1), received_asset="BTC", received_amount=D(1),
           fee_asset="BNB", fee_amount=D(1)), "fee_value"),
    (Trade(at(2023, 1, 1), sent_asset="USD", sent_amount=D(1), received_asset="BTC", received_amount=D(1),
           fee_amount=D(1)), "no fee_asset"),
    (Trade(at(2023, 1, 1), sent_asset="BTC", sent_amount=D(1), received_asset="ETH", received_amount=D(1),
           to_wallet="B", net_worth=D(1)), "exactly one asset"),
    (Trade(at(2023, 1, 1), sent_asset="BTC", sent_amount=D(1), received_asset="BTC", received_amount=D("0.9"),
           to_wallet="B"), "fee_asset"),
    (Trade(at(2023, 1, 1), sent_asset="BTC", sent_amount=D(1), received_asset="BTC", received_amount=D(1)), "same asset"),
    (Trade(at(2023, 1, 1)), "nothing sent"),
]


@pytest.mark.parametrize("trade, message", MALFORMED)
def test_malformed_trades_are_refused_with_a_clear_message(trade, message):
    with pytest.raises(TradeError, match=message):
        compute([trade], method="fifo")


def test_error_names_the_trade_and_comes_before_any_arithmetic():
    trades = [
        sell(at(2023, 1, 1), "BTC", 1, 100),  # would be an oversell...
        Trade(at(2023, 1, 2), sent_asset="BTC", sent_amount=D(-1), label="gift", ref="0xabc"),  # ...but this is malformed
    ]
    with pytest.raises(TradeError, match=r"trade #1 ref='0xabc': sent_amount is negative"):
        compute(trades, method="fifo")


def test_transfer_in_without_anything_in_transit():
    trades = [buy(at(2023, 1, 1), "ETH", 1, 100, wallet="A"), receive(at(2023, 2, 1), "ETH", 1, 0, label="transfer", wallet="B")]
    for method, scope in (("fifo", "wallet"), ("acb", "all"), ("uk", "all")):
        with pytest.raises(TradeError, match="in transit: short by 1"):
            compute(trades, method=method, lot_scope=scope)


@pytest.mark.parametrize("call", [
    lambda: compute([], method="average"),
    lambda: compute([], method="fifo", lot_scope="exchange"),
    lambda: compute([], method="fifo", fiat=""),
    lambda: compute(["not a trade"], method="fifo"),
    lambda: totals_by_year([], method="FIFO"),
])
def test_bad_calls_are_trade_errors(call):
    with pytest.raises(TradeError):
        call()


def test_empty_history_is_an_empty_result():
    result = compute([], method="hifo", fiat="eur")
    assert (result.disposals, result.income, result.open_lots, result.fiat) == ([], [], [], "EUR")
    assert isinstance(result, Result) and totals_by_year(result.disposals, method="hifo") == []
