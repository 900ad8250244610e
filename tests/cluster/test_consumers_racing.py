"""The exactly-once payment paths with two huey consumers racing (issue 17, "beyond one machine"):
Redis, two daphne and two consumers (`run_huey --workers 2` each: four workers) against one
database and one anvil node, started once for the three cases (tests/cluster/conftest.py).

A separate "racer" process (the cluster's settings: Redis, not immediate) queues runs the way the
system page does (`core.scheduling.job_enqueue`: explicit runs, no schedule-slot claim) or calls a
plain huey task (payroll's), many at once, so the four workers take them together. Two runs of one
job never overlap (its huey lock, shared through Redis: the later one is refused), so the racer also
runs the bare work (reconciler, monitor, settlement, payroll passes) in its own threads, outside huey
and any lock, and this test's process does the same at the same time (the caller's retry, a
reconciler pass of a restarted web process); the consumers' schedulers add their every-minute runs.
Then, from the chain's blocks and the database:

1. sends (payouts broadcast, and intents stored PREPARED whose broadcast was interrupted): each paid
   exactly once on chain, with its amount; no nonce gap; each transfer CONFIRMED, with one
   transaction row;
2. three invoices paid on chain: each PAID once, one payment, one payment journal entry, one
   notification, each payment applied by exactly one of the racing passes;
3. a payroll period's crypto payouts while the payroll, recurring and reconciler tasks run on both
   consumers: each payslip paid exactly once (tests/payroll/test_payroll_chaos.py's assertion), and
   each due occurrence of a recurring payment paid exactly once.

Every queued run finished without an unhandled exception; a run refused because the same job was
running (the per-job huey lock, shared through Redis) is the only failure allowed."""

import json
import subprocess
import sys
import datetime as dt
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from eth_account import Account

from accounts.models import Notification, Role
from core.models import RealtimeEvent, TaskRun, TaskStatus
from invoicing import services as invoicing
from invoicing.models import Invoice, InvoicePayment
from ledger.models import JournalEntry
from payroll import services as payroll
from payroll.models import OccurrenceStatus, PayrollPeriod, PeriodStatus, RecurringOccurrence, RecurringPayment
from tests import harness
from tests.cluster.conftest import DEADLINE, _wait, cluster_running
from tests.invoicing.conftest import eth, item  # noqa: F401  (eth: a fixture)
from tests.payroll.conftest import team  # noqa: F401  (a fixture)
from tests.payroll.crypto_kit import approved_session, crypto_company, payments_to, received_wei
from tests.payroll.test_payroll_chaos import assert_paid_exactly_once
from wallets import chain
from wallets.models import (
    OPEN_TRANSFER_STATUSES,
    Cryptocurrency,
    OutgoingTransfer,
    Transaction,
    TransferKind,
    TransferStatus,
    WalletType,
)
from wallets.monitoring import monitor_scan
from wallets.reconciler import sends_reconcile
from wallets.services import wallet_create, wallet_monitoring_enable
from wallets import transfers
from wallets.transfers import payout_send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

CONFIRMATIONS = 3
PACE = 2  # seconds between two rounds of blocks and queued runs while waiting (not a measure)
PAYROLL_PAYOUTS = "payroll.tasks.payroll_payouts"  # plain huey tasks (each with its own lock)
RECURRING_PAYMENTS = "payroll.tasks.recurring_payments"
RACING_JOBS = {"sends_reconcile", "wallet_monitor", "invoices_settle", "payroll_payouts", "recurring_payments"}
# The bare work, called outside huey in the racer process's threads (no lock at all):
RECONCILE = "wallets.reconciler.sends_reconcile"
MONITOR = "wallets.monitoring.monitor_scan"
SETTLE_INVOICES = "invoicing.services.invoices_settle_transfers"
PAYROLL_RECONCILE = "payroll.services.payroll_payouts_reconcile"
RECURRING_PAY = "payroll.services.recurring_payments_pay"

