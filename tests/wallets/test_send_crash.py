"""kill -9 of the process sending a payment, at every step: the retry with the same Idempotency-Key
(or intent key) sends the stored bytes again, so the chain sees exactly one transaction per key, and
nothing waits behind a burned nonce. bench/send_chaos.py runs the same at random moments, many times."""

import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from eth_account import Account

from accounts.models import UserSession
from accounts.sessions import session_approve, session_login
from wallets import chain
from wallets.models import Cryptocurrency, OutgoingTransfer, Transaction, TransferStatus, WalletType
from wallets.monitoring import monitor_scan
from wallets.reconciler import sends_reconcile
from wallets.services import wallet_create, wallet_monitoring_enable
from wallets.transfers import payout_send, transfer_send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]
PASSWORD = "Passw0rd!long"

# Run transfer_send in a child process whose broadcast kills the process: before the node gets the
# bytes ("before") or right after ("after").
CHILD = """
import os, signal, django
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
from decimal import Decimal
from web3.eth import Eth
from accounts.models import User, UserSession
from wallets.models import Wallet
from wallets.transfers import transfer_send

original = Eth.send_raw_transaction
def dying_send(self, raw):
    if os.environ["DIE"] == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    result = original(self, raw)
    os.kill(os.getpid(), signal.SIGKILL)
Eth.send_raw_transaction = dying_send
user = User.objects.get(pk=os.environ["USER_ID"])
transfer_send(user=user, session=UserSession.objects.get(pk=os.environ["SESSION_ID"]),
              wallet=Wallet.objects.get(pk=os.environ["WALLET_ID"]), to=os.environ["TO"],
              amount=Decimal("0.25"), idempotency_key="payout-1")
"""


@pytest.mark.parametrize("moment", ["before", "after"])
def test_a_send_killed_mid_way_is_paid_exactly_once(make_user, eth_node, settings, moment):
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    user = make_user()
    _, session, _ = session_login(login=user.username, password=PASSWORD, ip=None)
    session_approve(session=session, password=PASSWORD, ip=None)
    wallet = wallet_create(user=user, name="hot", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("1")))
    to = Account.create().address
    w3 = chain.web3_client()
    nonce_before = w3.eth.get_transaction_count(wallet.address)

    env = {**os.environ, "MONGODB_URI": settings.DATABASES["default"]["HOST"],
           "MONGODB_NAME": connection.settings_dict["NAME"], "ETH_RPC_URL": settings.ETH_RPC_URL,
           "LOG_TO_FILES": "false", "DIE": moment, "USER_ID": str(user.pk), "SESSION_ID": str(session.pk),
           "WALLET_ID": str(wallet.pk), "TO": to}
    child = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=settings.BASE_DIR, timeout=120)
    assert child.returncode == -signal.SIGKILL

    stored = OutgoingTransfer.objects.get(wallet=wallet)
    assert stored.status == TransferStatus.PREPARED  # it died before it could record the broadcast
    on_chain = w3.eth.get_balance(to)
    assert on_chain == (0 if moment == "before" else chain.eth_to_wei(Decimal("0.25")))

    # The client retries with the same key: the same signed bytes go out again, nothing new is signed.
    transfer, created = transfer_send(user=user, session=UserSession.objects.get(pk=session.pk), wallet=wallet,
                                      to=to, amount=Decimal("0.25"), idempotency_key="payout-1")
    assert not created and transfer.tx_hash == stored.tx_hash and transfer.status == TransferStatus.BROADCAST
    transfer_send(user=user, session=UserSession.objects.get(pk=session.pk), wallet=wallet, to=to,
                  amount=Decimal("0.25"), idempotency_key="payout-1")
    chain.web3_client().provider.make_request("anvil_mine", ["0x3"])
    assert w3.eth.get_balance(to) == chain.eth_to_wei(Decimal("0.25"))
    assert w3.eth.get_transaction_count(wallet.address) == nonce_before + 1
    assert OutgoingTransfer.objects.filter(wallet=wallet).count() == 1
    assert Transaction.objects.filter(hash=stored.tx_hash).count() == 1


