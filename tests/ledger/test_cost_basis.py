"""Cost-basis engine: hand-worked examples per method (arithmetic in the comments).

Plain pytest, no database. Helpers here are shared by the other test_cost_basis_* files.
"""

import decimal
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D
from pathlib import Path

import pytest

from ledger.cost_basis import (
    IN_TRANSIT,
    VARIOUS,
    Trade,
    compute,
    disposals_in,
    income_in,
)

UTC = timezone.utc


def at(year, month, day, hour=12, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def buy(when, asset, quantity, usd, **extra) -> Trade:
    return Trade(when, sent_asset="USD", sent_amount=D(usd), received_asset=asset, received_amount=D(quantity), **extra)


def sell(when, asset, quantity, usd, **extra) -> Trade:
    return Trade(when, sent_asset=asset, sent_amount=D(quantity), received_asset="USD", received_amount=D(usd), **extra)


def swap(when, sent_asset, sent_quantity, received_asset, received_quantity, worth, **extra) -> Trade:
    return Trade(when, sent_asset=sent_asset, sent_amount=D(sent_quantity), received_asset=received_asset,
                 received_amount=D(received_quantity), net_worth=D(worth), **extra)


def receive(when, asset, quantity, worth, label="", **extra) -> Trade:
    return Trade(when, received_asset=asset, received_amount=D(quantity), net_worth=D(worth), label=label, **extra)


def send(when, asset, quantity, label, worth=None, **extra) -> Trade:
    return Trade(when, sent_asset=asset, sent_amount=D(quantity), label=label,
                 net_worth=None if worth is None else D(worth), **extra)


def transfer(when, asset, quantity, source, target, **extra) -> Trade:
    return Trade(when, sent_asset=asset, sent_amount=D(quantity), wallet=source, to_wallet=target, **extra)


def only(items):
    assert len(items) == 1, items
    return items[0]


# --- one history, every method -----------------------------------------------------------------

THREE_BUYS = [
    buy(at(2023, 1, 10), "BTC", 1, 100),
    buy(at(2023, 2, 10), "BTC", 1, 300),
    buy(at(2023, 3, 10), "BTC", 1, 200),
    sell(at(2023, 6, 1), "BTC", "1.5", 600),
]


@pytest.mark.parametrize(
    "method, cost, open_quantity_cost",
    [
        # fifo: all of lot 1 (100) + half of lot 2 (300 / 2 = 150) = 250
        ("fifo", D(250), [(D("0.5"), D(150)), (D(1), D(200))]),
        # lifo: all of lot 3 (200) + half of lot 2 (150) = 350
        ("lifo", D(350), [(D(1), D(100)), (D("0.5"), D(150))]),
        # hifo: lot 2 at 300/unit (300) + half of lot 3 at 200/unit (100) = 400
        ("hifo", D(400), [(D(1), D(100)), (D("0.5"), D(100))]),
        # acb: pool 3 BTC costing 600, 200/unit; 1.5 x 200 = 300
        ("acb", D(300), [(D("1.5"), D(300))]),
        # uk: no same-day or 30-day acquisition, so the s104 pool: 600 x 1.5 / 3 = 300
        ("uk", D(300), [(D("1.5"), D(300))]),
    ],
)
def test_partial_lot_consumption_per_method(method, cost, open_quantity_cost):
    result = compute(THREE_BUYS, method=method)
    disposal = only(result.disposals)
    assert (disposal.quantity, disposal.proceeds) == (D("1.5"), D(600))
    assert (disposal.cost_basis, disposal.gain) == (cost, 600 - cost)
    assert disposal.kind == "sell" and disposal.term == "short"
    assert [(lot.quantity, lot.cost) for lot in result.open_lots] == open_quantity_cost
    assert result.method == method and result.fiat == "USD"


def test_fifo_names_the_lots_it_used_and_the_split_lot_keeps_its_rest():
    result = compute(THREE_BUYS, method="fifo")
    disposal = only(result.disposals)
    assert [(m.lot_id, m.acquired, m.quantity, m.cost) for m in disposal.lots] == [
        (1, date(2023, 1, 10), D(1), D(100)),
        (2, date(2023, 2, 10), D("0.5"), D(150)),
    ]
    assert disposal.date_acquired == VARIOUS  # two acquisition dates
    assert [(lot.lot_id, lot.acquired) for lot in result.open_lots] == [(2, date(2023, 2, 10)), (3, date(2023, 3, 10))]


def test_single_lot_disposal_names_its_date():
    result = compute([buy(at(2023, 1, 10), "BTC", 2, 100), sell(at(2023, 2, 1), "BTC", 1, 80)], method="fifo")
    assert only(result.disposals).date_acquired == date(2023, 1, 10)


def test_hifo_ties_on_unit_cost_take_the_earliest():
    trades = [buy(at(2023, 1, 1), "ETH", 1, 50), buy(at(2023, 1, 2), "ETH", 2, 100), sell(at(2023, 1, 3), "ETH", 1, 60)]
    # both lots cost 50/unit: the earlier (lot 1) goes first
    assert [m.lot_id for m in only(compute(trades, method="hifo").disposals).lots] == [1]


def test_lifo_same_timestamp_keeps_input_order():
    when = at(2023, 5, 5)
    trades = [buy(when, "ETH", 1, 10), buy(when, "ETH", 1, 20), sell(when, "ETH", 1, 30)]
    # equal timestamps keep input order: the "last in" is the 20-dollar lot
    assert only(compute(trades, method="lifo").disposals).cost_basis == D(20)
    assert only(compute(trades, method="fifo").disposals).cost_basis == D(10)


def test_unsorted_input_is_processed_by_date():
    trades = [sell(at(2023, 6, 1), "BTC", 1, 500), buy(at(2023, 1, 1), "BTC", 1, 100)]
    assert only(compute(trades, method="fifo").disposals).gain == D(400)


# --- fees ----------------------------------------------------------------------------------------

def test_fiat_fees_add_to_cost_and_reduce_proceeds():
    trades = [
        buy(at(2023, 1, 1), "ETH", 2, 1000, fee_asset="USD", fee_amount=D(10)),  # lot cost 1000 + 10 = 1010
        sell(at(2023, 2, 1), "ETH", 1, 700, fee_asset="USD", fee_amount=D(5)),  # proceeds 700 - 5 = 695
    ]
    for method in ("fifo", "acb", "uk"):
        disposal = only(compute(trades, method=method).disposals)
        # cost 1010 / 2 = 505, gain 695 - 505 = 190
        assert (disposal.proceeds, disposal.cost_basis, disposal.gain) == (D(695), D(505), D(190)), method


def test_crypto_fee_on_a_buy_is_added_to_cost_and_disposed_of():
    trades = [
        buy(at(2023, 1, 1), "ETH", 1, 300),
        # the fee 0.01 ETH is worth 5 (fee_value): BTC lot costs 100 + 5 = 105
        buy(at(2023, 2, 1), "BTC", 1, 100, fee_asset="ETH", fee_amount=D("0.01"), fee_value=D(5)),
        sell(at(2023, 3, 1), "BTC", 1, 150),
    ]
    result = compute(trades, method="fifo")
    fee, btc = result.disposals
    # fee disposal: 0.01 ETH, proceeds 5, cost 0.01 x 300 = 3, gain 2
    assert (fee.asset, fee.kind, fee.quantity, fee.proceeds, fee.cost_basis, fee.gain) == (
        "ETH", "fee", D("0.01"), D(5), D(3), D(2))
    # BTC: 150 - 105 = 45; together 47 = 150 + 5 - (100 + 3) - 5 ... i.e. nothing counted twice:
    # what left (100 USD and ETH costing 3) bought what was sold for 150: 150 - 103 = 47
    assert (btc.cost_basis, btc.gain) == (D(105), D(45))
    assert fee.gain + btc.gain == D(150) - D(100) - D(3)
    assert [(lot.asset, lot.quantity, lot.cost) for lot in result.open_lots] == [("ETH", D("0.99"), D(297))]


def test_crypto_fee_without_fee_value_is_priced_at_the_trades_rate():
    trades = [
        buy(at(2023, 1, 1), "BTC", 2, 20000),  # 10,000 per BTC
        # rate 30,000 / 1 BTC: fee 0.001 BTC is worth 30; proceeds 30,000 - 30 = 29,970
        sell(at(2023, 2, 1), "BTC", 1, 30000, fee_asset="BTC", fee_amount=D("0.001")),
    ]
    result = compute(trades, method="fifo")
    main, fee = result.disposals
    assert (main.kind, main.proceeds, main.cost_basis, main.gain) == ("sell", D(29970), D(10000), D(19970))
    # fee: 0.001 BTC, proceeds 30, cost 0.001 x 10,000 = 10, gain 20
    assert (fee.kind, fee.quantity, fee.proceeds, fee.cost_basis, fee.gain) == ("fee", D("0.001"), D(30), D(10), D(20))
    # total gain 19,990 = 30,000 received - 10,010 of cost that left
    assert main.gain + fee.gain == D(19990)
    assert [(lot.quantity, lot.cost) for lot in result.open_lots] == [(D("0.999"), D(9990))]


def test_swap_with_fee_in_the_received_asset():
    trades = [
        buy(at(2023, 1, 10), "BTC", 1, 10000),
        # 0.5 BTC -> 8 ETH worth 12,000; fee 0.01 ETH priced at 12,000 / 8 = 1,500 per ETH -> 15
        swap(at(2023, 3, 1), "BTC", "0.5", "ETH", 8, 12000, fee_asset="ETH", fee_amount=D("0.01")),
    ]
    result = compute(trades, method="fifo")
    btc, fee = result.disposals
    # BTC: proceeds 12,000 - 15 = 11,985, cost 5,000, gain 6,985
    assert (btc.asset, btc.kind, btc.proceeds, btc.cost_basis, btc.gain) == ("BTC", "swap", D(11985), D(5000), D(6985))
    # the ETH lot costs the fair value 12,000 (1,500/unit): the fee's 0.01 ETH costs 15, proceeds 15, gain 0
    assert (fee.asset, fee.proceeds, fee.cost_basis, fee.gain) == ("ETH", D(15), D(15), D(0))
    assert [(lot.asset, lot.quantity, lot.cost) for lot in result.open_lots] == [
        ("BTC", D("0.5"), D(5000)), ("ETH", D("7.99"), D(11985))]


def test_fee_in_a_third_asset_uses_fee_value():
    trades = [
        buy(at(2023, 1, 1), "BNB", 1, 200),
        buy(at(2023, 1, 1), "BTC", 1, 100),
        swap(at(2023, 2, 1), "BTC", 1, "ETH", 10, 150, fee_asset="BNB", fee_amount=D("0.1"), fee_value=D(30)),
    ]
    btc, fee = compute(trades, method="fifo").disposals
    assert (btc.proceeds, btc.gain) == (D(120), D(20))  # 150 - 30, cost 100
    assert (fee.asset, fee.proceeds, fee.cost_basis, fee.gain) == ("BNB", D(30), D(20), D(10))


# --- income, spends, gifts and losses --------------------------------------------------------------

def test_income_is_a_lot_at_fair_value_and_not_a_disposal():
    trades = [
        receive(at(2023, 5, 1), "ETH", 2, 3000, label="staking", ref="stake-1"),
        receive(at(2023, 5, 2), "ETH", 1, 1600, label="Airdrop"),
        receive(at(2023, 5, 3), "ETH", 1, 1500),  # no label: an acquisition at fair value, not income
        sell(at(2023, 7, 1), "ETH", 1, 2000),
    ]
    result = compute(trades, method="fifo")
    assert [(e.asset, e.quantity, e.value, e.label, e.ref) for e in result.income] == [
        ("ETH", D(2), D(3000), "staking", "stake-1"), ("ETH", D(1), D(1600), "airdrop", "")]
    # fifo: 1 ETH of the staking lot at 3,000 / 2 = 1,500; gain 500
    assert only(result.disposals).gain == D(500)
    assert income_in(result, date(2023, 5, 2), date(2023, 12, 31))[0].label == "airdrop"


def test_payment_is_a_disposal_at_fair_value():
    trades = [buy(at(2023, 1, 1), "ETH", 1, 1000), send(at(2023, 2, 1), "ETH", "0.25", "payment", worth=400)]
    disposal = only(compute(trades, method="fifo").disposals)
    # proceeds 400, cost 0.25 x 1000 = 250
    assert (disposal.kind, disposal.proceeds, disposal.cost_basis, disposal.gain) == ("spend", D(400), D(250), D(150))


# Issue 10 rules 1 and 2: "lost" leaves at cost under every method, a gift only under the US methods
# (fifo/lifo/hifo). This test used to run the gift under acb and uk too; there a gift is now a disposal
# at market value (tests/ledger/test_cost_basis_jurisdictions.py), so those cases moved there.
@pytest.mark.parametrize("label, method", [
    *(("lost", method) for method in ("fifo", "lifo", "hifo", "acb", "uk")),
    *(("gift", method) for method in ("fifo", "lifo", "hifo")),
])
def test_lost_and_us_gifts_leave_at_cost_with_no_gain_row(label, method):
    trades = [
        buy(at(2023, 1, 1), "BTC", 2, 10000),
        send(at(2023, 2, 1), "BTC", "0.5", label, ref="g1"),  # leaves at 0.5 x 5,000 = 2,500 (one lot)
        sell(at(2023, 3, 1), "BTC", "1.5", 9000),  # cost 1.5 x 5,000 = 7,500, gain 1,500
    ]
    result = compute(trades, method=method)
    removal = only(result.removals)
    assert (removal.quantity, removal.cost, removal.label, removal.ref) == (D("0.5"), D(2500), label, "g1")
    assert sum((m.cost for m in removal.lots), D(0)) == D(2500)  # uk and acb too: the pool share that left
    assert (only(result.disposals).cost_basis, only(result.disposals).gain) == (D(7500), D(1500))
    assert result.open_lots == [] and result.expenses == []


# --- own transfers and lot scope ------------------------------------------------------------------

SCOPED = [
    buy(at(2023, 1, 10), "BTC", 1, 100, wallet="A"),
    buy(at(2023, 2, 10), "BTC", 1, 300, wallet="B"),
    sell(at(2023, 3, 10), "BTC", 1, 400, wallet="B"),
]


def test_lot_scope_all_pools_lots_across_wallets():
    # fifo over all wallets: the oldest lot is wallet A's (100), though the sale is from B
    disposal = only(compute(SCOPED, method="fifo").disposals)
    assert (disposal.cost_basis, disposal.wallet) == (D(100), "B")
    assert [(lot.wallet, lot.cost) for lot in compute(SCOPED, method="fifo").open_lots] == [("", D(300))]


def test_lot_scope_wallet_keeps_lots_per_wallet():
    result = compute(SCOPED, method="fifo", lot_scope="wallet")
    assert only(result.disposals).cost_basis == D(300)  # B's only lot
    assert [(lot.wallet, lot.cost) for lot in result.open_lots] == [("A", D(100))]


def test_own_transfer_moves_lots_with_their_dates_and_costs_per_wallet():
    trades = [
        buy(at(2023, 1, 10), "BTC", 1, 100, wallet="A"),
        buy(at(2023, 11, 1), "BTC", 1, 300, wallet="B"),
        transfer(at(2023, 12, 1), "BTC", 1, "A", "B"),
        sell(at(2024, 2, 1), "BTC", 1, 500, wallet="B"),
    ]
    result = compute(trades, method="fifo", lot_scope="wallet")
    disposal = only(result.disposals)
    # the moved lot keeps 10 Jan 2023 and cost 100: oldest in B, and long (after 10 Jan 2024)
    assert (disposal.cost_basis, disposal.date_acquired, disposal.term) == (D(100), date(2023, 1, 10), "long")
    assert [(lot.wallet, lot.acquired, lot.cost) for lot in result.open_lots] == [("B", date(2023, 11, 1), D(300))]
    # pooled across wallets the transfer is no event at all: same answer here, nothing in A or B
    pooled = compute(trades, method="fifo")
    assert only(pooled.disposals).cost_basis == D(100) and pooled.removals == []


def test_own_transfer_network_fee_is_a_fee_disposal_from_the_sending_wallet():
    trades = [
        buy(at(2023, 1, 1), "BTC", 1, 20000, wallet="A"),
        transfer(at(2023, 2, 1), "BTC", "0.5", "A", "B", fee_asset="BTC", fee_amount=D("0.0001"), fee_value=D(3)),
    ]
    result = compute(trades, method="fifo", lot_scope="wallet")
    fee = only(result.disposals)
    # 0.0001 BTC at 20,000/BTC costs 2; worth 3: gain 1
    assert (fee.kind, fee.wallet, fee.quantity, fee.proceeds, fee.cost_basis, fee.gain) == (
        "fee", "A", D("0.0001"), D(3), D(2), D(1))
    assert [(lot.wallet, lot.quantity, lot.cost) for lot in result.open_lots] == [
        ("A", D("0.4999"), D(9998)), ("B", D("0.5"), D(10000))]


def test_two_row_transfer_goes_through_transit_per_wallet():
    trades = [
        buy(at(2023, 1, 1), "ETH", 2, 2000, wallet="A"),
        send(at(2023, 2, 1), "ETH", "1.5", "transfer", wallet="A"),
        receive(at(2023, 2, 1, 13), "ETH", 1, 0, label="transfer", wallet="B"),
        sell(at(2023, 3, 1), "ETH", 1, 1500, wallet="B"),
    ]
    result = compute(trades, method="fifo", lot_scope="wallet")
    assert only(result.disposals).cost_basis == D(1000)  # B sells the moved 1 ETH at 1,000
    # 0.5 ETH sent but never received is still held, shown in transit
    assert [(lot.wallet, lot.quantity, lot.cost) for lot in result.open_lots] == [
        ("A", D("0.5"), D(500)), (IN_TRANSIT, D("0.5"), D(500))]


def test_acb_per_wallet_transfer_moves_average_cost():
    trades = [
        buy(at(2023, 1, 1), "ETH", 1, 1000, wallet="A"),
        buy(at(2023, 1, 2), "ETH", 1, 3000, wallet="A"),  # A: 2 ETH, 4,000, 2,000/unit
        buy(at(2023, 1, 3), "ETH", 1, 500, wallet="B"),
        transfer(at(2023, 1, 4), "ETH", 1, "A", "B"),  # moves 1 ETH at 2,000 -> B: 2 ETH, 2,500
        sell(at(2023, 1, 5), "ETH", 1, 2000, wallet="B"),  # cost 2,500 / 2 = 1,250
    ]
    result = compute(trades, method="acb", lot_scope="wallet")
    assert only(result.disposals).cost_basis == D(1250)
    assert [(lot.wallet, lot.quantity, lot.cost, lot.acquired) for lot in result.open_lots] == [
        ("A", D(1), D(2000), VARIOUS), ("B", D(1), D(1250), VARIOUS)]


# --- terms ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "acquired, disposed, term",
    [
        (at(2023, 3, 15), at(2024, 3, 15), "short"),  # on the anniversary: not yet more than a year
        (at(2023, 3, 15), at(2024, 3, 16), "long"),
        (at(2020, 2, 29), at(2021, 2, 28), "short"),  # leap day: anniversary is 28 Feb
        (at(2020, 2, 29), at(2021, 3, 1), "long"),
        (at(2023, 2, 28), at(2024, 2, 28), "short"),
        (at(2023, 2, 28), at(2024, 2, 29), "long"),  # into a leap year
        (at(2023, 1, 1, 23, 59), at(2024, 1, 1, 0, 1), "short"),  # calendar dates, not hours
    ],
)
def test_term_boundaries(acquired, disposed, term):
    trades = [buy(acquired, "BTC", 1, 100), sell(disposed, "BTC", 1, 200)]
    for method in ("fifo", "lifo", "hifo", "acb"):
        assert only(compute(trades, method=method).disposals).term == term, method


