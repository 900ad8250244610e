"""compute_skipping: the cost basis of what can be costed, and why the rest cannot (issue 19 item 6:
data problems are visible, not blocking). Pure, like the engine."""

from decimal import Decimal as D

import pytest
from hypothesis import given, strategies as st

from ledger.cost_basis import METHODS, Trade, TradeError, compute, compute_skipping

from .test_cost_basis import at, buy, sell, transfer
from .test_cost_basis_properties import SETTINGS, histories


@pytest.mark.parametrize("method", METHODS)
def test_a_trade_without_its_value_is_skipped_and_the_rest_computed(method):
    trades = [buy(at(2024, 1, 1), "BTC", D(1), D(100)),
              Trade(date=at(2024, 1, 2), sent_asset="USD", sent_amount=None, received_asset="ETH",
                    received_amount=D(1), ref="no-price"),
              sell(at(2024, 1, 3), "BTC", D(1), D(150))]
    result, skipped = compute_skipping(trades, method=method)
    assert list(skipped) == [1] and "no-price" in skipped[1] and "sent_amount" in skipped[1]
    assert result == compute([trades[0], trades[2]], method=method)
    assert [d.gain for d in result.disposals] == [D(50)]


@pytest.mark.parametrize("method", METHODS)
def test_a_sale_of_more_than_held_is_skipped_and_later_ones_still_costed(method):
    trades = [buy(at(2024, 1, 1), "BTC", D(1), D(100)),
              sell(at(2024, 1, 2), "BTC", D(5), D(500), ref="oversold"),
              sell(at(2024, 1, 3), "BTC", D("0.5"), D(80))]
    result, skipped = compute_skipping(trades, method=method)
    assert list(skipped) == [1] and "insufficient BTC" in skipped[1]
    assert [d.gain for d in result.disposals] == [D(30)]


def test_a_skipped_buy_makes_its_later_sale_uncostable_too():
    trades = [Trade(date=at(2024, 1, 1), sent_asset="USD", received_asset="ETH", received_amount=D(1), ref="bad"),
              sell(at(2024, 1, 2), "ETH", D(1), D(10)), buy(at(2024, 1, 3), "BTC", D(1), D(7))]
    result, skipped = compute_skipping(trades, method="fifo")
    assert sorted(skipped) == [0, 1] and "insufficient ETH" in skipped[1]
    assert [(lot.asset, lot.cost) for lot in result.open_lots] == [("BTC", D(7))]


def test_a_transfer_in_with_nothing_in_transit_is_skipped():
    trades = [buy(at(2024, 1, 1), "ETH", D(2), D(20)),
              Trade(date=at(2024, 1, 2), received_asset="ETH", received_amount=D(1), label="transfer", ref="in")]
    result, skipped = compute_skipping(trades, method="fifo")
    assert list(skipped) == [1] and "in transit" in skipped[1]
    assert result.open_lots[0].quantity == D(2)


def test_a_bad_call_is_no_data_problem():
    with pytest.raises(TradeError, match="unknown method"):
        compute_skipping([], method="nope")


@SETTINGS
@given(histories(), st.sampled_from(METHODS))
def test_a_valid_history_skips_nothing_and_agrees_with_compute(history, method):
    scope = "all"
    result, skipped = compute_skipping(history.trades, method=method, lot_scope=scope)
    assert skipped == {} and result == compute(history.trades, method=method, lot_scope=scope)


@SETTINGS
@given(histories(), st.sampled_from(METHODS), st.data())
def test_whatever_is_broken_the_kept_trades_compute(history, method, data):
    """Break some trades (drop a needed value, oversell): the kept ones compute to the same result, and
    every skipped one has a reason."""
    trades = list(history.trades)
    for index in data.draw(st.lists(st.integers(0, max(len(trades) - 1, 0)), max_size=3, unique=True)):
        if not trades:
            break
        trade = trades[index]
        if trade.sent_asset and trade.sent_asset != "USD":
            trades[index] = Trade(**{**trade.__dict__, "sent_amount": trade.sent_amount * 1000})
        elif trade.received_asset:
            trades[index] = Trade(**{**trade.__dict__, "net_worth": None, "sent_amount": None}
                                  if trade.sent_asset else {**trade.__dict__, "net_worth": None})
    result, skipped = compute_skipping(trades, method=method)
    kept = [trade for index, trade in enumerate(trades) if index not in skipped]
    assert result == compute(kept, method=method)
    assert all(reason for reason in skipped.values())


def test_per_wallet_lots_a_transfer_from_an_empty_wallet_is_skipped():
    trades = [buy(at(2024, 1, 1), "ETH", D(1), D(10), wallet="A"), transfer(at(2024, 1, 2), "ETH", D(1), "A", "B"),
              transfer(at(2024, 1, 3), "ETH", D(1), "A", "B")]
    result, skipped = compute_skipping(trades, method="fifo", lot_scope="wallet")
    assert list(skipped) == [2] and "wallet 'A'" in skipped[2]
    assert [(lot.wallet, lot.quantity) for lot in result.open_lots] == [("B", D(1))]
