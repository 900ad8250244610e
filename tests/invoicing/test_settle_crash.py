"""kill -9 of the settlement worker at every step: a child process runs the settlement of a recorded
chain payment and SIGKILLs itself at one step (tests/invoicing/settle_crash_child.py); then the
restarted worker settles again. Whatever the step, the invoice ends PAID once: one payment record, one
payment journal entry, one "paid" notification, balanced books. A worker that dies inside its
transaction leaves it open on the server until the server ends it (60 s); the restart here ends
the dead worker's session itself, as the server would, so the test need not wait a minute. (Until
then the dead transaction's documents are taken: settlement skips that invoice and logs it, and the
next run settles it; see invoicing.services.payments.)"""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from bson import Binary
from django.db import connection

from accounts.models import Notification
from invoicing import services
from invoicing.models import Invoice, InvoicePayment
from ledger.models import JournalEntry
from tests.invoicing.conftest import item
from wallets.models import Transaction, TransactionSource, TransactionStatus, TransactionType, TransferDirection
from django.utils import timezone

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

CHILD_SCRIPT = Path(__file__).with_name("settle_crash_child.py")
CHILD_TIMEOUT_SECONDS = 180  # a generous bound: Django start-up and one settlement take a few seconds
RESTART_DEADLINE_SECONDS = 180
POINTS = ("before_apply", "after_payment_insert", "after_invoice_update", "after_journal_entry", "before_commit",
          "after_commit")
TX_HASH = "0x" + "ab" * 32


def run_dying_settler(settings, point: str) -> tuple[int, str, str]:
    """Run the child with this test's own stack (its harness's database, chain, mail and data folder);
    whatever happens, the dead child's open transaction is ended before this returns: left open, it
    would hold its documents until the server reaps it, and the test's cleanup would wait on them."""
    env = {**os.environ, "MONGODB_URI": settings.DATABASES["default"]["HOST"],
           "MONGODB_NAME": connection.settings_dict["NAME"], "ETH_RPC_URL": settings.ETH_RPC_URL,
           "LOG_TO_FILES": "false", "HUEY_IMMEDIATE": "true", "DIE": point}
    child = subprocess.Popen([sys.executable, str(CHILD_SCRIPT)], env=env, cwd=settings.BASE_DIR,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = child.communicate(timeout=CHILD_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()  # only the child this test started
        stdout, stderr = child.communicate(timeout=30)
    end_dead_session(stdout)
    return child.returncode, stdout, stderr


def end_dead_session(output: str) -> None:
    """The restart: end the dead worker's open transaction (what the server does after 60 s)."""
    for line in output.splitlines():
        if line.startswith("lsid "):
            lsid = Binary(bytes.fromhex(line.split()[1]), 4)
            connection.database.client.admin.command({"killSessions": [{"id": lsid}]})


def settle_until_applied() -> int:
    """Run the settlement pass as the restarted periodic task would, until nothing is left to do."""
    deadline = time.monotonic() + RESTART_DEADLINE_SECONDS
    applied = 0
    while True:
        report = services.invoices_settle_transfers()
        applied += report.applied
        if report.skipped == 0 or time.monotonic() > deadline:
            return applied
        time.sleep(1)


def _invoice_and_its_payment(manager, wallet, eth, organization):
    """An issued invoice of 2,500 USD = 1 ETH and the exact payment, as the wallet monitor records it."""
    draft = services.invoice_create(actor=manager, client_name="Globex", client_email="ap@globex.test",
                                    items=[item(quantity="2", unit_price="1250.00")], tax_rate=Decimal("0"),
                                    payment_wallet_id=wallet.pk, crypto_currency="ETH")
    invoice = services.invoice_issue(actor=manager, invoice=draft)
    assert invoice.crypto_amount == Decimal("1")
    Transaction.objects.create(
        transaction_type=TransactionType.TRANSFER, user=wallet.user, organization=organization, wallet=wallet,
        cryptocurrency=eth, amount=Decimal("1"), transaction_date=timezone.now(), hash=TX_HASH,
        from_address="0x0000000000000000000000000000000000000001", to_address=wallet.address,
        source=TransactionSource.CHAIN, external_id=f"chain:{TX_HASH}:-1:{wallet.address}",
        direction=TransferDirection.IN, status=TransactionStatus.CONFIRMED)
    return invoice


@pytest.mark.parametrize("point", POINTS)
def test_settlement_killed_at_any_step_pays_the_invoice_exactly_once(manager, receiving_wallet, eth, organization,
                                                                     settings, point):
    invoice = _invoice_and_its_payment(manager, receiving_wallet, eth, organization)

    returncode, stdout, stderr = run_dying_settler(settings, point)
    assert returncode == -signal.SIGKILL, stderr[-3000:]
    assert "ready" in stdout
    committed = point == "after_commit"
    assert InvoicePayment.objects.count() == (1 if committed else 0)  # a dead transaction left nothing

    applied = settle_until_applied()
    assert applied == (0 if committed else 1)
    assert settle_until_applied() == 0  # and again: nothing more

    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.status == "PAID" and invoice.amount_paid == Decimal("2500") and invoice.amount_due == 0
    assert invoice.crypto_received == Decimal("1") and invoice.payment_slot is None
    payment = InvoicePayment.objects.get()
    assert payment.tx_hash == TX_HASH and payment.journal_entry_id is not None
    entries = JournalEntry.objects.filter(organization=organization, source_key__startswith=f"invoice:{invoice.pk}:payment")
    assert [e.pk for e in entries] == [payment.journal_entry_id]
    assert Notification.objects.filter(user=manager, type="INVOICE", title__contains="is paid").count() == 1
    posted = JournalEntry.objects.filter(organization=organization, status="posted")
    assert sum((e.total_debit for e in posted), Decimal(0)) == sum((e.total_credit for e in posted), Decimal(0))


def test_a_payment_held_by_a_dead_workers_transaction_is_deferred_not_fatal(manager, receiving_wallet, eth,
                                                                           organization, settings, monkeypatch):
    """Before the server ends the dead worker's transaction, the restarted task meets its documents
    taken: it defers that transfer (logged) instead of failing the whole pass, and settles it once
    the transaction is gone."""
    invoice = _invoice_and_its_payment(manager, receiving_wallet, eth, organization)
    ended = []
    monkeypatch.setattr(sys.modules[__name__], "end_dead_session", lambda output: ended.append(output))
    try:
        returncode, stdout, stderr = run_dying_settler(settings, "after_journal_entry")
        assert returncode == -signal.SIGKILL, stderr[-3000:]
        report = services.invoices_settle_transfers()  # the dead transaction still holds the invoice
        assert (report.applied, report.skipped) == (0, 1)
        assert Invoice.objects.get(pk=invoice.pk).status == "SENT"
    finally:
        monkeypatch.undo()
        for output in ended:
            end_dead_session(output)
    assert settle_until_applied() == 1
    invoice.refresh_from_db()
    assert invoice.status == "PAID" and InvoicePayment.objects.count() == 1