def test_various_term_when_one_disposal_uses_short_and_long_lots():
    trades = [
        buy(at(2022, 1, 1), "BTC", 1, 100), buy(at(2023, 6, 1), "BTC", 1, 200), sell(at(2023, 9, 1), "BTC", 2, 500)
    ]
    disposal = only(compute(trades, method="fifo").disposals)
    assert (disposal.term, disposal.date_acquired) == (VARIOUS, VARIOUS)
    assert [m.acquired for m in disposal.lots] == [date(2022, 1, 1), date(2023, 6, 1)]


def test_acb_pool_term_from_the_acquisitions_feeding_the_pool():
    trades = [
        buy(at(2022, 1, 10), "ETH", 1, 100),
        buy(at(2023, 6, 10), "ETH", 1, 300),
        sell(at(2024, 3, 1), "ETH", "0.5", 200),  # earliest long, latest short -> various
        sell(at(2024, 6, 11), "ETH", "0.5", 200),  # even the latest (10 Jun 2023) is long
        sell(at(2024, 7, 1), "ETH", 1, 200),  # empties the pool
        buy(at(2024, 8, 1), "ETH", 1, 100),
        sell(at(2024, 9, 1), "ETH", 1, 200),  # pool refilled since empty: short
    ]
    terms = [d.term for d in compute(trades, method="acb").disposals]
    assert terms == [VARIOUS, "long", "long", "short"]


