"""`tax_report` end to end on 10k and 100k imported trades, compared in the same run with a plain scan
of the same documents.

    .venv/bin/python bench/tax_report.py                 # sizes 10000,100000 (several minutes)
    .venv/bin/python bench/tax_report.py --sizes 10000   # quick
    .venv/bin/python bench/tax_report.py --mongodb-uri 'mongodb://host/?replicaSet=rs0'

For each size: a Koinly universal CSV of N rows is generated (seeded: buys, sells, swaps with crypto
fees, staking income; three assets), imported with `manage.py import_transactions` (timed), then
`manage.py tax_report --method fifo --totals` is run over the whole history (timed, split into reading
the trades and the engine), against a plain pymongo scan of the user's transaction documents
(`list(find({"user_id": ...}))`) - the floor any report over every row is compared with. The import
is compared with inserting the same documents raw (`insert_many` in batches of 5000). A fresh
user per size. Server start-up and Django set-up are bench/run.py's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import sys
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.run import bench_session, print_table, results_write, timed  # noqa: E402

HEADER = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
          "Net Worth Amount,Net Worth Currency,Label,Description,TxHash")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="imported rows per run, comma separated")
    parser.add_argument("--mongodb-uri", default="", help="benchmark this server instead of an embedded one")
    parser.add_argument("--keep", action="store_true", help="keep the bench database and storage")
    parser.add_argument("--journals-up-to", type=int, default=10000,
                        help="also time the automatic journal sync for sizes up to this (default 10000)")
    return parser.parse_args(argv)


START_PRICE = {"BTC": Decimal(30000), "ETH": Decimal(2000), "SOL": Decimal(100)}


def koinly_rows(size: int, seed: int = 7) -> str:
    """A plausible history that never sells more than it holds: buys, sells, swaps, staking."""
    rng = random.Random(seed)
    held = {"BTC": Decimal(0), "ETH": Decimal(0), "SOL": Decimal(0)}
    price = dict(START_PRICE)
    when = dt.datetime(2020, 1, 1)
    lines = [HEADER]
    for n in range(size):
        when += dt.timedelta(minutes=rng.randint(20, 120))
        for asset, start in START_PRICE.items():
            # A random walk pulled back towards its start: prices stay plausible over 100k rows.
            drift = 1016 if price[asset] < start / 4 else 985 if price[asset] > start * 4 else None
            step = Decimal(rng.randint(985, 1016) if drift is None else rng.randint(min(drift, 1000), max(drift, 1000)))
            price[asset] = max((price[asset] * step / 1000).quantize(Decimal("0.01")), Decimal("0.01"))
        asset = rng.choice(list(price))
        stamp = when.strftime("%Y-%m-%d %H:%M:%S")
        kind = rng.random()
        if kind < 0.45 or held[asset] <= 0:
            quantity = (Decimal(rng.randint(1, 1000)) / 1000)
            cost = (quantity * price[asset]).quantize(Decimal("0.01"))
            lines.append(f"{stamp},{cost},USD,{quantity},{asset},1.50,USD,,,,buy {n},0xb{n:063x}")
            held[asset] += quantity
        elif kind < 0.75:
            quantity = (held[asset] * Decimal(rng.randint(1, 50)) / 100).quantize(Decimal("0.00000001"))
            if quantity <= 0:
                continue
            proceeds = (quantity * price[asset]).quantize(Decimal("0.01"))
            lines.append(f"{stamp},{quantity},{asset},{proceeds},USD,,,,,,sell {n},0xs{n:063x}")
            held[asset] -= quantity
        elif kind < 0.9:
            other = rng.choice([a for a in price if a != asset])
            quantity = (held[asset] * Decimal(rng.randint(1, 30)) / 100).quantize(Decimal("0.00000001"))
            if quantity <= 0:
                continue
            worth = (quantity * price[asset]).quantize(Decimal("0.01"))
            received = (worth / price[other]).quantize(Decimal("0.00000001"))
            fee = (received / 1000).quantize(Decimal("0.00000001"))  # printed below with :f (no exponent)
            lines.append(f"{stamp},{quantity},{asset},{received},{other},{fee:f},{other},{worth},USD,,swap {n},"
                         f"0xw{n:063x}")
            held[asset] -= quantity
            held[other] += received - fee
        else:
            quantity = Decimal(rng.randint(1, 100)) / 10000
            worth = (quantity * price[asset]).quantize(Decimal("0.01"))
            lines.append(f"{stamp},,,{quantity},{asset},,,{worth},USD,staking,reward {n},0xr{n:063x}")
            held[asset] += quantity
    return "\n".join(lines) + "\n"


def tax_report_peak_rss_mb(username: str, root: Path) -> float:
    """The same report in its own process (Django start-up included), for its peak memory."""
    import os
    import resource
    import subprocess

    from django.db import connection

    env = {**os.environ, "MONGODB_URI": connection.settings_dict["HOST"], "MONGODB_NAME": connection.settings_dict["NAME"],
           "HUEY_IMMEDIATE": "false", "LOG_TO_FILES": "false"}
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "tax_report", "--user", username, "--method", "fifo",
                    "--start", "1970-01-01", "--end", "2100-12-31", "--totals", "--output",
                    str(root / f"rss-{username}.csv")], env=env, check=True, capture_output=True)
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def bench_size(size: int, root: Path, journals: bool) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from core.organizations import organization_create
    from ledger.tax_trades import tax_trades_for
    from reporting.selectors import tax_summary_for
    from wallets.models import Transaction

    username = f"bench{size}"
    organization = organization_create(name=username, is_personal=True)
    user = User.objects.create(username=username, email=f"{username}@example.test", email_verified=True,
                               organization=organization)
    source = root / f"koinly-{size}.csv"
    source.write_text(koinly_rows(size))
    import_s, _ = timed(lambda: call_command("import_transactions", str(source), user=username, format="universal",
                                             stdout=io.StringIO()))
    documents = Transaction.objects.filter(user=user).count()

    collection = connection.get_collection(Transaction._meta.db_table)
    scan_s, scanned = timed(lambda: list(collection.find({"user_id": user.pk})))
    assert len(scanned) == documents
    # The import's floor: inserting the same documents raw, in batches, into a scratch collection.
    scratch = connection.get_collection(f"bench_raw_insert_{size}")
    copies = [{key: value for key, value in doc.items() if key != "_id"} for doc in scanned]
    raw_insert_s, _ = timed(lambda: [scratch.insert_many(copies[i:i + 5000], ordered=False)
                                     for i in range(0, len(copies), 5000)])
    scratch.drop()
    read_s, tax_input = timed(lambda: tax_trades_for(organization))
    engine_s, summary = timed(lambda: tax_summary_for(organization, method="fifo", start=dt.date(1970, 1, 1),
                                                      end=dt.date(2100, 12, 31), tax_input=tax_input))
    output = root / f"totals-{size}.csv"
    command_s, _ = timed(lambda: call_command("tax_report", "--user", username, "--method", "fifo", "--start",
                                              "1970-01-01", "--end", "2100-12-31", "--totals", "--output",
                                              str(output), stderr=io.StringIO()))
    years = len(output.read_text().splitlines()) - 1
    peak_rss_mb = tax_report_peak_rss_mb(username, root)
    journal = {}
    if journals:
        from ledger.transaction_journals import transaction_journals_sync, transaction_journals_sync_all

        sync_s, report = timed(lambda: transaction_journals_sync(user=user))
        again_s, again = timed(lambda: transaction_journals_sync(user=user))
        # The periodic catch-up as it runs every 15 minutes: only where the books' inputs moved.
        periodic_s, periodic = timed(lambda: transaction_journals_sync_all(only_if_changed=True))
        assert periodic["created"] == 0 and periodic["unchanged"] == periodic["organizations"]
        if report.error:
            raise AssertionError(f"journals not synced: {report.error}")
        assert again.created == 0 and again.unchanged == report.created
        journal = {"journal_entries": report.created, "journal_sync_s": round(sync_s, 1),
                   "journal_entries_per_s": round(report.created / sync_s), "journal_resync_s": round(again_s, 1),
                   "journal_periodic_s": round(periodic_s, 3)}
    return {
        "rows": size, "documents": documents, "trades": len(tax_input.trades), "disposals": len(summary.disposals),
        "years": years, "import_s": round(import_s, 2), "import_rows_per_s": round(size / import_s),
        "raw_insert_s": round(raw_insert_s, 2), "import_vs_raw_insert": round(import_s / raw_insert_s, 1),
        "scan_s": round(scan_s, 2), "scan_docs_per_s": round(documents / scan_s),
        "read_trades_s": round(read_s, 2), "engine_s": round(engine_s, 2), "tax_report_s": round(command_s, 2),
        "tax_report_vs_scan": round(command_s / scan_s, 1), "tax_report_peak_rss_mb": peak_rss_mb, **journal,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    with bench_session(label="tax", mongodb_uri=args.mongodb_uri, keep=args.keep) as results:
        # Imports queue the automatic journals; here they stay queued (no consumer), so the import and
        # tax_report figures are their own. The journal sync is timed separately (--journals-up-to).
        from huey.contrib.djhuey import HUEY

        HUEY.immediate = False
        root = Path(results.pop("root"))
        results["sizes"] = []
        for size in sizes:
            print(f"... {size} imported rows", flush=True)
            results["sizes"].append(bench_size(size, root, journals=size <= args.journals_up_to))
    print_table("tax_report --method fifo --totals over the whole history, vs a plain scan", results["sizes"], [
        ("rows", "rows"), ("documents", "documents"), ("trades", "trades"), ("disposals", "disposals"),
        ("import_s", "import s"), ("import_rows_per_s", "import rows/s"), ("raw_insert_s", "raw insert s"),
        ("import_vs_raw_insert", "x raw insert"), ("scan_s", "scan s"),
        ("read_trades_s", "read trades s"), ("engine_s", "engine s"), ("tax_report_s", "tax_report s"),
        ("tax_report_vs_scan", "x scan"), ("tax_report_peak_rss_mb", "peak RSS MB (own process)"),
    ])
    print_table("automatic journals (one posted entry per trade), first sync and a second one", [
        r for r in results["sizes"] if "journal_entries" in r], [
        ("rows", "rows"), ("journal_entries", "entries"), ("journal_sync_s", "sync s"),
        ("journal_entries_per_s", "entries/s"), ("journal_resync_s", "full re-sync s"),
        ("journal_periodic_s", "periodic sync s (nothing to do)"),
    ])
    results_write(results, f"tax-report-{results['timestamp']}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
