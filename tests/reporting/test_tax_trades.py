"""Chain transactions as cost-basis trades: own transfers as one trade, gas fees valued from the price
store, unlabelled sends as transfers, labelled ones as disposals; pending and failed rows skipped.
The trades are the organization's (`tax_trades_for(organization)`), with its settings."""

import datetime as dt
from decimal import Decimal

import pytest

from ledger.cost_basis import IN_TRANSIT, compute
from ledger.tax_trades import tax_trades_for
from reporting.selectors import tax_summary_for

A = "0x" + "a1" * 20
B = "0x" + "b2" * 20
STRANGER = "0x" + "c3" * 20
COLLEAGUE = "0x" + "d4" * 20


def _day(n: int) -> dt.datetime:
    return dt.datetime(2026, 3, n, 12, tzinfo=dt.UTC)


@pytest.fixture
def chain_history(make_user):
    from wallets.models import Cryptocurrency, PriceQuote, Transaction, Wallet

    user = make_user()
    organization = user.organization
    eth = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ether"})[0]
    first = Wallet.objects.create(name="hot", address=A, user=user, organization=organization, wallet_type="MetaMask",
                                  slot=1)
    second = Wallet.objects.create(name="cold", address=B, user=user, organization=organization,
                                   wallet_type="MetaMask", slot=2)
    for day, price in ((1, "2000"), (2, "2500"), (5, "3000")):
        PriceQuote.objects.create(symbol="ETH", fiat="USD", day=_day(day).date(), price=Decimal(price))

    def chain(wallet, *, day, amount, sender, receiver, direction, tx_hash, fee="0", status="CONFIRMED", label=""):
        return Transaction.objects.create(
            transaction_type="TRANSFER", user=user, organization=organization, wallet=wallet, cryptocurrency=eth, amount=Decimal(amount),
            transaction_date=_day(day), hash=tx_hash, log_index=None, from_address=sender, to_address=receiver,
            direction=direction, fee=Decimal(fee), gas_fee=Decimal(fee) or None, source="chain", status=status,
            external_id=f"chain:{tx_hash}:-1:{wallet.address}", tax_category=label)

    # Day 1: 2 ETH arrive from a stranger (no fiat value stored): an acquisition at 2 x 2,000 = 4,000.
    chain(first, day=1, amount="2", sender=STRANGER, receiver=A, direction="in", tx_hash="0x01")
    # Day 2: 1 ETH hot -> cold, gas 0.001 ETH: one row in each wallet, one own transfer.
    chain(first, day=2, amount="1", sender=A, receiver=B, direction="out", tx_hash="0x02", fee="0.001")
    chain(second, day=2, amount="1", sender=A, receiver=B, direction="in", tx_hash="0x02")
    # Day 5: 0.5 ETH from cold paid to a supplier (labelled payment): a disposal at 0.5 x 3,000.
    chain(second, day=5, amount="0.5", sender=B, receiver=STRANGER, direction="out", tx_hash="0x05", fee="0.002",
          label="payment")
    # Day 5: 0.2 ETH from hot, unlabelled: a transfer out to another wallet of the user's (in transit).
    chain(first, day=5, amount="0.2", sender=A, receiver=STRANGER, direction="out", tx_hash="0x06", fee="0.001")
    # Pending and failed rows do not count.
    chain(first, day=5, amount="5", sender=A, receiver=STRANGER, direction="out", tx_hash="0x07", status="PENDING")
    chain(first, day=5, amount="5", sender=A, receiver=STRANGER, direction="out", tx_hash="0x08", status="FAILED")
    return organization


def test_chain_rows_become_trades(chain_history):
    tax_input = tax_trades_for(chain_history)
    trades = tax_input.trades
    assert [t.ref for t in trades] == ["0x01", "0x02", "0x05", "0x06"]
    receive, own, payment, withdrawal = trades
    assert (receive.received_asset, receive.received_amount, receive.net_worth) == ("ETH", Decimal("2"), Decimal("4000"))
    assert (own.wallet, own.to_wallet, own.label, own.fee_amount, own.fee_value) == (A, B, "transfer", Decimal("0.001"),
                                                                                    Decimal("2.5"))
    # Its gas is in the same asset: the engine takes the rate from the trade (1,500 / 0.5 ETH).
    assert (payment.label, payment.net_worth, payment.fee_value) == ("payment", Decimal("1500"), None)
    assert (withdrawal.label, withdrawal.sent_amount) == ("transfer", Decimal("0.2"))
    assert len(tax_input.warnings) == 4 and all("stored price" in w for w in tax_input.warnings)


