"""Cost-basis engine: properties over random valid histories (hypothesis).

The generator keeps its own per-wallet holdings so every history is valid under both lot scopes:
buys, sells, swaps, income, plain receives, spends, gifts, losses, own transfers (one row and
two rows), fee-only rows, with fiat and crypto fees, same timestamps, same days and gaps past a year.

Issue 10 changed three things the generator and invariants follow: a fee on an income row or a plain
receive is now part of the lot's cost (so `acquisition_cost` adds it, as for buys); a gift needs its
net worth under uk and acb (a disposal at market value), so every generated gift has one; fee-only rows
are valid input (a crypto one is a fee disposal, a fiat one an expense, Result.expenses).
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal as D, localcontext

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ledger.cost_basis import IN_TRANSIT, METHODS, ComputeRun, Trade, TradeError, compute

from .test_cost_basis import at

ASSETS = ("BTC", "ETH", "SOL")
WALLETS = ("A", "B")
TOLERANCE = D("1e-30")  # money sums: the engine rounds in the 50th significant digit, never before
START = at(2020, 1, 1, 0)
# Modest example counts keep the file to a few seconds; no example database is written.
SETTINGS = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass
class History:
    trades: list
    acquired: dict  # asset -> quantity acquired (buys, swaps, income, receives)
    acquisition_cost: D  # total fiat cost of everything acquired
    held: dict  # (wallet, asset) -> quantity at the end (in transit excluded)
    in_transit: dict  # asset -> quantity sent by a one-sided transfer and not received
    income_value: D = D(0)  # sum of the income rows' net worth (the fee is not less income)
    expense_fees: D = D(0)  # fiat fees on rows that are no capital event for any method
    gift_fiat_fees: D = D(0)  # fiat fees on gifts: an expense under fifo/lifo/hifo, a disposal cost under uk/acb


def quantity(draw, low=1, high=10**7):
    return D(draw(st.integers(low, high))).scaleb(-4)


def money(draw, high=10**7):
    return D(draw(st.integers(0, high))).scaleb(-2)


def part_of(draw, held):
    return (held * draw(st.integers(1, 4)) / 4).quantize(D("1e-8"), rounding=ROUND_DOWN)


@st.composite
def histories(draw, simple=False, max_size=30):
    """`simple`: only buys, sells, swaps and income without fees, in one wallet (for the reference model)."""
    held = {(w, a): D(0) for w in WALLETS for a in ASSETS}
    acquired = {a: D(0) for a in ASSETS}
    in_transit = {a: D(0) for a in ASSETS}
    costs = []  # summed at the engine's 50 digits at the end (a fee priced at a row's rate has 50 digits)
    income_value = expense_fees = gift_fiat_fees = D(0)
    trades = []
    when = START
    kinds = ["buy", "buy", "sell", "swap", "income"]
    if not simple:
        kinds += ["receive", "spend", "gift", "lost", "transfer", "transfer_out", "transfer_in", "fee_only"]
    for index in range(draw(st.integers(1, max_size))):
        when += timedelta(hours=draw(st.sampled_from([0, 0, 1, 5, 24, 24 * 20, 24 * 31, 24 * 200, 24 * 400])))
        kind = draw(st.sampled_from(kinds))
        wallet = "A" if simple else draw(st.sampled_from(WALLETS))
        asset = draw(st.sampled_from(ASSETS))
        ref = f"t{index}"
        owned = [a for a in ASSETS if held[(wallet, a)] > 0]
        if kind in ("sell", "swap", "spend", "gift", "lost", "transfer", "transfer_out"):
            if not owned:
                kind = "buy"
            else:
                asset = draw(st.sampled_from(owned))
        if kind == "transfer_in" and not any(in_transit.values()):
            kind = "buy"
        fee = {}
        fee_cost = D(0)
        if not simple and draw(st.booleans()):
            if draw(st.booleans()):
                fee = {"fee_asset": "USD", "fee_amount": money(draw, 1000)}
                fee_cost = fee["fee_amount"]
            else:
                payers = [a for a in ASSETS if held[(wallet, a)] > 0]
                if payers:
                    payer = draw(st.sampled_from(payers))
                    fee_quantity = part_of(draw, held[(wallet, payer)] / 8)
                    if fee_quantity:
                        fee = {"fee_asset": payer, "fee_amount": fee_quantity}
                        if kind == "buy" or draw(st.booleans()) or payer != asset:
                            fee["fee_value"] = money(draw, 1000)
                        fee_cost = fee.get("fee_value", D(0))

        def pays_fee():
            if "fee_amount" in fee and fee["fee_asset"] != "USD":
                held[(wallet, fee["fee_asset"])] -= fee["fee_amount"]

        if kind == "buy":
            amount, usd = quantity(draw), money(draw)
            trades.append(Trade(when, sent_asset="USD", sent_amount=usd, received_asset=asset,
                                received_amount=amount, wallet=wallet, ref=ref, **fee))
            pays_fee()
            held[(wallet, asset)] += amount
            acquired[asset] += amount
            costs += [usd, fee_cost]
            continue
        if kind in ("income", "receive"):
            amount, worth = quantity(draw), money(draw)
            label = ""
            if kind == "income":
                label = draw(st.sampled_from(["staking", "reward", "airdrop", "mining", "income"]))
                income_value += worth
            trades.append(Trade(when, received_asset=asset, received_amount=amount, net_worth=worth,
                                label=label, wallet=wallet, ref=ref, **fee))
            pays_fee()
            held[(wallet, asset)] += amount
            acquired[asset] += amount
            if fee.get("fee_asset") == asset and "fee_value" not in fee:  # priced at the row's own rate
                with localcontext(prec=50):
                    fee_cost = worth * fee["fee_amount"] / amount
            costs += [worth, fee_cost]  # the fee is a cost of acquisition (issue 10 rule 4)
            continue
        if kind == "fee_only":
            if "fee_asset" in fee and fee["fee_asset"] != "USD":  # a disposal of the fee units at net worth
                value = money(draw, 1000)
                extra = {"fee_value": value} if draw(st.booleans()) else {}
                trades.append(Trade(when, fee_asset=fee["fee_asset"], fee_amount=fee["fee_amount"], net_worth=value,
                                    wallet=wallet, ref=ref, **extra))
                pays_fee()
            else:  # a fiat fee only: no holdings change, an expense
                amount = money(draw, 1000) + D("0.01")
                trades.append(Trade(when, fee_asset="USD", fee_amount=amount, wallet=wallet, ref=ref))
                expense_fees += amount
            continue
        if kind == "transfer_in":
            asset = draw(st.sampled_from([a for a in ASSETS if in_transit[a] > 0]))
            amount = part_of(draw, in_transit[asset]) or in_transit[asset]
            trades.append(
                Trade(when, received_asset=asset, received_amount=amount, label="transfer", wallet=wallet, ref=ref)
            )
            in_transit[asset] -= amount
            held[(wallet, asset)] += amount
            continue
        # Everything else sends `asset` from `wallet`; a fee in the same asset must fit beside it.
        available = held[(wallet, asset)]
        if fee.get("fee_asset") == asset:
            available -= fee["fee_amount"]
        amount = part_of(draw, available) if available > 0 else D(0)
        if not amount:
            continue
        if kind == "sell":
            trades.append(Trade(when, sent_asset=asset, sent_amount=amount, received_asset="USD",
                                received_amount=money(draw), wallet=wallet, ref=ref, **fee))
        elif kind == "swap":
            target = draw(st.sampled_from([a for a in ASSETS if a != asset]))
            received, worth = quantity(draw), money(draw)
            trades.append(Trade(when, sent_asset=asset, sent_amount=amount, received_asset=target,
                                received_amount=received, net_worth=worth, wallet=wallet, ref=ref, **fee))
            held[(wallet, target)] += received
            acquired[target] += received
            costs.append(worth)
        elif kind == "spend":
            label = draw(st.sampled_from(["cost", "payment"]))
            trades.append(Trade(when, sent_asset=asset, sent_amount=amount, label=label,
                                net_worth=money(draw), wallet=wallet, ref=ref, **fee))
        elif kind in ("gift", "lost"):
            if "fee_asset" in fee and fee["fee_asset"] != "USD" and "fee_value" not in fee:
                fee["fee_value"] = money(draw, 1000)
            # a gift always has its net worth (required under uk and acb); a loss sometimes (ignored)
            worth = money(draw) if kind == "gift" or draw(st.booleans()) else None
            trades.append(Trade(when, sent_asset=asset, sent_amount=amount, label=kind, net_worth=worth, wallet=wallet,
                                ref=ref, **fee))
            if fee.get("fee_asset") == "USD":
                if kind == "gift":
                    gift_fiat_fees += fee["fee_amount"]
                else:
                    expense_fees += fee["fee_amount"]
        elif kind == "transfer":
            target = "B" if wallet == "A" else "A"
            if "fee_asset" in fee and fee["fee_asset"] != "USD" and "fee_value" not in fee:
                fee["fee_value"] = money(draw, 1000)
            trades.append(Trade(when, sent_asset=asset, sent_amount=amount, wallet=wallet, to_wallet=target, ref=ref, **fee))
            held[(target, asset)] += amount
            if fee.get("fee_asset") == "USD":
                expense_fees += fee["fee_amount"]
        else:  # transfer_out
            if "fee_asset" in fee and fee["fee_asset"] != "USD" and "fee_value" not in fee:
                fee["fee_value"] = money(draw, 1000)
            trades.append(Trade(when, sent_asset=asset, sent_amount=amount, label="transfer", wallet=wallet, ref=ref, **fee))
            in_transit[asset] += amount
            if fee.get("fee_asset") == "USD":
                expense_fees += fee["fee_amount"]
        held[(wallet, asset)] -= amount
        pays_fee()
    with localcontext(prec=50):
        cost = sum(costs, D(0))
    return History(trades, acquired, cost, held, in_transit, income_value, expense_fees, gift_fiat_fees)


def runs(history):
    """Every (method, lot_scope) the engine accepts, with its result."""
    for method in METHODS:
        for scope in ("all", "wallet") if method != "uk" else ("all",):
            yield method, scope, compute(history.trades, method=method, lot_scope=scope)


@SETTINGS
@given(histories())
def test_quantity_is_conserved_for_every_method(history):
    for method, scope, result in runs(history):
        for asset in ASSETS:
            disposed = sum((d.quantity for d in result.disposals if d.asset == asset), D(0))
            removed = sum((r.quantity for r in result.removals if r.asset == asset), D(0))
            still_held = sum((lot.quantity for lot in result.open_lots if lot.asset == asset), D(0))
            assert history.acquired[asset] == disposed + removed + still_held, (method, scope, asset)
            expected_held = sum(q for (_, a), q in history.held.items() if a == asset)
            in_transit = sum((lot.quantity for lot in result.open_lots if lot.asset == asset and lot.wallet == IN_TRANSIT), D(0))
            if method != "uk":  # uk keeps one pool per person, in transit or not
                assert in_transit == history.in_transit[asset], (method, scope, asset)
            assert still_held == expected_held + history.in_transit[asset], (method, scope, asset)
        if scope == "wallet":
            for (wallet, asset), quantity in history.held.items():
                lots = sum((lot.quantity for lot in result.open_lots if (lot.wallet, lot.asset) == (wallet, asset)), D(0))
                assert lots == quantity, (method, wallet, asset)


@SETTINGS
@given(histories())
def test_gains_are_proceeds_minus_cost_and_costs_are_the_lots_used(history):
    for method, scope, result in runs(history):
        with localcontext(prec=50):
            for d in result.disposals:
                assert d.gain == d.proceeds - d.cost_basis
                assert d.quantity == sum((m.quantity for m in d.lots), D(0))
                assert abs(d.cost_basis - sum((m.cost for m in d.lots), D(0))) <= TOLERANCE
                assert d.term in ("short", "long", "various")
            gains = sum((d.gain for d in result.disposals), D(0))
            proceeds = sum((d.proceeds for d in result.disposals), D(0))
            costs = sum((d.cost_basis for d in result.disposals), D(0))
            assert abs(gains - (proceeds - costs)) <= TOLERANCE, (method, scope)
            lot_costs = sum((lot.cost for lot in result.open_lots), D(0))
            removed = sum((r.cost for r in result.removals), D(0))
            # every unit of cost acquired is either used by a disposal or a removal, or still held
            assert abs(costs + removed + lot_costs - history.acquisition_cost) <= TOLERANCE, (method, scope)


@SETTINGS
@given(histories())
def test_income_stays_its_fair_value_and_fiat_fees_outside_capital_are_expenses(history):
    # Issue 10 rules 4 and 5: the fee on an income row is a cost of acquisition, not less income; a
    # fiat fee that is no part of any cost or proceeds (fee-only rows, own transfers, losses, gifts
    # under the US methods) is listed once in Result.expenses.
    for method, scope, result in runs(history):
        assert sum((e.value for e in result.income), D(0)) == history.income_value, (method, scope)
        expected = history.expense_fees + (history.gift_fiat_fees if method in ("fifo", "lifo", "hifo") else 0)
        assert sum((e.amount for e in result.expenses), D(0)) == expected, (method, scope)
        # gifts: disposals under uk and acb, removals under the US methods; losses: always removals
        assert not any(d.kind == "gift" for d in result.disposals) or method in ("acb", "uk")
        assert all(r.label == "lost" for r in result.removals) or method in ("fifo", "lifo", "hifo")


def reference_matches(trades, method):
    """Naive specific-lot model: a list of lots scanned in the method's order for every disposal."""
    lots, matches, next_id = [], [], 0
    with localcontext(prec=50):
        def acquire(asset, amount, lot_cost):
            nonlocal next_id
            next_id += 1
            lots.append({"id": next_id, "asset": asset, "qty": amount, "cost": lot_cost, "unit": lot_cost / amount})

        def dispose(asset, amount):
            order = {
                "fifo": lambda lot: lot["id"],
                "lifo": lambda lot: -lot["id"],
                "hifo": lambda lot: (-lot["unit"], lot["id"]),
            }[method]
            used = []
            for lot in sorted((lot for lot in lots if lot["asset"] == asset and lot["qty"]), key=order):
                if not amount:
                    break
                take = min(lot["qty"], amount)
                take_cost = lot["cost"] if take == lot["qty"] else lot["cost"] * take / lot["qty"]
                lot["qty"] -= take
                lot["cost"] -= take_cost
                amount -= take
                used.append((lot["id"], take, take_cost))
            matches.append(used)

        for t in trades:
            if t.sent_asset == "USD":
                acquire(t.received_asset, t.received_amount, t.sent_amount)
            elif t.received_asset == "USD":
                dispose(t.sent_asset, t.sent_amount)
            elif t.sent_asset:
                dispose(t.sent_asset, t.sent_amount)
                acquire(t.received_asset, t.received_amount, t.net_worth)
            else:
                acquire(t.received_asset, t.received_amount, t.net_worth)
    open_lots = sorted((lot["id"], lot["qty"]) for lot in lots if lot["qty"])
    return matches, open_lots


