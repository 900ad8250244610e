"""The send reconciler on a real anvil node (issue 19, item 2): stored bytes the node lost are sent
again (never re-signed), a nonce gap left by an older version is filled without a second payment, a
long-stuck send is marked and its way out (a fee bump of the same nonce) pays once."""

from decimal import Decimal

import pytest
from eth_account import Account

from accounts.models import Notification
from core.errors import Conflict
from wallets import chain, transfers
from wallets.models import Cryptocurrency, OutgoingTransfer, Transaction, TransferKind, TransferStatus, WalletType
from wallets.monitoring import monitor_scan
from wallets.reconciler import sends_reconcile
from wallets.services import wallet_create, wallet_monitoring_enable
from wallets.transfers import payout_send, transfer_fee_bump

pytestmark = pytest.mark.django_db(transaction=True)


def rpc(method, *params):
    return chain.web3_client().provider.make_request(method, list(params))


def mine(blocks):
    rpc("anvil_mine", hex(blocks))


@pytest.fixture
def payer(make_user, eth_node, settings):
    settings.ETH_CONFIRMATIONS = 3
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    user = make_user()
    wallet = wallet_create(user=user, name="treasury", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("2")))
    wallet_monitoring_enable(wallet=wallet)
    monitor_scan()
    yield user, wallet
    rpc("evm_setAutomine", True)


def pay(user, wallet, key, to, amount="0.1"):
    return payout_send(organization_id=wallet.organization_id, wallet=wallet, to=to, amount=Decimal(amount),
                       intent_key=key, requested_by=user)


def test_a_send_the_node_lost_is_rebroadcast_with_the_same_bytes(payer):
    user, wallet = payer
    rpc("evm_setAutomine", False)
    to = Account.create().address
    sent = pay(user, wallet, "lost-1", to)
    assert sent.status == TransferStatus.BROADCAST
    rpc("anvil_dropTransaction", sent.tx_hash)  # the node restarts without its pool, say
    assert not transfers.node_knows(sent.tx_hash)

    report = sends_reconcile()
    assert report.rebroadcast == 1 and transfers.node_knows(sent.tx_hash)
    again = OutgoingTransfer.objects.get(pk=sent.pk)
    assert again.signed_raw_transaction == sent.signed_raw_transaction and again.tx_hash == sent.tx_hash
    rpc("evm_setAutomine", True)
    mine(3)
    assert sends_reconcile().settled == 1
    assert OutgoingTransfer.objects.get(pk=sent.pk).status == TransferStatus.CONFIRMED
    assert chain.web3_client().eth.get_balance(to) == chain.eth_to_wei(Decimal("0.1"))


def test_a_nonce_gap_is_filled_without_paying_anyone_twice(payer, monkeypatch):
    """The state issue 19 found: a nonce used up with no record, the next send queued behind it."""
    user, wallet = payer
    w3 = chain.web3_client()
    base = w3.eth.get_transaction_count(wallet.address)
    real_next_nonce = transfers.next_nonce
    monkeypatch.setattr(transfers, "next_nonce", lambda w3, address: real_next_nonce(w3, address) + 1)
    to = Account.create().address
    stuck = pay(user, wallet, "after-the-gap", to)
    monkeypatch.undo()
    assert stuck.nonce == base + 1 and w3.eth.get_transaction_count(wallet.address, "pending") == base
    mine(3)
    assert w3.eth.get_balance(to) == 0  # waits behind the hole

    report = sends_reconcile()
    assert report.fillers == 1
    filler = OutgoingTransfer.objects.get(kind=TransferKind.NONCE_FILLER)
    assert filler.nonce == base and filler.to_address == wallet.address and filler.amount == 0
    mine(3)
    sends_reconcile()
    assert w3.eth.get_transaction_count(wallet.address) == base + 2
    assert w3.eth.get_balance(to) == chain.eth_to_wei(Decimal("0.1"))
    assert OutgoingTransfer.objects.get(pk=stuck.pk).status == TransferStatus.CONFIRMED
    assert OutgoingTransfer.objects.get(pk=filler.pk).status == TransferStatus.CONFIRMED
    assert sends_reconcile().fillers == 0  # no gap any more
    # the next send follows on
    assert pay(user, wallet, "next", Account.create().address).nonce == base + 2


def test_a_stuck_send_is_visible_and_a_fee_bump_pays_once(payer, settings):
    user, wallet = payer
    settings.TRANSFER_STUCK_AFTER_SECONDS = 0
    rpc("evm_setAutomine", False)
    to = Account.create().address
    sent = pay(user, wallet, "slow-1", to, amount="0.3")
    report = sends_reconcile()
    stuck = OutgoingTransfer.objects.get(pk=sent.pk)
    assert report.stuck == 1 and stuck.status == TransferStatus.STUCK and "transfer_fee_bump" in stuck.error
    assert Notification.objects.filter(user=user, title__contains="stuck", priority="HIGH").count() == 1
    assert sends_reconcile().stuck == 0  # marked once

    bumped = transfer_fee_bump(transfer=stuck, actor=user)
    assert bumped.nonce == sent.nonce and bumped.tx_hash != sent.tx_hash
    assert bumped.replaced_hashes == [sent.tx_hash] and bumped.status == TransferStatus.BROADCAST
    assert int(bumped.max_priority_fee_per_gas) > int(sent.max_priority_fee_per_gas)
    # were the old signature mined instead, the monitor would still find this intent by it
    assert transfers.transfer_for_hash(organization_id=wallet.organization_id, wallet_id=wallet.pk,
                                       tx_hash=sent.tx_hash).pk == sent.pk
    rpc("evm_setAutomine", True)
    mine(3)
    monitor_scan()
    w3 = chain.web3_client()
    assert w3.eth.get_balance(to) == chain.eth_to_wei(Decimal("0.3"))
    assert w3.eth.get_transaction_receipt(bumped.tx_hash)["status"] == 1
    done = OutgoingTransfer.objects.get(pk=sent.pk)
    assert done.status == TransferStatus.CONFIRMED and done.fee > 0
    rows = Transaction.objects.filter(wallet=wallet, amount=Decimal("0.3"))
    assert rows.count() == 1 and rows.get().hash == bumped.tx_hash and rows.get().status == "CONFIRMED"


def test_the_same_intent_key_pays_once(payer):
    user, wallet = payer
    to = Account.create().address
    first = pay(user, wallet, "invoice-7", to)
    assert pay(user, wallet, "invoice-7", to).pk == first.pk
    with pytest.raises(Conflict):
        pay(user, wallet, "invoice-7", to, amount="0.2")
    assert OutgoingTransfer.objects.filter(wallet=wallet).count() == 1