def test_acb_average_cost_across_buys_and_sells():
    trades = [
        buy(at(2023, 1, 1), "BTC", 1, 100),
        buy(at(2023, 1, 2), "BTC", 1, 300),  # pool 2 / 400
        sell(at(2023, 1, 3), "BTC", 1, 250),  # cost 200, gain 50 -> pool 1 / 200
        buy(at(2023, 1, 4), "BTC", 2, 800),  # pool 3 / 1,000
        sell(at(2023, 1, 5), "BTC", "1.5", 600),  # cost 1,000 x 1.5 / 3 = 500, gain 100
    ]
    result = compute(trades, method="acb")
    assert [(d.cost_basis, d.gain) for d in result.disposals] == [(D(200), D(50)), (D(500), D(100))]
    assert [(lot.quantity, lot.cost) for lot in result.open_lots] == [(D("1.5"), D(500))]


# --- periods -------------------------------------------------------------------------------------

def test_period_filter_uses_lots_bought_before_the_period():
    trades = [
        buy(at(2022, 3, 1), "BTC", 2, 20000),
        sell(at(2023, 5, 1), "BTC", 1, 25000),
        sell(at(2024, 2, 1), "BTC", 1, 40000),
    ]
    result = compute(trades, method="fifo")
    in_2024 = disposals_in(result, date(2024, 1, 1), date(2024, 12, 31))
    # the 2024 sale uses the 2022 lot: cost 10,000, long
    assert [(d.date_disposed, d.cost_basis, d.gain, d.term) for d in in_2024] == [
        (date(2024, 2, 1), D(10000), D(30000), "long")]
    # inclusive on both ends
    assert len(disposals_in(result, date(2023, 5, 1), date(2024, 2, 1))) == 2
    assert disposals_in(result, datetime(2023, 5, 2, tzinfo=UTC), date(2024, 1, 31)) == []