@settings(SETTINGS, max_examples=200)
@given(histories(simple=True, max_size=40))
def test_specific_lot_methods_consume_exactly_the_lots_a_naive_model_picks(history):
    for method in ("fifo", "lifo", "hifo"):
        result = compute(history.trades, method=method)
        expected, expected_open = reference_matches(history.trades, method)
        assert [[(m.lot_id, m.quantity, m.cost) for m in d.lots] for d in result.disposals] == expected, method
        assert sorted((lot.lot_id, lot.quantity) for lot in result.open_lots) == expected_open


@settings(SETTINGS, max_examples=100)
@given(histories())
def test_total_cost_basis_is_the_same_for_every_method_once_everything_is_sold(history):
    trades = list(history.trades)
    end = (trades[-1].date if trades else START) + timedelta(days=1)
    for asset, amount in history.in_transit.items():
        if amount:
            trades.append(Trade(end, received_asset=asset, received_amount=amount, label="transfer", wallet="A"))
    held = dict(history.held)
    for asset, amount in history.in_transit.items():
        held[("A", asset)] += amount
    for (wallet, asset), amount in held.items():
        if amount:
            trades.append(Trade(end, sent_asset=asset, sent_amount=amount, received_asset="USD",
                                received_amount=D(1), wallet=wallet))
    totals = {}
    for method, scope, result in runs(History(trades, history.acquired, history.acquisition_cost, {}, {})):
        assert result.open_lots == [], (method, scope)
        with localcontext(prec=50):
            totals[(method, scope)] = sum((d.cost_basis for d in result.disposals), D(0)) + sum(
                (r.cost for r in result.removals), D(0))
    for key, total in totals.items():
        assert abs(total - history.acquisition_cost) <= TOLERANCE, key


@SETTINGS
@given(histories())
def test_a_run_fed_one_trade_at_a_time_gives_what_compute_gives(history):
    """ComputeRun (the tax report over a history too large to hold) is the same computation."""
    ordered = sorted(history.trades, key=lambda trade: trade.date)
    for method, scope, result in runs(history):
        run = ComputeRun(method=method, lot_scope=scope)
        for trade in ordered:
            run.add(trade)
        assert run.finish() == result, (method, scope)


def test_a_run_refuses_a_trade_older_than_the_last_and_a_bad_call():
    first = Trade(date=START + timedelta(days=2), sent_asset="USD", sent_amount=D(10), received_asset="BTC",
                  received_amount=D(1))
    earlier = Trade(date=START, sent_asset="USD", sent_amount=D(10), received_asset="BTC", received_amount=D(1))
    run = ComputeRun(method="fifo")
    run.add(first)
    with pytest.raises(ValueError, match="date order"):
        run.add(earlier)
    with pytest.raises(TradeError, match="lot_scope must be 'all'"):
        ComputeRun(method="uk", lot_scope="wallet")
    with pytest.raises(TradeError, match="not a Trade"):
        ComputeRun(method="fifo").add({"date": START})
