"""Wallet-monitor catch-up benchmark.

    python bench/monitor.py [--blocks 1000] [--wallets 10] [--transfers 100]

Starts its own embedded MongoDB and anvil, creates monitored wallets, mines `--blocks` blocks that
carry `--transfers` ETH transfers to those wallets, then times one monitor catch-up over the range
and, for comparison, the raw node work for the same range (every block with its transactions plus
eth_getLogs), one request per block and in the monitor's JSON-RPC batches. Prints the figures.
"""

import argparse
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import bench_stack  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=1000)
    parser.add_argument("--wallets", type=int, default=10)
    parser.add_argument("--transfers", type=int, default=100)
    args = parser.parse_args()
    with bench_stack("bench-monitor-", db_name="bench_monitor", confirmations=1):
        run(args)


def run(args):
    from django.core.management import call_command

    from accounts.models import User
    from wallets import chain
    from wallets.models import Cryptocurrency, Transaction, WalletType
    from wallets.monitoring import TRANSFER_TOPIC, monitor_scan
    from wallets.services import wallet_create, wallet_monitoring_enable

    call_command("migrate", verbosity=0)
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    from core.organizations import organization_create

    organization = organization_create(name="bench", is_personal=True)
    user = User.objects.create(username="bench", email="bench@example.test", first_name="B", last_name="B",
                               organization=organization)
    user.max_wallets = args.wallets
    user.save()
    w3 = chain.web3_client()
    start_block = w3.eth.block_number + 1
    wallets = []
    for n in range(args.wallets):
        wallet = wallet_create(user=user, name=f"w{n}", wallet_type=WalletType.PRIVATE_KEY)
        wallet_monitoring_enable(wallet=wallet, from_block=start_block)
        wallets.append(wallet)
    for n in range(args.transfers):
        chain.eth_send_from_dev_account(to=wallets[n % len(wallets)].address, amount_wei=10**15)
    remaining = args.blocks - (w3.eth.block_number - start_block + 1)
    if remaining > 0:
        w3.provider.make_request("anvil_mine", [hex(remaining)])
    end_block = w3.eth.block_number

    began = time.perf_counter()
    for number in range(start_block, end_block + 1):
        w3.eth.get_block(number, full_transactions=True)
    w3.eth.get_logs({"fromBlock": start_block, "toBlock": end_block, "topics": [TRANSFER_TOPIC]})
    raw_seconds = time.perf_counter() - began
    # The same node work in JSON-RPC batches of the monitor's size: the floor for a batching scanner.
    began = time.perf_counter()
    chain.batched_calls(w3, [partial(w3.eth.get_block, number, True) for number in range(start_block, end_block + 1)])
    w3.eth.get_logs({"fromBlock": start_block, "toBlock": end_block, "topics": [TRANSFER_TOPIC]})
    batched_seconds = time.perf_counter() - began

    # The monitor's own work: what it queues (the journals, the classification) stays queued, as in
    # production where a consumer runs it apart (bench/tax_report.py does the same).
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = False
    began = time.perf_counter()
    report = monitor_scan(max_blocks=args.blocks + 10)
    scan_seconds = time.perf_counter() - began
    recorded = Transaction.objects.count()
    assert recorded == args.transfers, (recorded, args.transfers)

    blocks = end_block - start_block + 1
    print(f"blocks scanned                      {blocks}")
    print(f"monitored wallets                   {args.wallets}")
    print(f"transfers recorded                  {report.recorded} (expected {args.transfers})")
    print(f"monitor catch-up                    {scan_seconds:.2f} s ({blocks / scan_seconds:.0f} blocks/s)")
    print(f"raw node work (blocks + getLogs)    {raw_seconds:.2f} s ({blocks / raw_seconds:.0f} blocks/s)")
    print(f"raw node work, batched              {batched_seconds:.2f} s ({blocks / batched_seconds:.0f} blocks/s)")
    print(f"monitor overhead over the raw fetch {scan_seconds / raw_seconds:.2f}x "
          f"({scan_seconds / batched_seconds:.2f}x the batched fetch)")


if __name__ == "__main__":
    main()
