"""The wallet monitor on a real anvil node: confirmed transfers recorded exactly once, ERC-20 logs,
our own sends confirmed with their fee, and no ghost row after a reorg within the confirmation depth."""

from decimal import Decimal

import pytest
from eth_account import Account

from accounts.models import Notification
from accounts.sessions import session_approve, session_login
from wallets import chain
from wallets.erc20 import erc20_contract, erc20_deploy_demo_token, erc20_mint_demo
from wallets.models import Cryptocurrency, OutgoingTransfer, Transaction, TransferStatus, WalletType
from wallets.monitoring import monitor_scan
from wallets.services import wallet_create, wallet_monitoring_enable
from wallets.transfers import payout_send, transfer_send

pytestmark = pytest.mark.django_db(transaction=True)


def rpc(method, *params):
    return chain.web3_client().provider.make_request(method, list(params))["result"]


def mine(blocks):
    rpc("anvil_mine", hex(blocks))


@pytest.fixture
def watched(make_user, eth_node, settings):
    settings.ETH_CONFIRMATIONS = 3
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    user = make_user()
    wallet = wallet_create(user=user, name="watched", wallet_type=WalletType.PRIVATE_KEY)
    wallet_monitoring_enable(wallet=wallet)
    monitor_scan()  # catch up to now: only what happens next matters
    return user, wallet


def test_incoming_eth_is_recorded_once_after_enough_confirmations(watched):
    user, wallet = watched
    tx_hash = chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("0.75")))
    monitor_scan()
    assert not Transaction.objects.filter(hash=tx_hash).exists()  # 1 confirmation: not yet
    mine(2)
    report = monitor_scan()
    row = Transaction.objects.get(hash=tx_hash)
    assert report.recorded == 1 and row.amount == Decimal("0.75") and row.status == "CONFIRMED"
    assert row.to_address == wallet.address and row.external_id == f"chain:{tx_hash}:-1:{wallet.address}"
    assert Notification.objects.filter(user=user, type="TRANSACTION").count() == 1
    mine(5)
    monitor_scan()
    monitor_scan()
    assert Transaction.objects.filter(hash=tx_hash).count() == 1


def test_rescanning_from_the_start_records_nothing_twice(watched):
    _, wallet = watched
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("0.1")))
    mine(3)
    monitor_scan()
    before = Transaction.objects.count()
    from wallets.models import ChainCheckpoint

    ChainCheckpoint.objects.update(last_block=-1)  # as if the checkpoint write was lost in a crash
    report = monitor_scan()
    assert Transaction.objects.count() == before and report.skipped_duplicates >= 1


def test_erc20_transfers_are_recorded_with_exact_amounts(watched):
    _, wallet = watched
    address = erc20_deploy_demo_token(name="Mon Dollar", symbol="MUSD", decimals=6)
    Cryptocurrency.objects.create(name="Mon Dollar", symbol="MUSD", contract_address=address, decimals=6)
    tx_hash = erc20_mint_demo(token_address=address, to=wallet.address, amount=Decimal("42.000001"), decimals=6)
    mine(3)
    monitor_scan()
    row = Transaction.objects.get(hash=tx_hash)
    assert row.cryptocurrency.symbol == "MUSD" and row.amount == Decimal("42.000001") and row.log_index == 0


def test_our_send_is_confirmed_with_the_fee_paid(watched):
    user, wallet = watched
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("1")))
    _, session, _ = session_login(login=user.username, password="Passw0rd!long", ip=None)
    session_approve(session=session, password="Passw0rd!long", ip=None)
    transfer, _ = transfer_send(user=user, session=session, wallet=wallet, to=Account.create().address,
                                amount=Decimal("0.2"), idempotency_key="m-1")
    mine(3)
    report = monitor_scan()
    row = Transaction.objects.get(hash=transfer.tx_hash)
    assert report.confirmed_sends == 1 and row.status == "CONFIRMED"
    assert row.gas_used == 21000 and row.gas_fee > 0
    assert OutgoingTransfer.objects.get(pk=transfer.pk).status == TransferStatus.CONFIRMED
    assert Transaction.objects.filter(hash=transfer.tx_hash).count() == 1


def test_a_reorg_within_the_confirmation_depth_leaves_no_ghost(watched):
    _, wallet = watched
    snapshot = rpc("evm_snapshot")
    ghost = chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("5")))
    monitor_scan()  # the block has 1 confirmation: not recorded
    assert rpc("evm_revert", snapshot) is True  # the chain drops that block
    mine(5)
    monitor_scan()
    assert not Transaction.objects.filter(hash=ghost).exists()
    assert chain.eth_balance(wallet.address) == 0


