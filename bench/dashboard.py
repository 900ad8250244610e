"""Dashboard benchmark: GET /api/dashboard/ (and /insights/, /analytics/ over 30 days) for an
organization admin whose books hold 1k, then 100k transactions, on the embedded SecantusDB server
(default) or any MongoDB (--mongodb-uri).

    .venv/bin/python bench/dashboard.py                    # sizes 1000,100000
    .venv/bin/python bench/dashboard.py --sizes 1000       # quick

Rows are inserted with the ORM's `bulk_create` in batches, as bench/run.py does (buys, sells, income
and expenses, one a minute from 2024-01-01, each with its fiat value, a fee paid in ETH on the sells);
one current ETH price is stored. The dashboard is measured uncached
(`DASHBOARD_CACHE_SECONDS=0`: every request runs the read and the cost-basis engine, as the first
request after a change does) and cached (what the dashboard-stats feed and a reload get within the
cache's lifetime). Prints the DB queries of one request and the median / min / max of `--requests`
timed requests, and writes bench/results/dashboard-<timestamp>.json. Server start-up and Django set-up
are bench/run.py's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.run import bench_session, print_table, recreate, reference_rows, results_write, timed  # noqa: E402

URL = "/api/dashboard/"
BATCH = 5000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000", help="transactions of the organization, comma separated")
    parser.add_argument("--requests", type=int, default=3, help="timed requests per size and URL (default 3)")
    parser.add_argument("--mongodb-uri", default="", help="benchmark this server instead of an embedded one")
    parser.add_argument("--keep", action="store_true", help="keep the bench database and storage")
    return parser.parse_args(argv)


def seed_transactions(size: int, wallet, eth) -> float:
    """Grow the wallet's transactions to `size` with the ORM's `bulk_create` in batches, as bench/run.py
    seeds its rows (no hand-copied documents)."""
    from decimal import Decimal

    from wallets.models import Transaction

    existing = Transaction.objects.filter(wallet=wallet).count()
    # Mostly buys, so a sale never sells more than is held; prices drift between 2000 and 3999.
    types = ["BUY", "BUY", "SELL", "INCOME", "BUY", "EXPENSE"]
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

    def row(n: int) -> Transaction:
        kind = types[n % len(types)]
        price = 2000 + (n * 37) % 2000
        small = kind in ("SELL", "EXPENSE")
        return Transaction(
            transaction_type=kind, wallet=wallet, user=wallet.user, organization_id=wallet.organization_id,
            cryptocurrency=eth, amount=Decimal("0.01" if small else "0.1"), price_at_transaction=Decimal(price),
            usd_value=Decimal(price * (1 if small else 10)) / 100, fee=Decimal("0.0001" if kind == "SELL" else "0"),
            transaction_date=start + dt.timedelta(minutes=n), description="bench row", source="import",
            hash="0x" + f"{n:064x}", external_id=f"bench:{n}", is_classified=n % 3 == 0)

    def insert():
        for first in range(existing, size, BATCH):
            Transaction.objects.bulk_create([row(n) for n in range(first, min(first + BATCH, size))],
                                            batch_size=BATCH)

    seconds, _ = timed(insert)
    assert Transaction.objects.filter(wallet=wallet).count() == size
    return seconds


def measure(client, url: str, repeats: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        seconds, response = timed(lambda: client.get(url))
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    queries = len(captured.captured_queries)
    spent = [seconds * 1000]
    for _ in range(repeats - 1):
        seconds, response = timed(lambda: client.get(url))
        assert response.status_code == 200
        spent.append(seconds * 1000)
    return {"queries": queries, "median_ms": round(statistics.median(spent), 1), "min_ms": round(min(spent), 1),
            "max_ms": round(max(spent), 1)}


def bench_size(size: int, repeats: int, user, wallet, eth) -> dict:
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    seed_seconds = seed_transactions(size, wallet, eth)
    client = Client()
    client.force_login(user)
    today = dt.date.today()
    analytics = f"/api/dashboard/analytics/?start={today - dt.timedelta(days=29)}&end={today}&interval=day"
    settings.DASHBOARD_CACHE_SECONDS = 0
    cache.clear()
    row = {"size": size, "seed_s": round(seed_seconds, 2)}
    for key, url in (("dashboard", URL), ("insights", "/api/dashboard/insights/"), ("analytics", analytics)):
        figures = measure(client, url, repeats)
        row.update({f"{key}_{name}": value for name, value in figures.items()})
    settings.DASHBOARD_CACHE_SECONDS = 300
    client.get(URL)  # fills the cache
    figures = measure(client, URL, repeats)
    row.update({f"cached_{name}": value for name, value in figures.items()})
    body = client.get(URL).json()
    row["check"] = f"value {body['portfolio']['total_value']}, realised ytd {body['pnl']['realized_ytd']}"
    return row


def main(argv=None) -> int:
    args = parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    with bench_session(label="dashboard", mongodb_uri=args.mongodb_uri, keep=args.keep) as results:
        from wallets.models import Transaction
        from wallets.prices import price_record

        results.pop("root")
        recreate(Transaction)
        user, eth, wallet = reference_rows()
        price_record(symbol="ETH", price=3100, organization=user.organization)
        results.update({"url": URL, "sizes": []})
        for size in sizes:
            print(f"... {size} transactions", flush=True)
            results["sizes"].append(bench_size(size, args.requests, user, wallet, eth))
    print_table(f"GET {URL} and friends as the organization's admin ({args.requests} requests each)", results["sizes"], [
        ("size", "transactions"), ("dashboard_queries", "queries"), ("dashboard_median_ms", "dashboard ms"),
        ("dashboard_min_ms", "min ms"), ("dashboard_max_ms", "max ms"), ("cached_queries", "cached queries"),
        ("cached_median_ms", "cached ms"), ("insights_median_ms", "insights ms"),
        ("analytics_median_ms", "analytics 30d ms"), ("seed_s", "seed s"),
    ])
    for row in results["sizes"]:
        print(f"    {row['size']}: {row['check']}")
    results_write(results, f"dashboard-{results['timestamp']}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
