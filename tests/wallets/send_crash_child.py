"""A sending process that kills itself (SIGKILL) at one step of a payout; run by
tests/wallets/test_send_crash.py and bench/send_chaos.py, never imported.

Environment: DIE (the step, see POINTS), USER_ID, WALLET_ID, TO, KEY (the intent key), AMOUNT, and the
settings of the stack to talk to (MONGODB_URI, MONGODB_NAME, ETH_RPC_URL, ...). DIE=none sends
normally; it prints "ready" just before the send, so a parent can kill it from outside at a moment
of its choosing.
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from decimal import Decimal  # noqa: E402

from eth_account import Account  # noqa: E402
from web3.eth import Eth  # noqa: E402

from accounts.models import User  # noqa: E402
from wallets import transfers  # noqa: E402
from wallets.models import OutgoingTransfer, Wallet  # noqa: E402

POINTS = ("before_reservation", "after_signing", "after_record", "before_broadcast", "after_broadcast")
POINT = os.environ.get("DIE", "none")


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if POINT == "before_reservation":  # the nonce is derived, nothing is stored yet
    original_next_nonce = transfers.next_nonce

    def next_nonce(w3, address):
        original_next_nonce(w3, address)
        die()

    transfers.next_nonce = next_nonce
elif POINT == "after_signing":  # signed bytes in memory only
    class DyingAccount:
        @staticmethod
        def sign_transaction(transaction, key):
            Account.sign_transaction(transaction, key)
            die()

    transfers.Account = DyingAccount
elif POINT == "after_record":  # the reservation+record insert is done; no pending row, no broadcast
    original_save = OutgoingTransfer.save

    def save(self, *args, **kwargs):
        original_save(self, *args, **kwargs)
        die()

    OutgoingTransfer.save = save
elif POINT in ("before_broadcast", "after_broadcast"):
    original_send = Eth.send_raw_transaction

    def send_raw_transaction(self, raw):
        if POINT == "before_broadcast":
            die()
        original_send(self, raw)
        die()  # the node has the bytes; the BROADCAST status is never written

    Eth.send_raw_transaction = send_raw_transaction

user = User.objects.get(pk=os.environ["USER_ID"])
wallet = Wallet.objects.get(pk=os.environ["WALLET_ID"])
print("ready", flush=True)
transfers.payout_send(organization_id=wallet.organization_id, wallet=wallet, to=os.environ["TO"],
                      amount=Decimal(os.environ.get("AMOUNT", "0.25")), intent_key=os.environ["KEY"],
                      requested_by=user)
print("sent", flush=True)