@pytest.mark.integration
def test_killing_the_monitor_mid_scan_loses_and_doubles_nothing(watched, settings):
    """kill -9 a monitor process while it records transfers, then let another run finish."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from django.db import connection

    _, wallet = watched
    hashes = [chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("0.01")))
              for _ in range(25)]
    mine(3)
    script = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
              "from wallets.monitoring import monitor_scan; monitor_scan()")
    env = {**os.environ, "MONGODB_URI": settings.DATABASES["default"]["HOST"],
           "MONGODB_NAME": connection.settings_dict["NAME"], "ETH_RPC_URL": settings.ETH_RPC_URL,
           "ETH_CONFIRMATIONS": "3", "LOG_TO_FILES": "false"}
    process = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR)
    deadline = time.monotonic() + 180  # generous: a loaded machine starts Django slowly
    while Transaction.objects.filter(hash__in=hashes).count() < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    recorded_before_kill = Transaction.objects.filter(hash__in=hashes).count()
    assert 0 < recorded_before_kill  # it was killed part-way (or just after finishing)
    monitor_scan()
    monitor_scan()
    assert Transaction.objects.filter(hash__in=hashes).count() == 25
    assert len(set(Transaction.objects.filter(hash__in=hashes).values_list("hash", flat=True))) == 25


def test_several_sends_in_one_block_settle_in_place_with_their_real_log_index(watched, settings):
    """Issue 11: pending token sends stored log index 0; with several transfers in one block the monitor
    then wrote a second row and left the pending one behind. Now each send is matched by hash and
    the log's index from its receipt: one row each, none pending, no orphan."""
    user, wallet = watched
    w3 = chain.web3_client()
    token_address = erc20_deploy_demo_token(name="Block Dollar", symbol="BUSD", decimals=6)
    Cryptocurrency.objects.create(name="Block Dollar", symbol="BUSD", contract_address=token_address, decimals=6)
    erc20_mint_demo(token_address=token_address, to=wallet.address, amount=Decimal("100"), decimals=6)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("1")))
    mine(3)
    monitor_scan()
    rpc("evm_setAutomine", False)
    try:
        # someone else's token transfer first in the block, so our logs are not at index 0
        dev = chain.dev_account()
        mint = erc20_contract(w3, token_address).functions.mint(Account.create().address, 5).build_transaction({
            "from": dev.address, "nonce": w3.eth.get_transaction_count(dev.address, "pending"),
            "chainId": settings.ETH_CHAIN_ID, "gas": 200000, "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**10})
        w3.eth.send_raw_transaction(dev.sign_transaction(mint).raw_transaction)
        sends = [payout_send(organization_id=wallet.organization_id, wallet=wallet, to=Account.create().address,
                             amount=Decimal(amount), asset=asset, intent_key=f"block-{n}", requested_by=user)
                 for n, (asset, amount) in enumerate([("BUSD", "1.5"), ("ETH", "0.01"), ("BUSD", "2.25")])]
        rpc("evm_mine")
    finally:
        rpc("evm_setAutomine", True)
    blocks = {w3.eth.get_transaction_receipt(s.tx_hash)["blockNumber"] for s in sends}
    assert len(blocks) == 1  # all in one block
    mine(3)
    report = monitor_scan()
    assert report.confirmed_sends == 3
    for transfer in OutgoingTransfer.objects.filter(pk__in=[s.pk for s in sends]):
        assert transfer.status == TransferStatus.CONFIRMED and transfer.fee > 0
        receipt = w3.eth.get_transaction_receipt(transfer.tx_hash)
        rows = Transaction.objects.filter(hash=transfer.tx_hash, cryptocurrency=transfer.cryptocurrency)
        assert rows.count() == 1
        row = rows.get()
        assert row.pk == transfer.transaction_id and row.status == "CONFIRMED" and row.amount == transfer.amount
        if transfer.cryptocurrency.contract_address:
            assert row.log_index == receipt["logs"][0]["logIndex"] and row.log_index > 0
            assert row.external_id == f"chain:{transfer.tx_hash}:{row.log_index}:{wallet.address}"
    assert not Transaction.objects.filter(status="PENDING").exists()
    monitor_scan()
    assert Transaction.objects.filter(hash__in=[s.tx_hash for s in sends], cryptocurrency__symbol="BUSD").count() == 2
