"""A payroll worker that kills itself (SIGKILL) at one step of a period's crypto payouts; run by
tests/payroll/test_payroll_chaos.py and bench/payroll_chaos.py, never imported.

Environment: MODE ("process": the manager's processing of period PERIOD_ID with session SESSION_ID
and wallet WALLET_ID; "settle": the worker's pass after the chain moved, the send reconciler and
the payroll task), DIE (the step, see POINTS; "none": no kill), DIE_AT (0-based: at which payslip
of the batch), and the settings of the stack (MONGODB_URI, MONGODB_NAME, ETH_RPC_URL, ...). Prints
"ready" just before the work, so a parent can also kill it from outside at a moment of its choosing.
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from web3.eth import Eth  # noqa: E402

from accounts.models import User, UserSession  # noqa: E402
from payroll.models import PayrollPeriod  # noqa: E402
from payroll.services import crypto_payouts, processing  # noqa: E402
from wallets.models import OutgoingTransfer  # noqa: E402
from wallets.reconciler import sends_reconcile  # noqa: E402

POINTS = ("after_terms", "after_intent", "before_broadcast", "after_broadcast", "after_link", "before_paid",
          "after_paid")
POINT = os.environ.get("DIE", "none")
AT = int(os.environ.get("DIE_AT", "0"))
calls = {"n": 0}


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def nth_call(original, *, before: bool):
    """`original`, killing the process before (or after) its AT-th call."""
    def wrapper(*args, **kwargs):
        n = calls["n"]
        calls["n"] += 1
        if before and n == AT:
            die()
        result = original(*args, **kwargs)
        if not before and n == AT:
            die()
        return result
    return wrapper


if POINT == "after_terms":  # every payslip processing with its terms and accrual; nothing sent
    def send_all(**kwargs):
        die()

    processing.crypto_payouts.crypto_payouts_send = send_all
elif POINT == "after_intent":  # the AT-th intent stored (nonce + signed bytes), not broadcast
    OutgoingTransfer.save = nth_call(OutgoingTransfer.save, before=False)
elif POINT == "before_broadcast":
    Eth.send_raw_transaction = nth_call(Eth.send_raw_transaction, before=True)
elif POINT == "after_broadcast":  # the node has the AT-th payout; BROADCAST never recorded
    Eth.send_raw_transaction = nth_call(Eth.send_raw_transaction, before=False)
elif POINT == "after_link":  # the AT-th transfer linked to its payslip; its row not labelled yet
    crypto_payouts.payout_row_label = nth_call(crypto_payouts.payout_row_label, before=True)
elif POINT == "before_paid":  # the AT-th transfer confirmed on chain; the payslip not yet paid
    crypto_payouts.payout_mark_paid = nth_call(crypto_payouts.payout_mark_paid, before=True)
elif POINT == "after_paid":  # the AT-th payslip paid and booked; the rest of the batch not yet
    crypto_payouts.payout_mark_paid = nth_call(crypto_payouts.payout_mark_paid, before=False)

print("ready", flush=True)
if os.environ.get("MODE", "process") == "process":
    user = User.objects.get(pk=os.environ["USER_ID"])
    processing.payroll_period_process(actor=user, period=PayrollPeriod.objects.get(pk=os.environ["PERIOD_ID"]),
                                      reference="chaos", session=UserSession.objects.get(pk=os.environ["SESSION_ID"]),
                                      wallet_id=os.environ["WALLET_ID"])
else:
    sends_reconcile()
    crypto_payouts.payroll_payouts_reconcile()
print("done", flush=True)
