"""Database benchmark: insert, full-scan, the paginated task-runs API and the cost of
--sync-on-commit, on the embedded SecantusDB server (default) or on any MongoDB (--mongodb-uri).

    .venv/bin/python bench/run.py                       # sizes 1000,100000, own embedded server
    .venv/bin/python bench/run.py --sizes 1000          # quick
    .venv/bin/python bench/run.py --mongodb-uri 'mongodb://host/?replicaSet=rs0'

Prints a table and writes bench/results/<timestamp>.json. Uses a fresh database (bench_<timestamp>
unless --mongodb-name) and drops it at the end unless --keep.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from core import localstack  # noqa: E402  (no Django imports in localstack)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000", help="row counts, comma separated (default 1000,100000)")
    parser.add_argument("--rows", type=int, default=0,
                        help="transactions for the insert/scan figures (default: each of --sizes)")
    parser.add_argument("--mongodb-uri", default="", help="benchmark this server instead of an embedded one")
    parser.add_argument("--mongodb-name", default="", help="database name (default bench_<timestamp>)")
    parser.add_argument("--single-saves", type=int, default=1000,
                        help="single save() calls per measurement (capped at the size; default 1000)")
    parser.add_argument("--sync-saves", type=int, default=500,
                        help="single saves per server in the sync-on-commit comparison (default 500)")
    parser.add_argument("--api-repeats", type=int, default=5, help="timed API requests per size (median)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database and storage")
    return parser.parse_args(argv)


# --- helpers -----------------------------------------------------------------------------------------
def timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def rate(count, seconds):
    return round(count / seconds, 1) if seconds > 0 else None


def start_server(sync_on_commit: bool, root: Path, label: str):
    port = localstack.free_port()
    storage = root / f"{label}-data"
    process = localstack.start_embedded_mongodb(
        port, storage, log_path=root / f"{label}.log", sync_on_commit=sync_on_commit
    )
    return process, localstack.embedded_mongodb_uri(port)


@contextlib.contextmanager
def bench_session(*, label: str, mongodb_uri: str = "", keep: bool = False):
    """A bench's database for one run: its own on-disk embedded server (or `mongodb_uri`), Django set
    up on a fresh `bench_<label>_<timestamp>` database, migrated. Yields the run's results dict,
    already holding the target, versions, machine and start load; the database, server and storage
    are gone afterwards unless `keep`."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"bench_{label}_{stamp.lower()}"
    root = Path(tempfile.mkdtemp(prefix=f"cryptobooks-bench-{label}-"))
    servers = []
    try:
        if mongodb_uri:
            uri, target = mongodb_uri, "MONGODB_URI"
        else:
            process, uri = start_server(False, root, "main")
            servers.append(process)
            target = "embedded SecantusDB, on disk, sync_on_commit=False"
        django_setup(uri, name, root / "data")

        from django.core.management import call_command
        from django.db import connection

        build = connection.database.client.admin.command("buildInfo")
        print(f"target: {target}; server {build.get('version')}"
              + (f" (SecantusDB {build['secantusVersion']})" if "secantusVersion" in build else ""), flush=True)
        call_command("migrate", verbosity=0, interactive=False)
        yield {"timestamp": stamp, "target": target, "server_version": build.get("version"),
               "secantus_version": build.get("secantusVersion"), "python": platform.python_version(),
               "machine": f"{platform.machine()}, {os.cpu_count()} cpu", "load_avg_at_start": os.getloadavg(),
               "root": str(root), "started": time.perf_counter()}
        if mongodb_uri and not keep:  # an embedded server's storage is removed whole below (a drop of 1M rows takes minutes)
            connection.database.client.drop_database(name)
    finally:
        while servers:
            servers.pop().stop()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def results_write(results: dict, filename: str, out: str | Path | None = None) -> Path:
    """Close a run's results (total time, end load), print them and write bench/results/<filename>
    (or `out`, where bench/scale.py asks for them)."""
    results["total_s"] = round(time.perf_counter() - results.pop("started"), 1)
    results["load_avg_at_end"] = os.getloadavg()
    print(f"\ntotal {results['total_s']} s; load average {results['load_avg_at_start']} -> {results['load_avg_at_end']}")
    out_dir = BASE_DIR / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = Path(out) if out else out_dir / filename
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"written {out.relative_to(BASE_DIR) if out.is_relative_to(BASE_DIR) else out}")
    return out


