"""`tax_report` end to end on 10k and 100k imported trades, compared in the same run with a plain scan
of the same documents.

    .venv/bin/python bench/tax_report.py                 # sizes 10000,100000 (several minutes)
    .venv/bin/python bench/tax_report.py --sizes 10000   # quick
    .venv/bin/python bench/tax_report.py --mongodb-uri 'mongodb://host/?replicaSet=rs0'

For each size: a Koinly universal CSV of N rows is generated (seeded: buys, sells, swaps with crypto
fees, staking income; three assets), imported with `manage.py import_transactions` (timed), then
`manage.py tax_report --method fifo --totals` is run over the whole history (timed; it streams the
history in date windows into the engine), against a plain pymongo scan of the user's transaction
documents (`list(find({"user_id": ...}))`) - the floor any report over every row is compared with -
and once more in its own process for its peak memory (bench/peak_rss.py). Up to --whole-read-up-to
rows, the whole-history read the journals still use (`tax_trades_for`) and the engine over it are
timed apart. The import
is compared with inserting the same documents raw (`insert_many` in batches of 5000). A fresh
user per size. Server start-up and Django set-up are bench/run.py's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import re
import statistics
import sys
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.peak_rss import peak_mb, peak_mb_reset  # noqa: E402
from bench.run import (bench_session, insert_in_batches, print_table, results_write, time_index_recount,  # noqa: E402
                       timed)

HEADER = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
          "Net Worth Amount,Net Worth Currency,Label,Description,TxHash")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="imported rows per run, comma separated")
    parser.add_argument("--mongodb-uri", default="", help="benchmark this server instead of an embedded one")
    parser.add_argument("--keep", action="store_true", help="keep the bench database and storage")
    parser.add_argument("--import-up-to", type=int, default=100000,
                        help="import at most this many rows; a larger size repeats the imported history, "
                             "shifted later in time, with insert_many until it holds that many rows (default 100000)")
    parser.add_argument("--resync-up-to", type=int, default=100000,
                        help="time a full re-sync after the first for sizes up to this (default 100000)")
    parser.add_argument("--out", default="", help="write the results here (default bench/results/<name>.json)")
    parser.add_argument("--whole-read-up-to", type=int, default=100000,
                        help="also time the whole-history read (tax_trades_for) and the engine over it for sizes "
                             "up to this (default 100000; at 1M it holds the history in memory)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="scan and report pairs per size; medians are printed (default 3)")
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
    """The same report in its own process (Django start-up included), for its peak memory (bench/peak_rss.py:
    the process's own, not the bench's it was forked from)."""
    import os
    import re
    import subprocess

    from django.db import connection

    env = {**os.environ, "MONGODB_URI": connection.settings_dict["HOST"],
           "MONGODB_NAME": connection.settings_dict["NAME"], "HUEY_IMMEDIATE": "false", "LOG_TO_FILES": "false"}
    done = subprocess.run([sys.executable, str(BASE_DIR / "bench" / "peak_rss.py"), str(BASE_DIR / "manage.py"),
                           "tax_report", "--user", username, "--method", "fifo", "--start", "1970-01-01", "--end",
                           "2100-12-31", "--totals", "--output", str(root / f"rss-{username}.csv")],
                          env=env, check=True, capture_output=True, text=True)
    return float(re.search(r"peak_rss_mb ([0-9.]+)", done.stderr).group(1))


def raw_insert_seconds(scratch, documents: list[dict]) -> float:
    """The import's floor: the same documents inserted raw, in batches, into a scratch collection."""
    copies = [{key: value for key, value in doc.items() if key != "_id"} for doc in documents]
    seconds, _ = timed(lambda: insert_in_batches(scratch, copies))
    scratch.drop()
    return seconds