# --- precision and purity ------------------------------------------------------------------------

def test_full_precision_inside_and_the_callers_decimal_context_untouched():
    trades = [buy(at(2023, 1, 1), "ETH", 3, 100), sell(at(2023, 2, 1), "ETH", 1, 50)]
    with decimal.localcontext() as caller:
        caller.prec = 6
        result = compute(trades, method="fifo")
        assert decimal.getcontext().prec == 6
    disposal = only(result.disposals)
    assert disposal.cost_basis == D("33.333333333333333333333333333333333333333333333333")  # 50 digits
    assert only(result.open_lots).cost + disposal.cost_basis == D(100)  # the split loses nothing


def test_engine_imports_nothing_from_django_or_the_project():
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys; import ledger.cost_basis; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'core', 'wallets', 'accounts', 'config', 'reporting'} "
        "or (m.startswith('ledger.') and not m.startswith('ledger.cost_basis'))); print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_one_sale_across_thousands_of_lots():
    # 3,000 buys then one sale of all of them, for every method
    start = at(2020, 1, 1)
    trades = [buy(start + timedelta(hours=i), "BTC", 1, 10 + i) for i in range(3000)]
    trades.append(sell(start + timedelta(days=400), "BTC", 3000, 10**7))
    for method in ("fifo", "lifo", "hifo", "acb", "uk"):
        disposal = only(compute(trades, method=method).disposals)
        assert disposal.cost_basis == sum(D(10 + i) for i in range(3000)), method