# The racer process, with the cluster's settings (Redis, not immediate). One request per line on stdin:
# - {"enqueue": [names]}: a periodic job's name (core.scheduling.JOBS) is queued as an explicit tracked
#   run (job_enqueue: a TaskRun, no slot claim); a dotted path names a plain huey task, called to queue
#   it. Answers {"task_runs": [ids], "tasks": [huey task ids]}.
# - {"direct": [dotted function paths]}: each function called at once in its own thread of this process,
#   outside huey (no per-job lock): bare passes racing the workers. Answers {"started": n}.
# - {"join": true}: waits for those threads; answers {"results": [{"name", "result" | "error"}]}.
RACER = r"""
import json, os, sys, threading, traceback
sys.path.insert(0, os.environ["BASE_DIR"])
import django
django.setup()
from django.db import connections
from django.utils.module_loading import import_string
from core.scheduling import JOBS, job_enqueue, jobs_discover
jobs_discover()
threads, results = [], []

def run(name):
    try:
        result = import_string(name)()
        results.append({"name": name, "result": result.as_dict() if hasattr(result, "as_dict") else result})
    except BaseException:
        results.append({"name": name, "error": traceback.format_exc()})
    finally:
        connections.close_all()

print("racer ready", flush=True)
for line in sys.stdin:
    request, answer = json.loads(line), {}
    if "enqueue" in request:
        answer = {"task_runs": [], "tasks": []}
        for name in request["enqueue"]:
            if name in JOBS:
                answer["task_runs"].append(str(job_enqueue(name).pk))
            else:
                answer["tasks"].append(import_string(name)().id)
    elif "direct" in request:
        started = [threading.Thread(target=run, args=(name,)) for name in request["direct"]]
        for thread in started:
            thread.start()
        threads += started
        answer = {"started": len(started)}
    elif "join" in request:
        for thread in threads:
            thread.join()
        answer, threads, results = {"results": results}, [], []
    print(json.dumps(answer, default=str), flush=True)
"""


class Racing:
    """The running cluster, the racer process, and what this test queued and ran."""

    def __init__(self, cluster, racer):
        self.cluster, self.racer = cluster, racer
        self.task_runs, self.tasks, self.direct_results, self.log_offsets = [], [], [], {}

    def begin(self):
        self.task_runs, self.tasks, self.direct_results = [], [], []
        self.log_offsets = {log: log.stat().st_size for log in self.cluster.huey_logs()}

    def _ask(self, request: dict) -> dict:
        self.racer.stdin.write(json.dumps(request) + "\n")
        self.racer.stdin.flush()
        line = self.racer.stdout.readline()
        assert line, "the racer process died"
        return json.loads(line)

    def enqueue(self, *names):
        answer = self._ask({"enqueue": list(names)})
        self.task_runs += answer["task_runs"]
        self.tasks += answer["tasks"]

    def direct(self, *paths):
        """Run these functions now, each in its own thread of the racer process, outside huey."""
        assert self._ask({"direct": list(paths)})["started"] == len(paths)

    def join(self) -> list[dict]:
        """Wait for the direct runs; their results (a crash fails the test with its traceback)."""
        results = self._ask({"join": True})["results"]
        self.direct_results += results
        assert [r["error"] for r in results if "error" in r] == []
        return results

    def huey_lines(self) -> list[tuple[int, str]]:
        """(consumer number, line) of what the consumers logged since this test began, each record once."""
        lines = []
        for n, (log, offset) in enumerate(self.log_offsets.items()):
            with open(log, errors="replace") as handle:
                handle.seek(offset)
                lines += [(n, line) for line in handle if line.startswith("[")]
        return lines

    def huey_text(self) -> str:
        return "".join(line for _, line in self.huey_lines())

    def drained(self) -> bool:
        """Every run this test queued has finished (tracked runs: their TaskRun; plain tasks: the log)."""
        runs = TaskRun.objects.filter(pk__in=self.task_runs)
        if runs.count() != len(self.task_runs) or runs.filter(
                status__in=(TaskStatus.QUEUED, TaskStatus.RUNNING)).exists():
            return False
        text = self.huey_text()
        return all(f"{task_id} executed in" in text or f"Task {task_id} not run" in text
                   or f"Unhandled exception in task {task_id}" in text for task_id in self.tasks)

    @staticmethod
    def errors(lines) -> list[str]:
        """ERROR records the consumers logged about the racing work (a crash of any run of it: queued,
        scheduled, or a key's reconciliation caught inside the reconciler), not about other jobs the
        schedulers ran meanwhile (prices offline, ...)."""
        names = {}  # huey task id -> task name
        for _, line in lines:
            if ":Executing " in line:
                name, _, task_id = line.split(":Executing ", 1)[1].strip().partition(": ")
                names[task_id.split()[0] if task_id else ""] = name
        found = []
        for _, line in lines:
            level_logger = line.split("] ", 1)[-1].split(":", 2)
            if level_logger[0] not in ("ERROR", "CRITICAL"):
                continue
            if "Unhandled exception in task " in line:
                task_id = line.split("Unhandled exception in task ", 1)[1].strip().rstrip(".")
                if names.get(task_id, "").rsplit(".", 1)[-1] in RACING_JOBS:
                    found.append(line)
            elif "periodic job " in line:
                if line.split("periodic job ", 1)[1].split()[0] in RACING_JOBS:
                    found.append(line)
            elif not level_logger[1].startswith("huey"):  # the app's own error records (the reconciler's, ...)
                found.append(line)
        return found

    def settle_down(self):
        """Every queued run finished and every direct run joined; then no run crashed: a tracked run
        may only have been refused because the same job was running (its huey lock), a plain task
        only by its lock. Prints what raced."""
        _wait(self.drained, "every queued run to finish", self.cluster.processes, timeout=DEADLINE * 2)
        self.join()
        lines = self.huey_lines()
        text = "".join(line for _, line in lines)
        crashed = [task_id for task_id in self.tasks if f"Unhandled exception in task {task_id}" in text]
        assert crashed == [], text[-5000:]
        assert self.errors(lines) == [], text[-5000:]
        failed = {str(run.pk): run.error for run in TaskRun.objects.filter(pk__in=self.task_runs,
                                                                           status=TaskStatus.FAILED)}
        assert {pk: error for pk, error in failed.items() if not error.endswith("is already running")} == {}
        statuses = Counter(TaskRun.objects.filter(pk__in=self.task_runs).values_list("status", flat=True))
        locked = sum(1 for task_id in self.tasks if f"Task {task_id} not run" in text)
        workers = Counter(f"huey-{n}/{line.split(':Executing ', 1)[0].rsplit(':', 1)[-1]}"
                          for n, line in lines if ":Executing " in line)
        print(f"\nraced: {len(self.task_runs)} tracked runs {dict(statuses)} (FAILED: refused, the same job "
              f"was running), {len(self.tasks)} plain tasks ({locked} refused by their lock), "
              f"{len(self.direct_results)} bare passes in the racer process; runs started per consumer/worker: "
              f"{dict(sorted(workers.items()))}")