# --- kill -9 at every step (issue 19, item 2) ---------------------------------------------------------
CHILD_SCRIPT = Path(__file__).with_name("send_crash_child.py")


def _mine(blocks: int) -> None:
    chain.web3_client().provider.make_request("anvil_mine", [hex(blocks)])


@pytest.fixture
def payer(make_user, eth_node, settings):
    settings.ETH_CONFIRMATIONS = 3
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    user = make_user()
    wallet = wallet_create(user=user, name="payroll", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("2")))
    wallet_monitoring_enable(wallet=wallet)
    monitor_scan()
    return user, wallet


def run_dying_sender(settings, *, point: str, user, wallet, to: str, key: str, amount: str = "0.25"):
    env = {**os.environ, "MONGODB_URI": settings.DATABASES["default"]["HOST"],
           "MONGODB_NAME": connection.settings_dict["NAME"], "ETH_RPC_URL": settings.ETH_RPC_URL,
           "LOG_TO_FILES": "false", "DIE": point, "USER_ID": str(user.pk), "WALLET_ID": str(wallet.pk), "TO": to,
           "KEY": key, "AMOUNT": amount}
    return subprocess.run([sys.executable, str(CHILD_SCRIPT)], env=env, cwd=settings.BASE_DIR, timeout=120)


@pytest.mark.parametrize("point", ["before_reservation", "after_signing", "after_record", "before_broadcast",
                                   "after_broadcast"])
def test_a_payout_killed_at_any_step_reaches_the_chain_exactly_once(payer, settings, point):
    """The sender dies at `point`; another payout leaves the same wallet before anyone retries (the
    case that used to wait forever behind a burned nonce); then the restart (reconciler) and the
    caller's retry with the same intent key. On chain: one payment per key, nothing stuck, and the
    monitor completes the record whatever step the sender died at."""
    user, wallet = payer
    w3 = chain.web3_client()
    nonce_before = w3.eth.get_transaction_count(wallet.address)
    to, other_to = Account.create().address, Account.create().address

    child = run_dying_sender(settings, point=point, user=user, wallet=wallet, to=to, key="salary-1")
    assert child.returncode == -signal.SIGKILL
    other = payout_send(organization_id=wallet.organization_id, wallet=wallet, to=other_to, amount=Decimal("0.1"),
                        intent_key="salary-2", requested_by=user)
    assert other.status == TransferStatus.BROADCAST

    sends_reconcile()  # start-up of the restarted stack
    retried = payout_send(organization_id=wallet.organization_id, wallet=wallet, to=to, amount=Decimal("0.25"),
                          intent_key="salary-1", requested_by=user)
    again = payout_send(organization_id=wallet.organization_id, wallet=wallet, to=to, amount=Decimal("0.25"),
                        intent_key="salary-1", requested_by=user)
    assert again.pk == retried.pk and retried.status == TransferStatus.BROADCAST
    _mine(3)
    monitor_scan()

    assert w3.eth.get_balance(to) == chain.eth_to_wei(Decimal("0.25"))
    assert w3.eth.get_balance(other_to) == chain.eth_to_wei(Decimal("0.1"))
    assert w3.eth.get_transaction_count(wallet.address) == nonce_before + 2
    assert w3.eth.get_transaction_count(wallet.address, "pending") == nonce_before + 2  # nothing queued
    sends = OutgoingTransfer.objects.filter(wallet=wallet)
    assert sends.count() == 2 and set(sends.values_list("status", flat=True)) == {TransferStatus.CONFIRMED}
    for transfer in sends:
        row = Transaction.objects.get(hash=transfer.tx_hash)  # one row each, settled in place
        assert row.status == "CONFIRMED" and row.gas_fee > 0 and transfer.fee == row.gas_fee
        assert transfer.transaction_id == row.pk
    assert not Transaction.objects.filter(wallet=wallet, status="PENDING").exists()
