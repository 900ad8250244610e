"""A settlement worker that kills itself (SIGKILL) at one step of settling a chain payment; run by
tests/invoicing/test_settle_crash.py, never imported.

Environment: DIE (the step, see POINTS) and the settings of the stack to talk to (MONGODB_URI,
MONGODB_NAME, ...; the parent passes its own harness's). Before it dies it prints the id of its
database session ("lsid <hex>"), so the parent can end the dead worker's open transaction as the
server would after its lifetime (60 s), instead of waiting for it. DIE=none settles normally.
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from pymongo.client_session import ClientSession  # noqa: E402

import invoicing.services.books as books  # noqa: E402
import invoicing.services.payments as payments  # noqa: E402
from invoicing.models import InvoicePayment  # noqa: E402

POINTS = ("before_apply", "after_payment_insert", "after_invoice_update", "after_journal_entry",
          "before_commit", "after_commit")
POINT = os.environ.get("DIE", "none")


def die():
    session = getattr(connection, "session", None)
    if session is not None:
        print("lsid", session.session_id["id"].hex(), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if POINT == "before_apply":  # the transfer is matched to an invoice; nothing written yet

    def _apply(**kwargs):
        die()

    payments._apply = _apply
elif POINT == "after_payment_insert":  # the payment row is inserted inside the transaction
    original_save = InvoicePayment.save

    def save(self, *args, **kwargs):
        original_save(self, *args, **kwargs)
        die()

    InvoicePayment.save = save
elif POINT in ("after_invoice_update", "after_journal_entry"):  # invoice updated / entry posted, uncommitted
    original_post = books.post_payment

    def post_payment(*args, **kwargs):
        if POINT == "after_invoice_update":
            die()
        original_post(*args, **kwargs)
        die()

    books.post_payment = post_payment
elif POINT == "before_commit":  # every write done; the commit is never sent
    def commit_transaction(self):
        die()

    ClientSession.commit_transaction = commit_transaction
elif POINT == "after_commit":  # committed; nothing after it runs (the live event's outbox write may be lost)
    original_in_transaction = payments.in_transaction

    def in_transaction(work, **kwargs):
        original_in_transaction(work, **kwargs)
        die()

    payments.in_transaction = in_transaction

print("ready", flush=True)
report = payments.invoices_settle_transfers()
print("settled", report.applied, flush=True)