@pytest.fixture(scope="module")
def racing(tmp_path_factory, django_db_setup, django_db_blocker, eth_node, smtp_server):
    tmp = tmp_path_factory.mktemp("cluster")
    try:
        with cluster_running(tmp) as cluster:
            _wait(lambda: all("Huey consumer started" in log.read_text(errors="replace")
                              for log in cluster.huey_logs()), "both consumers", cluster.processes)
            env = {**cluster.env, "BASE_DIR": str(settings.BASE_DIR), "LOG_LEVEL": "WARNING"}
            racer = subprocess.Popen([sys.executable, "-c", RACER], env=env, cwd=settings.BASE_DIR,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                assert racer.stdout.readline().strip() == "racer ready"
                yield Racing(cluster, racer)
            finally:
                racer.stdin.close()
                try:
                    racer.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    racer.kill()  # only the process this fixture started
                    racer.wait(timeout=30)
    finally:
        # The consumers wrote until they stopped, after the last test's cleanup: empty every
        # collection again, so the next file on this worker starts from a clean database.
        with django_db_blocker.unblock():
            harness._written.unknown = True
            harness.clean_database()


@pytest.fixture(autouse=True)
def _every_collection_cleaned(racing):
    """Other processes write during each test where this process's listener cannot see: the cleanup
    after it checks every collection."""
    harness._written.unknown = True
    racing.begin()
    yield
    harness._written.unknown = True


def _mine(blocks: int) -> None:
    chain.web3_client().provider.make_request("anvil_mine", [hex(blocks)])


def _paid_on_chain(sender: str, start_block: int) -> tuple[Counter, dict]:
    """Successful transactions from `sender` to anyone else in the blocks since `start_block`."""
    w3 = chain.web3_client()
    paid, amounts = Counter(), {}
    for number in range(start_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == sender and tx.get("to") and tx["to"] != sender:
                if w3.eth.get_transaction_receipt(tx["hash"])["status"] == 1:
                    paid[tx["to"]] += 1
                    amounts[tx["to"]] = tx["value"]
    return paid, amounts


def test_sends_settled_by_racing_reconcilers_are_paid_exactly_once(racing, make_user, settings, monkeypatch):
    settings.ETH_CONFIRMATIONS = CONFIRMATIONS
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    user = make_user(Role.MANAGER)
    wallet = wallet_create(user=user, name="payouts", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("20")))
    _mine(CONFIRMATIONS)
    wallet_monitoring_enable(wallet=wallet)
    w3 = chain.web3_client()
    start_block, start_nonce = w3.eth.block_number, w3.eth.get_transaction_count(wallet.address)

    intents = {}  # intent key -> (recipient, amount)

    def pay(key):
        to, amount = intents[key]
        return payout_send(organization_id=wallet.organization_id, wallet=wallet, to=to, amount=amount,
                           intent_key=key, requested_by=user)

    def new_intent(key, n):
        intents[key] = (Account.create().address, Decimal("0.01") + Decimal(n) / 1000)
        return pay(key)

    for n in range(4):  # sent: the node has them
        assert new_intent(f"sent-{n}", n).status == TransferStatus.BROADCAST
    interrupted = []
    with monkeypatch.context() as patched:  # the sender died after storing the intent, before the broadcast
        patched.setattr(transfers, "transfer_broadcast", lambda transfer: interrupted.append(transfer.pk))
        for n in range(4, 10):
            # PREPARED, unless a scheduled reconciler of the cluster has already sent its bytes
            assert new_intent(f"interrupted-{n}", n).status in (TransferStatus.PREPARED, TransferStatus.BROADCAST)
    assert len(set(interrupted)) == 6  # each stored with its signed bytes; this sender never broadcast them

    # The race: eight reconciler runs and two monitor runs for the four workers, and at the same time
    # in this process the callers' retries, a new payout and a reconciler pass.
    racing.enqueue(*["sends_reconcile"] * 8, "wallet_monitor", "wallet_monitor")
    racing.direct(RECONCILE, RECONCILE, MONITOR)
    for key in [k for k in intents if k.startswith("interrupted-")]:
        assert pay(key).pk == pay(key).pk
    new_intent("late-10", 10)
    new_intent("late-11", 11)
    notes = sends_reconcile().notes

    def settled():
        _mine(CONFIRMATIONS + 1)
        racing.enqueue("sends_reconcile", "sends_reconcile", "wallet_monitor")
        racing.direct(RECONCILE, RECONCILE)
        notes.extend(sends_reconcile().notes)
        time.sleep(PACE)
        return not OutgoingTransfer.objects.filter(wallet=wallet, status__in=OPEN_TRANSFER_STATUSES).exists()

    _wait(settled, "every send settled", racing.cluster.processes)
    racing.settle_down()
    for run in TaskRun.objects.filter(name="sends_reconcile", status=TaskStatus.SUCCEEDED):  # queued and scheduled
        notes.extend(run.result["notes"])
    for result in racing.direct_results:
        if result["name"] == RECONCILE:
            notes.extend(result["result"]["notes"])
    assert notes == []  # no key's reconciliation raised, no rebroadcast refused

    paid, amounts = _paid_on_chain(wallet.address, start_block)
    outcome = {key: ("exactly once" if paid[to] == 1 and amounts[to] == chain.eth_to_wei(amount) else
                     "never" if paid[to] == 0 else "more than once" if paid[to] > 1 else "wrong amount")
               for key, (to, amount) in intents.items()}
    assert [key for key, what in outcome.items() if what != "exactly once"] == [], outcome
    sends = OutgoingTransfer.objects.filter(wallet=wallet)
    assert Counter(sends.values_list("status", flat=True)) == {TransferStatus.CONFIRMED: sends.count()}
    fillers = sends.filter(kind=TransferKind.NONCE_FILLER).count()
    latest = w3.eth.get_transaction_count(wallet.address)
    assert latest == w3.eth.get_transaction_count(wallet.address, "pending")  # nothing queued behind a gap
    assert latest == start_nonce + len(intents) + fillers
    confirmed = Counter((event.group, event.payload.get("hash"))
                        for event in RealtimeEvent.objects.filter(event_type="transaction.confirmed"))
    assert [key for key, times in confirmed.items() if times > 1] == []  # each audience told once
    for transfer in sends.filter(kind=TransferKind.PAYMENT):
        rows = Transaction.objects.filter(wallet=wallet, hash=transfer.tx_hash)
        assert [row.status for row in rows] == ["CONFIRMED"], transfer.idempotency_key  # settled once, one row
        assert transfer.transaction_id == rows[0].pk
        assert transfer.tx_hash in {tx_hash for _, tx_hash in confirmed}


def test_invoices_settled_by_racing_consumers_are_paid_once(racing, make_user, organization, eth, settings):  # noqa: F811
    settings.ETH_CONFIRMATIONS = CONFIRMATIONS
    manager = make_user(Role.MANAGER)
    wallet = wallet_create(user=manager, name="Receivables", wallet_type=WalletType.PRIVATE_KEY)
    wallet_monitoring_enable(wallet=wallet)
    monitor_scan()
    invoices, hashes = {}, {}  # invoice pk -> (USD, ETH); invoice pk -> the payment's hash
    for unit_price, usd, coins in (("1250.00", "2500", "1"), ("625.00", "1250", "0.5"), ("250.00", "500", "0.2")):
        draft = invoicing.invoice_create(actor=manager, client_name="Globex", client_email="ap@globex.test",
                                         items=[item(quantity="2", unit_price=unit_price)], tax_rate=Decimal("0"),
                                         payment_wallet_id=wallet.pk, crypto_currency="ETH")
        invoice = invoicing.invoice_issue(actor=manager, invoice=draft)
        assert invoice.crypto_amount == Decimal(coins)
        invoices[invoice.pk] = (Decimal(usd), Decimal(coins))
        hashes[invoice.pk] = chain.eth_send_from_dev_account(to=invoice.crypto_payment_address, account_index=3,
                                                             amount_wei=chain.eth_to_wei(invoice.crypto_amount))
    _mine(CONFIRMATIONS)

    # The race: the monitors record the payments while settlement runs on the four workers, in the
    # racer's threads and here.
    racing.enqueue("wallet_monitor", "wallet_monitor", *["invoices_settle"] * 10)
    racing.direct(MONITOR, SETTLE_INVOICES, SETTLE_INVOICES, SETTLE_INVOICES)
    applied_here = 0

    def paid():
        nonlocal applied_here
        monitor_scan()
        applied_here += invoicing.invoices_settle_transfers().applied
        racing.enqueue("invoices_settle", "invoices_settle")
        racing.direct(SETTLE_INVOICES, SETTLE_INVOICES)
        time.sleep(PACE)
        return set(Invoice.objects.filter(pk__in=invoices).values_list("status", flat=True)) == {"PAID"}

    _wait(paid, "the invoices paid", racing.cluster.processes)
    racing.enqueue(*["invoices_settle"] * 6, "wallet_monitor")
    racing.direct(SETTLE_INVOICES, SETTLE_INVOICES)
    applied_here += invoicing.invoices_settle_transfers().applied
    racing.settle_down()
    assert invoicing.invoices_settle_transfers().applied == 0

    runs = TaskRun.objects.filter(name="invoices_settle", status=TaskStatus.SUCCEEDED)  # queued and scheduled
    applied_there = sum((run.result or {}).get("applied", 0) for run in runs)
    applied_there += sum(r["result"]["applied"] for r in racing.direct_results if r["name"] == SETTLE_INVOICES)
    assert applied_here + applied_there == len(invoices)  # each payment applied by one pass, here or there
    assert InvoicePayment.objects.count() == len(invoices)
    for pk, (usd, coins) in invoices.items():
        invoice = Invoice.objects.get(pk=pk)
        assert invoice.status == "PAID" and invoice.amount_paid == usd and invoice.amount_due == 0
        assert invoice.crypto_received == coins
        payment = InvoicePayment.objects.get(invoice=invoice)
        assert payment.tx_hash == hashes[pk] and payment.journal_entry_id is not None
        entries = JournalEntry.objects.filter(organization=organization, source_key__startswith=f"invoice:{pk}:payment")
        assert [e.pk for e in entries] == [payment.journal_entry_id]
        assert Notification.objects.filter(user=manager, type="INVOICE", title__contains="is paid").filter(
            title__contains=invoice.invoice_number).count() == 1
    posted = JournalEntry.objects.filter(organization=organization, status="posted")
    assert sum((e.total_debit for e in posted), Decimal(0)) == sum((e.total_credit for e in posted), Decimal(0))


def test_payroll_payouts_with_racing_consumers_pay_each_payslip_once(racing, team, make_user, settings):  # noqa: F811
    """The period's three crypto payslips from the payroll wallet, and a weekly recurring payment
    (started two weeks ago: its missed occurrences due now) from a second wallet, at the same time."""
    settings.ETH_CONFIRMATIONS = CONFIRMATIONS
    company = crypto_company(team, make_user)
    manager = company.team.manager
    session, _ = approved_session(manager)
    rent_wallet = wallet_create(user=manager, name="rent", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=rent_wallet.address, amount_wei=chain.eth_to_wei(Decimal("2")))
    _mine(CONFIRMATIONS)
    start_block = chain.web3_client().eth.block_number
    rent = payroll.recurring_payment_create(
        actor=manager, payment_name="Office rent", recipient_name="Landlord", recipient_wallet=Account.create().address,
        amount="0.05", cryptocurrency="ETH", frequency="WEEKLY", start_date=timezone.now().date() - dt.timedelta(days=14))
    RecurringPayment.objects.filter(pk=rent.pk).update(wallet=rent_wallet)

    # The race: the payroll, recurring and reconciler tasks on the four workers and in the racer's
    # threads while the manager's processing sends the period's payouts here.
    racing.enqueue(*[PAYROLL_PAYOUTS] * 4, RECURRING_PAYMENTS, RECURRING_PAYMENTS, *["sends_reconcile"] * 3,
                   "wallet_monitor", PAYROLL_PAYOUTS, PAYROLL_PAYOUTS, RECURRING_PAYMENTS)
    racing.direct(PAYROLL_RECONCILE, PAYROLL_RECONCILE, RECONCILE, RECURRING_PAY, RECURRING_PAY)
    payroll.payroll_period_process(actor=manager, period=company.period, reference="race",
                                   session=session, wallet_id=company.wallet.pk)

    def everything_paid():
        _mine(CONFIRMATIONS)
        racing.enqueue(PAYROLL_PAYOUTS, PAYROLL_PAYOUTS, "sends_reconcile", "wallet_monitor", RECURRING_PAYMENTS,
                       RECURRING_PAYMENTS)
        racing.direct(PAYROLL_RECONCILE, PAYROLL_RECONCILE, RECONCILE, RECURRING_PAY)
        time.sleep(PACE)
        occurrences = RecurringOccurrence.objects.filter(payment=rent)
        return (PayrollPeriod.objects.get(pk=company.period.pk).status == PeriodStatus.PAID and occurrences.exists()
                and not occurrences.exclude(status=OccurrenceStatus.PAID).exists())

    _wait(everything_paid, "the period and the rent paid", racing.cluster.processes)
    racing.enqueue(PAYROLL_PAYOUTS, PAYROLL_PAYOUTS, "sends_reconcile", "sends_reconcile", RECURRING_PAYMENTS)
    racing.direct(RECURRING_PAY, PAYROLL_RECONCILE)
    racing.settle_down()
    assert assert_paid_exactly_once(company, start_block) == 3

    occurrences = list(RecurringOccurrence.objects.filter(payment=rent).order_by("index"))
    due = [o.due_date for o in occurrences]
    assert len(due) >= 2 and len(set(due)) == len(due)  # the missed ones and today's, each claimed once
    assert {o.status for o in occurrences} == {OccurrenceStatus.PAID}
    rent.refresh_from_db()
    assert rent.total_payments_made == rent.occurrences_claimed == len(occurrences)
    assert rent.next_payment_date > timezone.now().date()
    assert payments_to(rent.recipient_wallet, rent_wallet.address, start_block) == len(occurrences)
    assert received_wei(rent.recipient_wallet) == chain.eth_to_wei(Decimal("0.05")) * len(occurrences)
    assert OutgoingTransfer.objects.filter(wallet=rent_wallet).count() == len(occurrences)
