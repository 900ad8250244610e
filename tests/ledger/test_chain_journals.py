"""The monitor books what it records: an incoming transfer from outside as an acquisition at the
stored price (owner contribution), an own transfer between two wallets as its gas fee only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from ledger.models import EntryStatus, JournalEntry
from wallets import chain
from wallets.models import Cryptocurrency, PriceQuote, Transaction, WalletType
from wallets.monitoring import monitor_scan
from wallets.services import wallet_create, wallet_monitoring_enable

pytestmark = pytest.mark.django_db(transaction=True)


def mine(blocks):
    chain.web3_client().provider.make_request("anvil_mine", [hex(blocks)])


def test_monitor_books_chain_transfers(make_user, eth_node, settings):
    settings.ETH_CONFIRMATIONS = 1
    settings.HUEY_IMMEDIATE = True
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    today = timezone.localdate()
    for day in (today - dt.timedelta(days=3), today):
        PriceQuote.objects.create(symbol="ETH", fiat="USD", day=day, price=Decimal("2000"))
    user = make_user()
    wallet = wallet_create(user=user, name="hot", wallet_type=WalletType.PRIVATE_KEY)
    wallet_monitoring_enable(wallet=wallet)
    monitor_scan()

    tx_hash = chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("1.5")))
    mine(1)
    monitor_scan()
    received = Transaction.objects.get(hash=tx_hash)
    entry = JournalEntry.objects.get(source_transaction=received, status=EntryStatus.POSTED)
    # 1.5 ETH x 2,000: in at 3,000 against owner's capital.
    amounts = sorted((line.debit_amount, line.credit_amount, line.asset) for line in entry.line_items)
    assert amounts == [(Decimal("0"), Decimal("3000"), ""), (Decimal("3000"), Decimal("0"), "ETH")]
    assert entry.transaction_hash == tx_hash.lower()

    monitor_scan()  # nothing new: nothing booked twice
    assert JournalEntry.objects.filter(source_transaction=received).count() == 1
