"""kill -9 of the process sending a payment, before and after the broadcast: the retry with the same
Idempotency-Key sends the stored bytes again, so the chain sees exactly one transaction."""

import os
import signal
import subprocess
import sys
from decimal import Decimal

import pytest
from django.db import connection
from eth_account import Account

from accounts.models import UserSession
from accounts.sessions import session_approve, session_login
from wallets import chain
from wallets.models import Cryptocurrency, OutgoingTransfer, Transaction, TransferStatus, WalletType
from wallets.services import wallet_create
from wallets.transfers import transfer_send

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
