"""Chaos run of crypto payroll (issue 13): kill -9 the payroll worker at each step of a period's
payouts, restart, retry; count the payments on chain per payslip.

    .venv/bin/python bench/payroll_chaos.py [--runs 50] [--people 3] [--seed N] [--employee-gas]

Runs on bench/stack.py's own embedded MongoDB and anvil (one block per transaction; blocks mined on demand), one
organization with a manager, a funded company wallet and --people crypto employees, then for each
run a new period (fresh employee addresses), every payslip approved, and one worker killed with
SIGKILL (tests/payroll/payroll_crash_child.py) in turn at each step: terms fixed, intent stored,
before/after the broadcast, transfer linked, and (after the confirmations) before/after a payslip
is marked paid, at a payslip of the batch chosen at random; every seventh run it is killed from
outside at a random moment instead. Then the restart: the send reconciler and the payroll task run
(as `runstack` and huey do), the manager retries the call, blocks are mined, everything settles.
At the end it counts, from the chain's blocks, the successful transfers from the company wallet to
each payslip's address and their amounts, and the payment entries in the books. Prints the count
per outcome: "exactly once" must equal the number of payslips.
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import bench_stack  # noqa: E402

CHILD = BASE_DIR / "tests" / "payroll" / "payroll_crash_child.py"
PROCESS_POINTS = ("after_terms", "after_intent", "before_broadcast", "after_broadcast", "after_link")
SETTLE_POINTS = ("before_paid", "after_paid")
PASSWORD = "Chaos!Payroll2026"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--people", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--employee-gas", action="store_true",
                        help="the organization's employees bear the gas (the fee deducted from each payout)")
    parser.add_argument("--max-seconds", type=float, default=0,
                        help="start no new run after this long (then settle and count what ran)")
    args = parser.parse_args()
    # bench/stack.py: its own on-disk database and anvil (one block per transaction, blocks mined on
    # demand), Django set up; tasks run inline (the ledger's journal sync too, so the books are complete).
    with bench_stack("bench-payroll-chaos-", db_name="bench_payroll_chaos", confirmations=3, log_level="ERROR"):
        run(args)


def run(args):
    import datetime as dt

    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone
    from eth_account import Account

    from accounts.models import Role, User
    from accounts.sessions import session_approve, session_login
    from core.organizations import organization_create
    from ledger.models import JournalEntry
    from ledger.transaction_journals import transaction_journals_sync
    from payroll import services
    from payroll.models import GasFeeBearer, PayrollPeriod, PayrollSettings, PeriodStatus, Payslip
    from payroll.services.common import payroll_settings_get
    from payroll.services import crypto_payouts
    from wallets import chain
    from wallets.models import Cryptocurrency, OutgoingTransfer, TransferKind, WalletType
    from wallets.monitoring import monitor_scan
    from wallets.prices import price_record
    from wallets.reconciler import sends_reconcile
    from wallets.services import wallet_create, wallet_monitoring_enable

    rng = random.Random(args.seed)
    call_command("migrate", verbosity=0)
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    organization = organization_create(name="chaos payroll")

    def person(username, role=Role.USER, **fields):
        user = User(username=username, email=f"{username}@example.test", first_name="Chaos", last_name=username,
                    role=role, is_staff=role != Role.USER, email_verified=True, organization=organization, **fields)
        user.set_password(PASSWORD)
        user.save()
        user.groups.add(Group.objects.get(name=role))
        return user

    manager = person("manager", Role.MANAGER)
    people = [person(f"employee{n}", manager=manager, is_verified_by_manager=True) for n in range(args.people)]
    services.withholding_example_install(actor=manager)
    if args.employee_gas:
        payroll_settings_get(organization.pk)
        PayrollSettings.objects.filter(organization_id=organization.pk).update(gas_fee_bearer=GasFeeBearer.EMPLOYEE)
    fiat = organization.reporting_fiat
    price_record(symbol="ETH", price=Decimal("2000"), fiat=fiat, organization=organization)
    for day in (timezone.now().date() - dt.timedelta(days=1), timezone.now().date()):
        price_record(symbol="ETH", price=Decimal("2000"), fiat=fiat, day=day, organization=organization)
    wallet = wallet_create(user=manager, name="payroll", wallet_type=WalletType.PRIVATE_KEY)
    wallet_monitoring_enable(wallet=wallet)
    w3 = chain.web3_client()
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("5000")))
    w3.provider.make_request("anvil_mine", ["0x3"])
    monitor_scan()
    _, session, _ = session_login(login=manager.username, password=PASSWORD, ip=None)
    start_block = w3.eth.block_number

    def mine_and_settle(rounds=2):
        for _ in range(rounds):
            w3.provider.make_request("anvil_mine", ["0x3"])
            sends_reconcile()
            crypto_payouts.payroll_payouts_reconcile()

    kills = Counter()
    periods = []
    began = time.monotonic()
    runs = 0
    for n in range(args.runs):
        if args.max_seconds and time.monotonic() - began > args.max_seconds:
            break
        runs += 1
        session_approve(session=session, password=PASSWORD, ip=None)  # approvals last 15 minutes
        for employee in people:
            services.pay_profile_set(actor=manager, employee=employee, basic_salary=str(3000 + rng.randrange(2000)),
                                     payment_method="crypto", wallet_address=Account.create().address,
                                     payout_asset="ETH")
        period = services.payroll_period_create(actor=manager, period_id=f"chaos-{n}", start_date=dt.date(2026, 1, 1),
                                                end_date=dt.date(2026, 1, 31), pay_date=dt.date(2026, 1, 31))
        for payslip in Payslip.objects.filter(period=period):
            services.payslip_approve(actor=manager, payslip=payslip)
        periods.append(period)
        outside = n % 7 == 6
        points = PROCESS_POINTS + SETTLE_POINTS
        point = "random" if outside else points[n % len(points)]
        mode = "settle" if point in SETTLE_POINTS else "process"
        if mode == "settle":
            services.payroll_period_process(actor=manager, period=period, reference="chaos", session=session,
                                            wallet_id=wallet.pk)
            w3.provider.make_request("anvil_mine", ["0x3"])
        env = {**os.environ, "MODE": mode, "DIE": "none" if outside else point,
               "DIE_AT": str(rng.randrange(args.people)), "USER_ID": str(manager.pk), "SESSION_ID": str(session.pk),
               "PERIOD_ID": str(period.pk), "WALLET_ID": str(wallet.pk)}
        child = subprocess.Popen([sys.executable, str(CHILD)], env=env, cwd=BASE_DIR, stdout=subprocess.PIPE,
                                 text=True)
        if outside:
            child.stdout.readline()  # "ready": Django is up, the processing starts now
            time.sleep(rng.uniform(0, 1.5))
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=300)
        kills[point if child.returncode == -signal.SIGKILL else f"{point} (finished first)"] += 1
        # The restart and the manager's retry.
        sends_reconcile()
        crypto_payouts.payroll_payouts_reconcile()
        fresh = PayrollPeriod.objects.get(pk=period.pk)
        if fresh.status != PeriodStatus.PAID:
            services.payroll_period_process(actor=manager, period=fresh, reference="chaos", session=session,
                                            wallet_id=wallet.pk)
        mine_and_settle(1)
        print(f"run {n}: {point} ({mode}) -> {'killed' if child.returncode == -signal.SIGKILL else child.returncode}",
              flush=True)
    elapsed = time.monotonic() - began

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and Payslip.objects.exclude(payment_status="paid").exists():
        mine_and_settle(1)
        time.sleep(0.5)

    transaction_journals_sync(organization=organization)  # whatever sync a kill interrupted

    paid, amounts = Counter(), Counter()
    for number in range(start_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == wallet.address and tx.get("to") and tx["to"] != wallet.address:
                if w3.eth.get_transaction_receipt(tx["hash"])["status"] == 1:
                    paid[tx["to"]] += 1
                    amounts[tx["to"]] += tx["value"]
    outcome = Counter()
    books = Counter()
    for payslip in Payslip.objects.all():
        count, wei = paid[payslip.wallet_address], chain.eth_to_wei(Decimal(payslip.payout_amount or 0))
        net_units = chain.eth_to_wei(Decimal(payslip.payout_net_amount or 0))
        fee_units = chain.eth_to_wei(Decimal(payslip.gas_fee_charged or 0))
        outcome["exactly once" if count == 1 and amounts[payslip.wallet_address] == wei and wei + fee_units == net_units
                else "never" if count == 0 else "more than once" if count > 1 else "wrong amount"] += 1
        # The transfer is booked by the ledger's salary rule; payroll posts a payment entry only for a fee
        # charged to the employee (or an exchange difference): at most one.
        entries = JournalEntry.objects.filter(source_key=f"payroll:{payslip.pk}:payment").count()
        expected = 1 if payslip.gas_fee_charged else 0
        books["payment entries as expected" if entries == expected else f"{entries} payment entries"] += 1
    owed = Decimal(0)
    for entry in JournalEntry.objects.filter(status="posted"):
        for line in entry.line_items:
            if line.account_code == "2200":
                owed += Decimal(line.credit_amount) - Decimal(line.debit_amount)
    withheld = sum((Decimal(p.insurance) + Decimal(p.employer_insurance) + Decimal(p.other_deductions_total)
                    for p in Payslip.objects.all()), Decimal(0))
    books["payroll liabilities = withheld insurance only" if owed == withheld else f"payroll liabilities off by {owed - withheld}"] += 1
    statuses = Counter(Payslip.objects.values_list("payment_status", flat=True))
    transfers = OutgoingTransfer.objects.filter(wallet=wallet, kind=TransferKind.PAYMENT).count()
    print(f"runs: {runs} periods x {args.people} crypto payslips = {sum(outcome.values())} payslips "
          f"({elapsed:.0f} s)")
    print("kills:", dict(kills))
    print("on chain:", dict(outcome))
    print("books:", dict(books))
    print("payslip statuses:", dict(statuses), "| payout transfers stored:", transfers,
          "| periods paid:", PayrollPeriod.objects.filter(status=PeriodStatus.PAID).count())
    print("nonces: latest", w3.eth.get_transaction_count(wallet.address), "pending",
          w3.eth.get_transaction_count(wallet.address, "pending"))
    ok = outcome["exactly once"] == sum(outcome.values()) and set(books) == {
        "payment entries as expected", "payroll liabilities = withheld insurance only"}
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
