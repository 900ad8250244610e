"""Transactions list benchmark: GET /api/transactions/?limit=50 for one user holding 1k, then 100k
transactions, on the embedded SecantusDB server (default) or any MongoDB (--mongodb-uri).

    .venv/bin/python bench/transactions_list.py                    # sizes 1000,100000
    .venv/bin/python bench/transactions_list.py --sizes 1000       # quick
    .venv/bin/python bench/transactions_list.py --mongodb-uri 'mongodb://host/?replicaSet=rs0'

Rows are inserted with pymongo `insert_many` in batches, each document shaped exactly like an
ORM-saved transaction; the request is made with a bearer token from the real login, as an API client
would. Prints p50/p95 of `--requests` timed requests and the DB queries of one (plus, for comparison,
one transaction by id and the portfolio performance, which reads every transaction), and writes
bench/results/transactions-list-<timestamp>.json. Server start-up and Django set-up are bench/run.py's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.run import (bench_session, insert_in_batches, print_table, recreate, reference_rows, results_write, time_index_recount,  # noqa: E402
                       timed)

URL = "/api/transactions/?limit=50"
BATCH = 5000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000", help="transactions of the user, comma separated")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per size (default 20)")
    parser.add_argument("--mongodb-uri", default="", help="benchmark this server instead of an embedded one")
    parser.add_argument("--keep", action="store_true", help="keep the bench database and storage")
    parser.add_argument("--performance-up-to", type=int, default=100000,
                        help="time /api/portfolio/performance/ (a read of every row) up to this size (default 100000)")
    parser.add_argument("--out", default="", help="write the results here (default bench/results/<name>.json)")
    return parser.parse_args(argv)


def seed_transactions(size: int, wallet, eth) -> float:
    """Grow the user's transactions to `size` with insert_many batches cloned from one ORM-saved row."""
    from django.db import connection

    from wallets.models import Transaction

    collection = connection.get_collection(Transaction._meta.db_table)
    existing = Transaction.objects.filter(wallet=wallet).count()
    template_row = Transaction.objects.create(
        transaction_type="BUY", wallet=wallet, cryptocurrency=eth, amount="0.1", price_at_transaction="3012.12345678",
        usd_value="301.21234568", transaction_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), description="bench row",
        source="import")
    template = collection.find_one({"_id": template_row.pk})
    collection.delete_one({"_id": template_row.pk})
    del template["_id"]
    types = ["BUY", "BUY", "SELL", "INCOME", "EXPENSE", "TRANSFER"]
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

    def clones():
        for n in range(existing, size):
            doc = dict(template)
            doc["transaction_type"] = types[n % len(types)]
            doc["transaction_date"] = start + dt.timedelta(minutes=n)
            doc["hash"] = "0x" + f"{n:064x}"
            doc["external_id"] = f"bench:{n}"
            yield doc

    seconds, _ = timed(lambda: insert_in_batches(collection, clones(), BATCH))
    assert Transaction.objects.filter(user=wallet.user).count() == size
    time_index_recount()  # raw inserts bypass the model's day counts
    return seconds


def bearer_token(user) -> str:
    from accounts.models import User
    from accounts.sessions import session_login

    User.objects.filter(pk=user.pk).update(email_verified=True)
    _, _, tokens = session_login(login=user.username, password="bench-Passw0rd!long", ip=None)
    return tokens.access_token


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def bench_list(size: int, requests: int, wallet, eth, user, performance: bool = True) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    seed_seconds = seed_transactions(size, wallet, eth)
    # A fresh login after the seeding: seeding 1M rows takes longer than an access token lives.
    client = Client(HTTP_AUTHORIZATION=f"Bearer {bearer_token(user)}")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    if response.status_code != 200:
        raise AssertionError(f"GET {URL} -> {response.status_code}: {response.content[:300]!r}")
    items = response.json()["items"]
    assert len(items) == min(50, size), f"page has {len(items)} rows"
    newest = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=size - 1)
    assert dt.datetime.fromisoformat(items[0]["transaction_date"]) == newest, "not the newest first"
    queries = [q["sql"] for q in captured.captured_queries]

    times = []
    for _ in range(requests):
        seconds, response = timed(lambda: client.get(URL))
        assert response.status_code == 200
        times.append(seconds * 1000)
    # For comparison, fewer repeats: one transaction by id, and the portfolio performance (which
    # reads every transaction of the user).
    # The page after it, by the cursor the first page gave (a client walking the list follows it).
    extra = {}
    next_cursor = response.json().get("next_cursor")
    if next_cursor:
        next_url = f"{URL}&cursor={next_cursor}"
        spent = []
        for _ in range(requests):
            seconds, reply = timed(lambda: client.get(next_url))
            assert reply.status_code == 200, reply.content[:300]
            spent.append(seconds * 1000)
        extra["next_p95_ms"] = round(percentile(spent, 0.95), 1)
    compared = [("detail", f"/api/transactions/{items[0]['id']}/", 3)]
    if performance:
        compared.append(("performance", "/api/portfolio/performance/", 3))
    for key, url, repeats in compared:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        # captured_queries reads the connection's log lazily: count before the next request resets it.
        extra[f"{key}_queries"] = len(captured.captured_queries)
        spent = []
        for _ in range(repeats):
            seconds, response = timed(lambda: client.get(url))
            assert response.status_code == 200
            spent.append(seconds * 1000)
        extra[f"{key}_p50_ms"] = round(statistics.median(spent), 1)
    return {
        "size": size, "seed_s": round(seed_seconds, 2), "queries": len(queries), "query_log": queries,
        "requests": requests, "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1), "min_ms": round(min(times), 1), "max_ms": round(max(times), 1),
        **extra,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    with bench_session(label="txlist", mongodb_uri=args.mongodb_uri, keep=args.keep) as results:
        from wallets.models import Transaction

        results.pop("root")
        recreate(Transaction)
        user, eth, wallet = reference_rows()
        results.update({"url": URL, "sizes": []})
        for size in sizes:
            print(f"... {size} transactions", flush=True)
            results["sizes"].append(bench_list(size, args.requests, wallet, eth, user,
                                               performance=size <= args.performance_up_to))
    print_table(f"GET {URL} (bearer token; {args.requests} timed requests per size)", results["sizes"], [
        ("size", "transactions"), ("queries", "DB queries"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"),
        ("min_ms", "min ms"), ("max_ms", "max ms"), ("next_p95_ms", "next page p95 ms"), ("seed_s", "seed s"),
    ])
    print_table("for comparison (median): one transaction by id, and /api/portfolio/performance/",
                results["sizes"], [
        ("size", "transactions"), ("detail_queries", "detail queries"), ("detail_p50_ms", "detail ms"),
        ("performance_queries", "performance queries"), ("performance_p50_ms", "performance ms"),
    ])
    print("    queries per request:")
    for query in results["sizes"][-1]["query_log"]:
        print(f"      {query[:240]}")
    results_write(results, f"transactions-list-{results['timestamp']}.json", out=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
