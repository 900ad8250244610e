"""Chaos loop of payouts inside the suite (issue 19, item 2): SEND_CHAOS_RUNS kill -9s of the sending
process (default 10 in `make test`; SEND_CHAOS_RUNS=50 for the issue's 50-run proof), then the
restart and the caller's retries, and at the end a count from the chain's blocks: every intent key
paid exactly once, with the right amount, nothing stuck, no nonce gap.

Each run kills the sender at one step in turn (tests/wallets/send_crash_child.py: before the nonce
reservation, after signing, after the reservation+record insert, before and after the broadcast),
and every sixth run from outside at a random moment of the send (seeded: SEND_CHAOS_SEED); every
third run another payout leaves the same wallet before anyone retries. Then, as a restarted stack
does, the reconciler runs, and the caller retries the same intent key twice.

The senders are forked from a small fork server that has Django loaded once, so one kill costs
milliseconds of start-up instead of seconds (the child is still a separate process, killed with
SIGKILL, with its own database and node connections). bench/send_chaos.py runs the same loop
against a node mining every second.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from eth_account import Account

from wallets import chain
from wallets.models import Cryptocurrency, OutgoingTransfer, TransferKind, TransferStatus, WalletType
from wallets.monitoring import monitor_scan
from wallets.reconciler import sends_reconcile
from wallets.services import wallet_create, wallet_monitoring_enable
from wallets.transfers import payout_send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

RUNS = int(os.environ.get("SEND_CHAOS_RUNS", "10"))
SEED = int(os.environ.get("SEND_CHAOS_SEED", "19"))
CHILD_SCRIPT = Path(__file__).with_name("send_crash_child.py")
POINTS = ("before_reservation", "after_signing", "after_record", "before_broadcast", "after_broadcast")

# One request per line on stdin: {"env": {...}, "kill_after": seconds or null}. The server forks a
# sender running send_crash_child.py with that environment; with kill_after it waits for the
# sender's "ready" (the send starts), sleeps that long and kills it with SIGKILL itself (the pid is
# not reaped yet, so it cannot be another process). Answers one JSON line per request:
# {"pid", "signal", "code", "output"}.
FORK_SERVER = r"""
import json, os, runpy, signal, sys, time, traceback
sys.path.insert(0, os.environ["BASE_DIR"])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
import eth_account, web3.eth, wallets.transfers, wallets.models, accounts.models  # loaded once, before any fork
print("fork-server ready", flush=True)
for line in sys.stdin:
    request = json.loads(line)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.dup2(write_end, 1)
        os.environ.update(request["env"])
        code = 0
        try:
            runpy.run_path(os.environ["CHILD_SCRIPT"], run_name="__main__")
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    os.close(write_end)
    output = os.fdopen(read_end)
    lines = []
    if request.get("kill_after") is not None:
        first = output.readline()
        lines.append(first)
        if first.strip() == "ready":
            time.sleep(request["kill_after"])
            os.kill(pid, signal.SIGKILL)
    lines.append(output.read())
    output.close()
    _, status = os.waitpid(pid, 0)
    answer = {"pid": pid, "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
              "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None, "output": "".join(lines)[-2000:]}
    print(json.dumps(answer), flush=True)
"""


def _mine(blocks: int) -> None:
    chain.web3_client().provider.make_request("anvil_mine", [hex(blocks)])


@pytest.fixture
def fork_server(settings):
    env = {**os.environ, "MONGODB_URI": settings.DATABASES["default"]["HOST"],
           "MONGODB_NAME": connection.settings_dict["NAME"], "ETH_RPC_URL": settings.ETH_RPC_URL,
           "ETH_CONFIRMATIONS": str(settings.ETH_CONFIRMATIONS), "LOG_TO_FILES": "false", "LOG_LEVEL": "ERROR",
           "BASE_DIR": str(settings.BASE_DIR), "CHILD_SCRIPT": str(CHILD_SCRIPT)}
    server = subprocess.Popen([sys.executable, "-c", FORK_SERVER], env=env, cwd=settings.BASE_DIR,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "fork-server ready"

    def send(env: dict, kill_after: float | None) -> dict:
        server.stdin.write(json.dumps({"env": env, "kill_after": kill_after}) + "\n")
        server.stdin.flush()
        line = server.stdout.readline()
        assert line, "the fork server died"
        return json.loads(line)

    yield send
    server.stdin.close()
    server.wait(timeout=30)


def test_kill_9_loop_pays_every_intent_key_exactly_once(make_user, eth_node, settings, fork_server):
    settings.ETH_CONFIRMATIONS = 3
    began = time.monotonic()
    rng = random.Random(SEED)
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    user = make_user()
    wallet = wallet_create(user=user, name="payroll", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("20")))
    wallet_monitoring_enable(wallet=wallet)
    monitor_scan()
    w3 = chain.web3_client()
    start_block = w3.eth.block_number
    start_nonce = w3.eth.get_transaction_count(wallet.address)

    def pay(key, to, amount):
        return payout_send(organization_id=wallet.organization_id, wallet=wallet, to=to, amount=amount,
                           intent_key=key, requested_by=user)

    intents = {}  # intent key -> (recipient, wei)
    kills = Counter()
    for n in range(RUNS):
        key, to, amount = f"chaos-{n}", Account.create().address, Decimal("0.01") + Decimal(n) / 1000
        intents[key] = (to, chain.eth_to_wei(amount))
        point = "random" if n % 6 == 5 else POINTS[n % len(POINTS)]
        env = {"DIE": "none" if point == "random" else point, "USER_ID": str(user.pk), "WALLET_ID": str(wallet.pk),
               "TO": to, "KEY": key, "AMOUNT": str(amount)}
        answer = fork_server(env, rng.uniform(0, 0.25) if point == "random" else None)
        if point != "random":
            assert answer["signal"] == signal.SIGKILL, answer  # it died at the step, not before or after
        else:
            assert answer["signal"] == signal.SIGKILL or answer["code"] == 0, answer
        kills[point if answer["signal"] == signal.SIGKILL else f"{point} (finished first)"] += 1
        if n % 3 == 2:  # another payout leaves the wallet before anyone retries
            other_key, other_to = f"chaos-{n}-other", Account.create().address
            intents[other_key] = (other_to, chain.eth_to_wei(Decimal("0.005")))
            assert pay(other_key, other_to, Decimal("0.005")).status == TransferStatus.BROADCAST
        sends_reconcile()  # the restarted stack
        retried = pay(key, to, amount)
        assert pay(key, to, amount).pk == retried.pk  # the client's second retry: the same send
        if n % 4 == 3:
            _mine(1)

    for _ in range(10):  # mine, confirm and settle everything
        _mine(settings.ETH_CONFIRMATIONS + 1)
        sends_reconcile()
        monitor_scan()
        if not OutgoingTransfer.objects.filter(wallet=wallet, status__in=["PREPARED", "BROADCAST", "STUCK"]).exists():
            break

    paid, amounts = Counter(), {}
    for number in range(start_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == wallet.address and tx.get("to") and tx["to"] != wallet.address:
                if w3.eth.get_transaction_receipt(tx["hash"])["status"] == 1:
                    paid[tx["to"]] += 1
                    amounts[tx["to"]] = tx["value"]
    outcome = {key: ("exactly once" if paid[to] == 1 and amounts[to] == wei else
                     "never" if paid[to] == 0 else "more than once" if paid[to] > 1 else "wrong amount")
               for key, (to, wei) in intents.items()}
    fillers = OutgoingTransfer.objects.filter(wallet=wallet, kind=TransferKind.NONCE_FILLER).count()
    statuses = Counter(OutgoingTransfer.objects.filter(wallet=wallet).values_list("status", flat=True))
    print(f"\nsend chaos loop: {RUNS} kills {dict(sorted(kills.items()))}, {len(intents)} intent keys, "
          f"{Counter(outcome.values())}, statuses {dict(statuses)}, {fillers} nonce fillers, "
          f"{time.monotonic() - began:.0f}s")

    assert [key for key, what in outcome.items() if what != "exactly once"] == []
    assert set(statuses) == {TransferStatus.CONFIRMED}  # none stuck, none open
    latest = w3.eth.get_transaction_count(wallet.address)
    assert latest == w3.eth.get_transaction_count(wallet.address, "pending")  # nothing queued behind a gap
    assert latest == start_nonce + len(intents) + fillers
    assert sum(kills[p] for p in POINTS) == sum(1 for n in range(RUNS) if n % 6 != 5)