def insert_in_batches(collection, documents, batch: int = 5000) -> None:
    """insert_many over any iterable of documents, `batch` at a time (unordered)."""
    pending = []
    for document in documents:
        pending.append(document)
        if len(pending) == batch:
            collection.insert_many(pending, ordered=False)
            pending = []
    if pending:
        collection.insert_many(pending, ordered=False)


def django_setup(uri: str, name: str, data_dir: Path):
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["MONGODB_URI"] = uri
    os.environ["MONGODB_NAME"] = name
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["HUEY_IMMEDIATE"] = "true"
    os.environ["LOAD_DEMO_DATA"] = "false"
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # Measure what production runs: no query log kept (DEBUG on would keep every query in memory).
    settings.DEBUG = False


def recreate(*models, using="default"):
    """Drop and re-create collections with their indexes: a fresh start for each size."""
    from django.db import connections

    with connections[using].schema_editor() as editor:
        for model in models:
            editor.delete_model(model)
            editor.create_model(model)


# --- fixtures ----------------------------------------------------------------------------------------
def reference_rows(using="default"):
    from accounts.models import Role, User
    from wallets.models import Cryptocurrency, Wallet

    user = User.objects.db_manager(using).filter(username="bench").first()
    if user is None:
        from core.organizations import organization_create

        organization = organization_create(name="bench", is_personal=True, using=using)
        user = User(username="bench", email="bench@example.test", role=Role.ADMIN, is_staff=True,
                    organization=organization)
        user.set_password("bench-Passw0rd!long")
        user.save(using=using)
    eth = Cryptocurrency.objects.db_manager(using).get_or_create(symbol="ETH", defaults={"name": "Ethereum"})[0]
    wallet = Wallet.objects.db_manager(using).get_or_create(
        address="0x" + "b" * 40, organization_id=user.organization_id,
        defaults={"name": "bench", "user": user, "wallet_type": "MetaMask"}
    )[0]
    return user, eth, wallet


def make_transaction(wallet, eth, n: int):
    from wallets.models import Transaction

    return Transaction(
        transaction_type="BUY",
        wallet=wallet,
        cryptocurrency=eth,
        amount=Decimal("0.1") + Decimal(n) / Decimal(10**18),
        price_at_transaction=Decimal("3012.12345678"),
        transaction_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
        description="bench row",
        hash="0x" + f"{n:064x}",
        source="import",
    )


# --- measurements ------------------------------------------------------------------------------------
def bench_inserts_and_scans(size: int, single_saves: int, wallet, eth) -> dict:
    from django.db.models import Sum

    from wallets.models import Transaction

    recreate(Transaction)
    rows = [make_transaction(wallet, eth, n) for n in range(size)]
    bulk_seconds, _ = timed(lambda: Transaction.objects.bulk_create(rows, batch_size=5000))

    singles = min(single_saves, size)

    def save_one_by_one():
        for n in range(singles):
            make_transaction(wallet, eth, size + n).save()

    single_seconds, _ = timed(save_one_by_one)
    total_rows = size + singles
    assert Transaction.objects.count() == total_rows

    sum_seconds, total = timed(lambda: Transaction.objects.aggregate(total=Sum("amount"))["total"])
    expected = sum((row.amount for row in rows), Decimal(0)) + sum(
        (make_transaction(wallet, eth, size + n).amount for n in range(singles)), Decimal(0)
    )
    if total != expected:
        raise AssertionError(f"Sum drifted: {total} != {expected}")

    def iterate():
        count = 0
        for _ in Transaction.objects.order_by().iterator(chunk_size=2000):
            count += 1
        return count

    iter_seconds, iterated = timed(iterate)
    assert iterated == total_rows
    return {
        "size": size,
        "bulk_create_rows": size,
        "bulk_create_s": round(bulk_seconds, 3),
        "bulk_create_docs_per_s": rate(size, bulk_seconds),
        "single_save_rows": singles,
        "single_save_s": round(single_seconds, 3),
        "single_save_docs_per_s": rate(singles, single_seconds),
        "scan_rows": total_rows,
        "sum_s": round(sum_seconds, 3),
        "sum_docs_per_s": rate(total_rows, sum_seconds),
        "sum_exact": True,
        "iterate_s": round(iter_seconds, 3),
        "iterate_docs_per_s": rate(total_rows, iter_seconds),
    }