def test_fifo_across_wallets_and_per_wallet(chain_history):
    trades = tax_trades_for(chain_history).trades
    # All wallets: one lot of 2 ETH at 2,000 each. Disposals: the day-2 gas 0.001 (proceeds 2.50,
    # cost 2.00), the day-5 payment 0.5 (proceeds 1,500 - 6 gas = 1,494, cost 1,000), its gas 0.002
    # (proceeds 6, cost 4) and the withdrawal's gas 0.001 (proceeds 3, cost 2).
    result = compute(trades, method="fifo", lot_scope="all")
    assert [(d.quantity, d.proceeds, d.cost_basis, d.kind) for d in result.disposals] == [
        (Decimal("0.001"), Decimal("2.5"), Decimal("2.000"), "fee"),
        (Decimal("0.5"), Decimal("1494"), Decimal("1000.0"), "spend"),
        (Decimal("0.002"), Decimal("6"), Decimal("4.000"), "fee"),
        (Decimal("0.001"), Decimal("3"), Decimal("2.000"), "fee"),
    ]
    in_transit = [lot for lot in result.open_lots if lot.wallet == IN_TRANSIT]
    assert sum(lot.quantity for lot in in_transit) == Decimal("0.2")
    # Per wallet: the payment comes out of "cold", which got its 1 ETH from "hot" with its cost.
    per_wallet = compute(trades, method="fifo", lot_scope="wallet")
    payment = next(d for d in per_wallet.disposals if d.kind == "spend")
    assert (payment.wallet, payment.cost_basis, str(payment.date_acquired)) == (B, Decimal("1000.0"), "2026-03-01")


def test_summary_uses_the_organizations_settings(chain_history):
    chain_history.cost_basis_method = "hifo"
    chain_history.save(update_fields=["cost_basis_method"])
    summary = tax_summary_for(chain_history, start=dt.date(2026, 3, 5), end=dt.date(2026, 3, 5))
    assert summary.method == "hifo" and summary.fiat == "USD" and summary.user_label == "Acme"
    assert len(summary.disposals) == 3  # the day-2 fee is outside the period
    assert summary.total_gains == Decimal("494") + Decimal("2") + Decimal("1")


def test_another_members_and_another_organizations_rows(chain_history, make_user, make_organization):
    """A colleague's wallet is the organization's: a transfer from it to "hot" is an own transfer of
    the organization. Another organization's rows never appear, even on the same address."""
    from wallets.models import Cryptocurrency, Transaction, Wallet

    eth = Cryptocurrency.objects.get(symbol="ETH")
    colleague = make_user()
    third = Wallet.objects.create(name="colleague", address=COLLEAGUE, user=colleague, organization=chain_history,
                                  wallet_type="MetaMask", slot=1)
    for wallet, direction in ((third, "out"), (Wallet.objects.get(address=A, organization=chain_history), "in")):
        Transaction.objects.create(
            transaction_type="TRANSFER", user=wallet.user, organization=chain_history, wallet=wallet,
            cryptocurrency=eth, amount=Decimal("0.3"), transaction_date=_day(6), hash="0x09", log_index=None,
            from_address=COLLEAGUE, to_address=A, direction=direction, fee=Decimal(0), source="chain",
            status="CONFIRMED", external_id=f"chain:0x09:-1:{wallet.address}")
    elsewhere = make_organization("Elsewhere")
    outsider = make_user(organization=elsewhere)
    theirs = Wallet.objects.create(name="theirs", address=A, user=outsider, organization=elsewhere,
                                   wallet_type="MetaMask", slot=1)
    Transaction.objects.create(
        transaction_type="TRANSFER", user=outsider, organization=elsewhere, wallet=theirs, cryptocurrency=eth,
        amount=Decimal("9"), transaction_date=_day(1), hash="0xff", log_index=None, from_address=STRANGER,
        to_address=A, direction="in", fee=Decimal(0), source="chain", status="CONFIRMED",
        external_id=f"chain:0xff:-1:{A}")

    trades = tax_trades_for(chain_history).trades
    assert [t.ref for t in trades] == ["0x01", "0x02", "0x05", "0x06", "0x09"]
    own = trades[-1]
    assert (own.wallet, own.to_wallet, own.label, own.sent_amount) == (COLLEAGUE, A, "transfer", Decimal("0.3"))
    assert [t.ref for t in tax_trades_for(elsewhere).trades] == ["0xff"]