def entries_insert_floor(organization_id, sample: int = 100000) -> dict:
    """The first sync's floor: the entry documents it wrote (at most `sample` of them: the rate is what
    counts), inserted raw into a scratch collection with the same indexes, in transactions of the
    sync's batch size (a sync posts POST_BATCH per transaction)."""
    from django.db import connection

    from ledger.models import JournalEntry
    from ledger.transaction_journals import POST_BATCH

    source = connection.get_collection(JournalEntry._meta.db_table)
    documents = [{key: value for key, value in doc.items() if key != "_id"}
                 for doc in source.find({"organization_id": organization_id}).limit(sample)]
    scratch = connection.get_collection("bench_entries_floor")
    scratch.drop()
    for name, index in source.index_information().items():
        if name != "_id_":
            options = {key: index[key] for key in ("unique", "partialFilterExpression") if key in index}
            scratch.create_index(index["key"], name=name, **options)
    client = connection.database.client

    def insert():
        for first in range(0, len(documents), POST_BATCH):
            with client.start_session() as session, session.start_transaction():
                scratch.insert_many(documents[first:first + POST_BATCH], ordered=False, session=session)

    seconds, _ = timed(insert)
    indexes = len(scratch.index_information())
    scratch.drop()
    return {"entries_raw_insert_s": round(seconds, 1), "entries_raw_insert_per_s": round(len(documents) / seconds),
            "entries_indexes": indexes}


def grow_by_copies(collection, imported: list[dict], copies: int) -> float:
    """Repeat the imported history `copies` more times after itself (each copy shifted by the history's
    span and a day; its hashes and external ids made its own, a swap's two legs keeping one hash), in
    insert_many batches. Each copy never sells more than it holds, so the whole stays a valid history.
    Returns the seconds spent inserting."""
    first = min(doc["transaction_date"] for doc in imported)
    span = max(doc["transaction_date"] for doc in imported) - first + dt.timedelta(days=1)

    def clones():
        for copy in range(1, copies + 1):
            for doc in imported:
                clone = {key: value for key, value in doc.items() if key != "_id"}
                clone["transaction_date"] = doc["transaction_date"] + span * copy
                if doc.get("hash"):  # 0x<kind><n:063x>: the digits after the kind are zeros for n < 16**57
                    clone["hash"] = f"{doc['hash'][:3]}{copy:06x}{doc['hash'][9:]}"
                if doc.get("external_id"):  # import:<owner>:<row key>:<part>: the copy's rows are its own
                    row, part = doc["external_id"].rsplit(":", 1)
                    clone["external_id"] = f"{row}~copy{copy}:{part}"
                yield clone

    seconds, _ = timed(lambda: insert_in_batches(collection, clones()))
    return seconds