def seed_task_runs(size: int) -> float:
    """Insert `size` task-run documents straight through pymongo, shaped exactly like an ORM-saved one."""
    from django.db import connection

    from core.models import TaskRun

    recreate(TaskRun)
    template_run = TaskRun.objects.create(name="template")
    collection = connection.get_collection(TaskRun._meta.db_table)
    template = collection.find_one({"_id": template_run.pk})
    collection.delete_one({"_id": template_run.pk})
    del template["_id"]
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    statuses = ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "FAILED", "RUNNING", "QUEUED"]

    def insert():
        for first in range(0, size, 5000):
            batch = []
            for n in range(first, min(first + 5000, size)):
                doc = dict(template)
                doc["name"] = f"bench task {n}"
                doc["status"] = statuses[n % len(statuses)]
                doc["progress"] = 100 if doc["status"] == "SUCCEEDED" else n % 100
                doc["created_at"] = start + dt.timedelta(seconds=n)
                batch.append(doc)
            collection.insert_many(batch, ordered=False)

    seconds, _ = timed(insert)
    assert TaskRun.objects.count() == size
    time_index_recount()
    return seconds


def time_index_recount() -> float:
    """After rows inserted straight through pymongo (no model hooks): recount the per-day index the
    lists' first pages read (core.time_indexed), as the daily job would. Returns its seconds."""
    from core.time_indexed import time_indexes_rebuild

    seconds, _ = timed(time_indexes_rebuild)
    return seconds


