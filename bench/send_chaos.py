"""Chaos run of payouts (issue 19, item 2): kill -9 the sending process, restart, retry; count.

    .venv/bin/python bench/send_chaos.py [--runs 60] [--block-time 1] [--seed N]

Starts its own embedded MongoDB and anvil (mining every --block-time seconds; 0 = on every
transaction), one organization with a funded Private Key wallet, then for each run one intent key
paying a fresh address:
- a sending process (tests/wallets/send_crash_child.py) is killed with SIGKILL, in turn at each step
  (before the nonce reservation, after signing, after the reservation+record insert, before and
  after the broadcast) and, every sixth run, from outside at a random moment of the send;
- every third run, another payout leaves the same wallet before anyone retries;
- then the restart: the reconciler runs (as `runstack` does at start-up) and the caller retries
  the same intent key twice.
At the end it waits for ETH_CONFIRMATIONS, lets the reconciler and the monitor settle everything,
and counts, from the chain's blocks, the transactions that paid each key's address. Prints the
count per outcome: "exactly once" must equal the number of keys, with none stuck.
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

CHILD = BASE_DIR / "tests" / "wallets" / "send_crash_child.py"
POINTS = ("before_reservation", "after_signing", "after_record", "before_broadcast", "after_broadcast")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--block-time", type=int, default=1)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    with bench_stack("bench-send-chaos-", db_name="bench_send_chaos", confirmations=3, log_level="ERROR",
                     block_time=args.block_time):
        run(args)


def run(args):
    from django.core.management import call_command
    from eth_account import Account

    from accounts.models import User
    from core.organizations import organization_create
    from wallets import chain
    from wallets.models import Cryptocurrency, OutgoingTransfer, TransferKind, TransferStatus, WalletType
    from wallets.monitoring import monitor_scan
    from wallets.reconciler import sends_reconcile
    from wallets.services import wallet_create, wallet_monitoring_enable
    from wallets.transfers import payout_send

    rng = random.Random(args.seed)
    call_command("migrate", verbosity=0)
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    organization = organization_create(name="chaos", is_personal=True)
    user = User.objects.create(username="chaos", email="chaos@example.test", first_name="C", last_name="C",
                               organization=organization)
    wallet = wallet_create(user=user, name="payroll", wallet_type=WalletType.PRIVATE_KEY)
    w3 = chain.web3_client()
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("100")))
    wallet_monitoring_enable(wallet=wallet)
    start_block = w3.eth.block_number
    start_nonce = w3.eth.get_transaction_count(wallet.address)

    def pay(key, to, amount):
        return payout_send(organization_id=organization.pk, wallet=wallet, to=to, amount=amount, intent_key=key,
                           requested_by=user)

    intents = {}  # key -> (recipient, amount in wei)
    kills = Counter()
    began = time.monotonic()
    for n in range(args.runs):
        key, to, amount = f"chaos-{n}", Account.create().address, Decimal("0.01") + Decimal(n) / 1000
        intents[key] = (to, chain.eth_to_wei(amount))
        point = "random" if n % 6 == 5 else POINTS[n % len(POINTS)]
        env = {**os.environ, "DIE": "none" if point == "random" else point, "USER_ID": str(user.pk),
               "WALLET_ID": str(wallet.pk), "TO": to, "KEY": key, "AMOUNT": str(amount)}
        child = subprocess.Popen([sys.executable, str(CHILD)], env=env, cwd=BASE_DIR, stdout=subprocess.PIPE, text=True)
        if point == "random":
            child.stdout.readline()  # "ready": Django is up, the send starts now
            time.sleep(rng.uniform(0, 0.25))
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=120)
        kills[point if child.returncode == -signal.SIGKILL else f"{point} (finished first)"] += 1
        if n % 3 == 2:  # another payout before the retry
            other_key, other_to = f"chaos-{n}-other", Account.create().address
            intents[other_key] = (other_to, chain.eth_to_wei(Decimal("0.005")))
            pay(other_key, other_to, Decimal("0.005"))
        sends_reconcile()  # the restarted stack
        pay(key, to, amount)
        pay(key, to, amount)  # and the client's second retry
    sends_sent = time.monotonic() - began

    # Let everything be mined, confirmed and settled.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if args.block_time == 0:
            w3.provider.make_request("anvil_mine", ["0x1"])
        sends_reconcile()
        monitor_scan()
        if not OutgoingTransfer.objects.filter(wallet=wallet, status__in=["PREPARED", "BROADCAST", "STUCK"]).exists():
            break
        time.sleep(1)

    paid = Counter()  # recipient -> transactions from the wallet that paid it
    amounts = {}
    for number in range(start_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == wallet.address and tx.get("to") and tx["to"] != wallet.address:
                receipt = w3.eth.get_transaction_receipt(tx["hash"])
                if receipt["status"] == 1:
                    paid[tx["to"]] += 1
                    amounts[tx["to"]] = tx["value"]
    outcome = Counter()
    for key, (to, wei) in intents.items():
        count = paid[to]
        outcome["exactly once" if count == 1 and amounts.get(to) == wei else
                "never" if count == 0 else "more than once" if count > 1 else "wrong amount"] += 1
    latest = w3.eth.get_transaction_count(wallet.address)
    pending = w3.eth.get_transaction_count(wallet.address, "pending")
    statuses = Counter(OutgoingTransfer.objects.filter(wallet=wallet, kind=TransferKind.PAYMENT)
                       .values_list("status", flat=True))
    fillers = OutgoingTransfer.objects.filter(wallet=wallet, kind=TransferKind.NONCE_FILLER).count()
    stuck = sum(statuses[s] for s in (TransferStatus.PREPARED, TransferStatus.BROADCAST, TransferStatus.STUCK))

    print(f"runs (intent keys killed mid-send)   {args.runs}")
    print(f"kills by step                        {dict(sorted(kills.items()))}")
    print(f"intent keys in all                   {len(intents)} (incl. {len(intents) - args.runs} sent between kill and retry)")
    print(f"paid exactly once                    {outcome['exactly once']}")
    print(f"paid never                           {outcome['never']}")
    print(f"paid more than once                  {outcome['more than once']}")
    print(f"paid a wrong amount                  {outcome['wrong amount']}")
    print(f"stuck (not settled)                  {stuck}; chain nonce {latest}, pending {pending}, "
          f"expected {start_nonce + len(intents) + fillers}")
    print(f"transfer records by status           {dict(statuses)}; nonce fillers {fillers}")
    print(f"time for the sends                   {sends_sent:.0f} s (block time {args.block_time} s)")
    ok = (outcome["exactly once"] == len(intents) and stuck == 0 and latest == pending
          and latest == start_nonce + len(intents) + fillers)
    print("RESULT", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
