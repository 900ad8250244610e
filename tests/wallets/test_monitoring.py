"""The wallet monitor on a real anvil node: confirmed transfers recorded exactly once, ERC-20 logs,
our own sends confirmed with their fee, and no ghost row after a reorg within the confirmation depth."""

from decimal import Decimal

import pytest
from eth_account import Account

from accounts.models import Notification
from accounts.sessions import session_approve, session_login
from wallets import chain
from wallets.erc20 import erc20_deploy_demo_token, erc20_mint_demo
from wallets.models import Cryptocurrency, OutgoingTransfer, Transaction, TransferStatus, WalletType
from wallets.monitoring import monitor_scan
from wallets.services import wallet_create, wallet_monitoring_enable
from wallets.transfers import transfer_send

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
    deadline = time.monotonic() + 30
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