def bench_task_runs_api(size: int, user, repeats: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    seed_seconds = seed_task_runs(size)
    client = Client()
    client.force_login(user)
    url = "/api/system/task-runs/?limit=50"

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise AssertionError(f"GET {url} -> {response.status_code}: {response.content[:300]!r}")
    body = response.json()
    page = body.get("items", body.get("data", body))
    if isinstance(page, dict):
        page = page.get("items", [])
    assert len(page) == min(50, size), f"page has {len(page)} rows"
    queries = [q["sql"][:160] for q in captured.captured_queries]

    times = []
    for _ in range(repeats):
        seconds, response = timed(lambda: client.get(url))
        assert response.status_code == 200
        times.append(seconds)
    return {
        "size": size,
        "seed_s": round(seed_seconds, 3),
        "seed_docs_per_s": rate(size, seed_seconds),
        "queries": len(queries),
        "query_log": queries,
        "median_ms": round(statistics.median(times) * 1000, 1),
        "min_ms": round(min(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "repeats": repeats,
    }


def bench_sync_on_commit(root: Path, saves: int) -> list[dict]:
    """Same single saves against two fresh embedded servers, one per setting, as an extra DB alias."""
    from django.db import connections

    from accounts.models import User
    from core.models import TaskRun
    from wallets.models import Cryptocurrency, Transaction, Wallet

    results = []
    for sync in (False, True):
        label = f"sync-{'on' if sync else 'off'}"
        process, uri = start_server(sync, root, label)
        alias = label
        try:
            settings_dict = dict(connections.settings["default"])
            settings_dict["HOST"] = uri
            settings_dict["NAME"] = "bench_sync"
            connections.settings[alias] = settings_dict  # a copy of the fully configured default
            with connections[alias].schema_editor() as editor:
                for model in (User, Cryptocurrency, Wallet, Transaction, TaskRun):
                    editor.create_model(model)
            _, eth, wallet = reference_rows(using=alias)

            def save_one_by_one():
                for n in range(saves):
                    make_transaction(wallet, eth, n).save(using=alias)

            seconds, _ = timed(save_one_by_one)
            assert Transaction.objects.using(alias).count() == saves
            results.append({
                "sync_on_commit": sync,
                "saves": saves,
                "seconds": round(seconds, 3),
                "docs_per_s": rate(saves, seconds),
                "ms_per_save": round(seconds / saves * 1000, 3),
            })
        finally:
            if alias in connections:
                connections[alias].close()
            process.stop()
    return results


# --- report ------------------------------------------------------------------------------------------
def print_table(title: str, rows: list[dict], columns: list[tuple[str, str]]):
    print(f"\n{title}")
    widths = [max([len(header), *(len(str(row.get(key, ""))) for row in rows)]) for key, header in columns]
    print("  ".join(header.rjust(w) for (_, header), w in zip(columns, widths)))
    for row in rows:
        print("  ".join(str(row.get(key, "")).rjust(w) for (key, _), w in zip(columns, widths)))


def main(argv=None) -> int:
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = args.mongodb_name or f"bench_{stamp.lower()}"
    root = Path(tempfile.mkdtemp(prefix="cryptobooks-bench-"))
    servers = []
    started = time.perf_counter()
    try:
        if args.mongodb_uri:
            uri, target = args.mongodb_uri, "MONGODB_URI"
        else:
            process, uri = start_server(False, root, "main")
            servers.append(process)
            target = f"embedded SecantusDB, on disk ({root}), sync_on_commit=False"
        django_setup(uri, name, root / "data")

        from django.core.management import call_command
        from django.db import connection

        build = connection.database.client.admin.command("buildInfo")
        print(f"target: {target}; server {build.get('version')}"
              + (f" (SecantusDB {build['secantusVersion']})" if "secantusVersion" in build else "")
              + f"; database {name}")
        migrate_seconds, _ = timed(lambda: call_command("migrate", verbosity=0, interactive=False))
        print(f"migrate: {migrate_seconds:.1f} s")
        user, eth, wallet = reference_rows()

        results = {
            "timestamp": stamp,
            "target": target,
            "server_version": build.get("version"),
            "secantus_version": build.get("secantusVersion"),
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cpu",
            "load_avg_at_start": os.getloadavg(),
            "sizes": sizes,
            "migrate_s": round(migrate_seconds, 2),
            "inserts_and_scans": [],
            "task_runs_api": [],
            "sync_on_commit": [],
        }
        for size in [args.rows] if args.rows else sizes:
            print(f"... {size} transactions: inserts and scans", flush=True)
            results["inserts_and_scans"].append(bench_inserts_and_scans(size, args.single_saves, wallet, eth))
        for size in sizes:
            print(f"... {size} task runs: task-runs API", flush=True)
            results["task_runs_api"].append(bench_task_runs_api(size, user, args.api_repeats))
        if args.mongodb_uri:
            print("... sync-on-commit comparison skipped: it starts embedded servers (no --mongodb-uri)")
        else:
            print("... sync_on_commit off/on", flush=True)
            results["sync_on_commit"] = bench_sync_on_commit(root, args.sync_saves)
        if not args.keep:
            connection.database.client.drop_database(name)
        results["total_s"] = round(time.perf_counter() - started, 1)
        results["load_avg_at_end"] = os.getloadavg()

        print_table("(a)+(b) wallets.Transaction: inserts and full scans (docs/s)", results["inserts_and_scans"], [
            ("size", "rows"), ("bulk_create_docs_per_s", "bulk_create/s"), ("single_save_rows", "saves"),
            ("single_save_docs_per_s", "save()/s"), ("scan_rows", "scanned"), ("sum_s", "Sum s"),
            ("sum_docs_per_s", "Sum docs/s"), ("iterate_s", "iterate s"), ("iterate_docs_per_s", "iterate docs/s"),
        ])
        print_table("(c) GET /api/system/task-runs/?limit=50 (staff session)", results["task_runs_api"], [
            ("size", "task runs"), ("queries", "DB queries"), ("median_ms", "median ms"),
            ("min_ms", "min ms"), ("max_ms", "max ms"), ("seed_docs_per_s", "seed insert_many/s"),
        ])
        if results["task_runs_api"]:
            print("    queries per request:")
            for query in results["task_runs_api"][-1]["query_log"]:
                print(f"      {query}")
        if results["sync_on_commit"]:
            print_table("(d) single Transaction.save() on a fresh on-disk embedded server", results["sync_on_commit"], [
                ("sync_on_commit", "sync_on_commit"), ("saves", "saves"), ("docs_per_s", "saves/s"),
                ("ms_per_save", "ms/save"),
            ])
        print(f"\ntotal {results['total_s']} s; load average {results['load_avg_at_start']} -> {results['load_avg_at_end']}")

        out_dir = BASE_DIR / "bench" / "results"
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / f"{stamp}.json"
        out.write_text(json.dumps(results, indent=2, default=str))
        print(f"written {out.relative_to(BASE_DIR)}")
        return 0
    finally:
        while servers:
            servers.pop().stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}")


if __name__ == "__main__":
    sys.exit(main())