def bench_size(size: int, root: Path, journals: bool, import_up_to: int = 100000, resync: bool = True,
               whole_read_up_to: int = 100000, repeats: int = 3) -> dict:
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
    imported_rows = min(size, import_up_to)
    source = root / f"koinly-{imported_rows}.csv"
    source.write_text(koinly_rows(imported_rows))
    import_s, _ = timed(lambda: call_command("import_transactions", str(source), user=username, format="universal",
                                             stdout=io.StringIO()))
    imported_documents = Transaction.objects.filter(user=user).count()
    print(f"    imported {imported_rows:,} rows ({imported_documents:,} documents) in {import_s:.1f} s", flush=True)

    collection = connection.get_collection(Transaction._meta.db_table)
    imported = list(collection.find({"user_id": user.pk}))
    assert len(imported) == imported_documents
    raw_insert_s = raw_insert_seconds(connection.get_collection(f"bench_raw_insert_{size}"), imported)
    grown = {}
    if size > imported_rows:
        copies = -(-size // imported_rows) - 1
        print(f"    repeating the {imported_rows:,} imported rows {copies} more times", flush=True)
        grow_s = grow_by_copies(collection, imported, copies)
        grown = {"repeated_copies": copies, "grow_insert_s": round(grow_s, 1),
                 "time_index_recount_s": round(time_index_recount(), 1)}
    del imported
    documents = Transaction.objects.filter(user=user).count()
    whole = {}
    if size <= whole_read_up_to:
        # The whole-history read the journals and the portfolio still use, and the engine over it.
        read_s, tax_input = timed(lambda: tax_trades_for(organization))
        engine_s, _ = timed(lambda: tax_summary_for(organization, method="fifo", start=dt.date(1970, 1, 1),
                                                    end=dt.date(2100, 12, 31), tax_input=tax_input))
        whole = {"trades": len(tax_input.trades), "read_trades_s": round(read_s, 2), "engine_s": round(engine_s, 2)}
        print(f"    whole history read as trades {read_s:.1f} s, engine {engine_s:.1f} s", flush=True)
        tax_input = None  # freed before the report below
    output = root / f"totals-{size}.csv"
    said = io.StringIO()

    def scan() -> int:  # every document decoded, none kept (a list of 1M documents is gigabytes)
        return sum(1 for _ in collection.find({"user_id": user.pk}))

    def report() -> None:
        said.seek(0)
        said.truncate()
        call_command("tax_report", "--user", username, "--method", "fifo", "--start", "1970-01-01", "--end",
                     "2100-12-31", "--totals", "--output", str(output), stderr=said)

    # The scan and the report in turn, `repeats` times: on a noisy machine one pair alone moved the
    # ratio by a third; the medians are printed, every pair kept in the results.
    pairs = []
    for _ in range(repeats):
        scan_s, scanned = timed(scan)
        assert scanned == documents
        command_s, _ = timed(report)
        pairs.append((round(scan_s, 2), round(command_s, 2)))
        print(f"    {documents:,} documents: plain scan {scan_s:.1f} s, tax_report (streamed) {command_s:.1f} s",
              flush=True)
    scan_s = statistics.median(scan for scan, _ in pairs)
    command_s = statistics.median(command for _, command in pairs)
    ratio = statistics.median(command / scan for scan, command in pairs)
    years = len(output.read_text().splitlines()) - 1
    disposals = int(re.search(r"(\d+) disposal", said.getvalue()).group(1))
    peak_rss_mb = tax_report_peak_rss_mb(username, root)
    journal = {}
    if journals:
        from ledger.transaction_journals import transaction_journals_sync, transaction_journals_sync_all

        peak_mb_reset()
        sync_s, report = timed(lambda: transaction_journals_sync(user=user))
        sync_peak_mb = round(peak_mb())
        print(f"    first journal sync {sync_s:.1f} s ({report.created:,} entries; peak RSS {sync_peak_mb:,} MB)",
              flush=True)
        again_s, again = timed(lambda: transaction_journals_sync(user=user)) if resync else (None, None)
        # The periodic catch-up as it runs every 15 minutes: only where the books' inputs moved.
        periodic_s, periodic = timed(lambda: transaction_journals_sync_all(only_if_changed=True))
        assert periodic["created"] == 0 and periodic["unchanged"] == periodic["organizations"]
        if report.error:
            raise AssertionError(f"journals not synced: {report.error}")
        assert again is None or (again.created == 0 and again.unchanged == report.created)
        journal = {"journal_entries": report.created, "journal_sync_s": round(sync_s, 1),
                   "journal_entries_per_s": round(report.created / sync_s), "journal_sync_peak_rss_mb": sync_peak_mb,
                   "journal_resync_s": round(again_s, 1) if resync else "",
                   "journal_periodic_s": round(periodic_s, 3), **entries_insert_floor(organization.pk)}
    return {
        "rows": size, "imported_rows": imported_rows, "imported_documents": imported_documents, **grown,
        "documents": documents, "disposals": disposals, **whole,
        "years": years, "import_s": round(import_s, 2), "import_rows_per_s": round(imported_rows / import_s),
        "raw_insert_s": round(raw_insert_s, 2), "import_vs_raw_insert": round(import_s / raw_insert_s, 1),
        "scan_s": round(scan_s, 2), "scan_docs_per_s": round(documents / scan_s),
        "tax_report_s": round(command_s, 2),
        "tax_report_vs_scan": round(ratio, 2), "scan_and_report_pairs_s": pairs,
        "tax_report_peak_rss_mb": peak_rss_mb, **journal,
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
            results["sizes"].append(bench_size(size, root, journals=size <= args.journals_up_to,
                                               import_up_to=args.import_up_to,
                                               resync=size <= args.resync_up_to,
                                               whole_read_up_to=args.whole_read_up_to, repeats=args.repeats))
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
        ("journal_entries_per_s", "entries/s"), ("journal_sync_peak_rss_mb", "sync peak RSS MB"),
        ("journal_resync_s", "full re-sync s"),
        ("journal_periodic_s", "periodic sync s (nothing to do)"),
        ("entries_raw_insert_per_s", "raw insert of its entries /s (floor)"), ("entries_indexes", "entry indexes"),
    ])
    results_write(results, f"tax-report-{results['timestamp']}.json", out=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
