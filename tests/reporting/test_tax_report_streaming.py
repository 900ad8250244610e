"""The tax report over a history too large to hold (issue 17): the organization's transactions read in
date windows (core.windows.oldest_first_windows, from the day counts of core.time_index), turned into
trades window by window (ledger.tax_trades.TradeStream) and fed to the engine one at a time
(ledger.cost_basis.ComputeRun). Whatever the windows, the report is the one the whole-history read
gives; a trade whose rows were edited apart falls back to that read."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.time_index import time_index_windows
from ledger.tax_trades import TradeSplitAcrossWindows, TradeStream, tax_trades_for
from reporting.selectors import tax_summary_for

HEADER = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
          "Net Worth Amount,Net Worth Currency,Label,Description,TxHash")
HOT = "0x" + "a1" * 20
COLD = "0x" + "b2" * 20
STRANGER = "0x" + "c3" * 20
EVERYTHING = dict(start=dt.date(2000, 1, 1), end=dt.date(2100, 1, 1))


def _history_text() -> str:
    """Twenty days of buys, swaps paying a fee in a third asset (two stored rows plus a fee part: one
    trade), sells and staking rewards, several rows a day."""
    lines = [HEADER]
    for day in range(1, 21):
        stamp = f"2025-01-{day:02d}"
        lines.append(f"{stamp} 08:00:00,{1000 + day},USD,1,ETH,2,USD,,,,buy,0xb{day:02d}")
        lines.append(f"{stamp} 09:00:00,0.1,ETH,{Decimal(day) / 10},SOL,0.0001,BTC,{300 + day},USD,,swap,0xw{day:02d}")
        lines.append(f"{stamp} 10:00:00,0.2,ETH,{400 + day * 3},USD,,,,,,sell,0xs{day:02d}")
        if day % 3 == 0:
            lines.append(f"{stamp} 11:00:00,,,0.01,ETH,,,{20 + day},USD,staking,reward,0xr{day:02d}")
    lines.insert(1, "2024-12-31 08:00:00,5000,USD,1,BTC,,,,,,seed btc for the fees,0xseed")
    return "\n".join(lines) + "\n"


@pytest.fixture
def long_history(taxpayer):
    """`taxpayer`'s organization with its hand-worked history, twenty more days of imported rows, and
    own transfers between two of its wallets (two stored rows each, one trade) without a stored
    fiat value (valued from the price store)."""
    from wallets.imports import transactions_import_universal
    from wallets.models import Cryptocurrency, PriceQuote, Transaction, Wallet

    organization = taxpayer.organization
    report = transactions_import_universal(user=taxpayer, text=_history_text())
    assert report.created > 60 and not report.skipped, report.skipped
    eth = Cryptocurrency.objects.get(symbol="ETH")
    hot = Wallet.objects.create(name="hot", address=HOT, user=taxpayer, organization=organization,
                                wallet_type="MetaMask", slot=1)
    cold = Wallet.objects.create(name="cold", address=COLD, user=taxpayer, organization=organization,
                                 wallet_type="MetaMask", slot=2)
    PriceQuote.objects.create(symbol="ETH", fiat="USD", day=dt.date(2025, 1, 1), price=Decimal("3000"))
    PriceQuote.objects.create(symbol="BTC", fiat="USD", day=dt.date(2024, 12, 1), price=Decimal("90000"))
    for day in (4, 9, 15):
        moment = dt.datetime(2025, 1, day, 12, tzinfo=dt.UTC)
        tx_hash = f"0x{day:064x}"
        for wallet, direction in ((hot, "out"), (cold, "in")):
            Transaction.objects.create(
                transaction_type="TRANSFER", user=taxpayer, organization=organization, wallet=wallet,
                cryptocurrency=eth, amount=Decimal("0.3"), transaction_date=moment, hash=tx_hash, log_index=None, from_address=HOT,
                to_address=COLD, direction=direction, fee=Decimal("0.001") if direction == "out" else Decimal(0),
                source="chain", status="CONFIRMED", external_id=f"chain:{tx_hash}:-1:{wallet.address}")
    return organization


@pytest.fixture
def small_windows(monkeypatch):
    """Windows of about five rows: the twenty days come in many windows."""
    monkeypatch.setattr("wallets.transaction_rows.ROWS_PER_WINDOW", 5)


def test_the_history_comes_in_many_windows(long_history, small_windows):
    windows = time_index_windows(scope="transactions", organization_id=long_history.pk, rows=5)
    assert len(windows) > 10
    assert windows[0][0] is None and windows[-1][1] is None
    assert all(lower < upper for lower, upper in windows[1:-1])
    assert all(windows[i][1] == windows[i + 1][0] for i in range(len(windows) - 1))


def test_streamed_trades_are_the_whole_reads_trades_in_date_order(long_history, small_windows):
    whole = tax_trades_for(long_history)
    stream = TradeStream(long_history)
    streamed = list(stream)
    assert streamed == sorted(whole.trades, key=lambda trade: trade.date)
    assert stream.warnings == whole.warnings and any("stored price" in warning for warning in whole.warnings)
    assert stream.transactions_read == whole.transactions_read
    assert any(trade.to_wallet == COLD for trade in streamed)  # the own transfers' two rows were one trade
    assert any(trade.fee_asset == "BTC" and trade.received_asset == "SOL" for trade in streamed)  # swap + fee part


@pytest.mark.parametrize("method", ["fifo", "hifo", "acb", "uk"])
def test_the_streamed_report_is_the_whole_reads_report(long_history, small_windows, method):
    streamed = tax_summary_for(long_history, method=method, **EVERYTHING)
    whole = tax_summary_for(long_history, method=method, tax_input=tax_trades_for(long_history), **EVERYTHING)
    assert streamed.result == whole.result
    assert streamed.disposals and streamed.disposals == whole.disposals
    assert (streamed.totals, streamed.warnings, streamed.fiat) == (whole.totals, whole.warnings, whole.fiat)


def test_each_window_is_one_index_served_range_and_queries_do_not_grow_with_rows(long_history, small_windows):
    windows = len(time_index_windows(scope="transactions", organization_id=long_history.pk, rows=5))
    stream = TradeStream(long_history)
    with CaptureQueriesContext(connection) as queries:
        trades = list(stream)
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("db.transactions.aggregate")]
    assert len(reads) == windows
    # The part the (organization, date) index answers goes first; the status is filtered after it.
    assert all("'transaction_date': {'$" in read.split("}, {'$match'")[0] and "'status'" not in
               read.split("}, {'$match'")[0] for read in reads)
    # Beside the windows: wallets, assets, prices, the day counts; not one per row or per trade.
    assert len(queries.captured_queries) - windows <= 8 < len(trades)


def test_a_trade_edited_across_windows_falls_back_to_the_whole_read(long_history, small_windows):
    from wallets.models import Transaction

    # One part of the day-3 swap moved three weeks later: its rows now sit in two windows.
    part = Transaction.objects.filter(organization=long_history, hash="0xw03").order_by("external_id").last()
    part.transaction_date = dt.datetime(2025, 1, 25, 9, tzinfo=dt.UTC)
    part.save()
    with pytest.raises(TradeSplitAcrossWindows):
        list(TradeStream(long_history))
    whole = tax_summary_for(long_history, method="fifo", tax_input=tax_trades_for(long_history), **EVERYTHING)
    assert tax_summary_for(long_history, method="fifo", **EVERYTHING).result == whole.result


def test_a_window_that_fails_to_read_raises_in_the_reader_and_the_read_ahead_stops(long_history, small_windows,
                                                                                  monkeypatch):
    from core.mongodb import raw_read

    real_cursor = raw_read.DocumentsQuery.cursor
    calls = []

    def third_fails(self, batch_size):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the server went away")
        return real_cursor(self, batch_size)

    monkeypatch.setattr(raw_read.DocumentsQuery, "cursor", third_fails)
    with pytest.raises(RuntimeError, match="went away"):
        list(TradeStream(long_history))
    assert not [thread for thread in threading.enumerate() if thread.name == "documents-read-ahead"]


def test_a_reader_that_stops_early_stops_the_read_ahead(long_history, small_windows):
    stream = iter(TradeStream(long_history))
    next(stream)
    stream.close()
    assert not [thread for thread in threading.enumerate() if thread.name == "documents-read-ahead"]


def test_inside_a_transaction_the_windows_are_read_in_turn_and_see_its_writes(long_history, small_windows):
    from wallets.models import Transaction

    whole = tax_summary_for(long_history, method="fifo", tax_input=tax_trades_for(long_history), **EVERYTHING)
    with transaction.atomic():
        Transaction.objects.filter(organization=long_history, hash="0xs20").update(status="PENDING")
        streamed = tax_summary_for(long_history, method="fifo", **EVERYTHING)
        assert not [thread for thread in threading.enumerate() if thread.name == "documents-read-ahead"]
        assert len(streamed.disposals) < len(whole.disposals)
