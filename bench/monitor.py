"""Wallet-monitor catch-up benchmark.

    python bench/monitor.py [--blocks 1000] [--wallets 10] [--transfers 100]

Starts its own embedded MongoDB and anvil, creates monitored wallets, mines `--blocks` blocks that
carry `--transfers` ETH transfers to those wallets, then times one monitor catch-up over the range
and, for comparison, the raw node work for the same range (every block with its transactions plus
eth_getLogs), one request per block and in the monitor's JSON-RPC batches. Prints the figures.
"""

import argparse
import datetime as dt
import json
import os
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
    parser.add_argument("--mongodb-uri", default="", help="benchmark this server instead of an embedded one")
    parser.add_argument("--out", default="", help="also write the figures to this JSON file")
    args = parser.parse_args()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    with bench_stack("bench-monitor-", db_name=f"bench_monitor_{stamp.lower()}", confirmations=1,
                     mongodb_uri=args.mongodb_uri):
        figures = run(args)
        if args.mongodb_uri:
            from django.db import connection

            connection.database.client.drop_database(connection.settings_dict["NAME"])
    figures.update({"timestamp": stamp, "load_avg_at_end": os.getloadavg()})
    if args.out:
        Path(args.out).write_text(json.dumps(figures, indent=2))


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
    # The URL configuration (the notifications' links) is loaded once per process, as in a consumer
    # that has run before: it is not a cost of the scan (0.9 s here, most of it importing the API).
    from django.urls import reverse

    reverse("backoffice-wallet-detail", args=[wallets[0].pk])
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
    return {"blocks": blocks, "wallets": args.wallets, "transfers": args.transfers, "recorded": report.recorded,
            "monitor_s": round(scan_seconds, 3), "raw_s": round(raw_seconds, 3),
            "raw_batched_s": round(batched_seconds, 3), "monitor_vs_raw": round(scan_seconds / raw_seconds, 2),
            "monitor_vs_raw_batched": round(scan_seconds / batched_seconds, 2)}


if __name__ == "__main__":
    main()
