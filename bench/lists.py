"""List endpoints beside transactions at 1k and 100k rows of one organization: journal entries,
notifications, invoices, payslips and task runs, and the admin changelists of the audit log, task runs,
journal entries and transactions (issue 17), on the embedded SecantusDB (default) or any MongoDB.

    .venv/bin/python bench/lists.py                          # sizes 1000,100000
    .venv/bin/python bench/lists.py --sizes 1000 --requests 5
    .venv/bin/python bench/lists.py --mongodb-uri 'mongodb://host/?replicaSet=rs0'

For each list one row is made through the app's own service (so the document has the real shape),
then cloned with pymongo `insert_many` (batches of 5000) up to the size, each clone with its own
date and unique keys; the per-day time index the first pages read is recounted after the raw inserts,
as the daily job would. Then `GET <list>?limit=50` as the organization's manager (the task runs and
the admin pages as a platform admin; the admin pages again as the organization's own admin, "staff"):
DB queries of one request, p50/p95 of `--requests` more. Writes bench/results/lists-<timestamp>.json.
Server start-up and Django set-up are bench/run.py's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import statistics
import sys
from decimal import Decimal
from pathlib import Path

from bson import ObjectId

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.run import (bench_session, insert_in_batches, print_table, results_write, time_index_recount,  # noqa: E402
                       timed)
from bench.transactions_list import percentile  # noqa: E402

BATCH = 5000
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000", help="rows per list, comma separated")
    parser.add_argument("--requests", type=int, default=10, help="timed requests per list and size (default 10)")
    parser.add_argument("--mongodb-uri", default="", help="benchmark this server instead of an embedded one")
    parser.add_argument("--only", default="", help="these lists only, comma separated (e.g. notifications)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database and storage")
    return parser.parse_args(argv)


# --- one real row of each list, and how its clone number n differs ----------------------------------------
def journal_entry_template(manager):
    from ledger import services

    entry = services.journal_entry_create(
        created_by=manager, date=START, description="bench entry", post=True,
        line_items=[{"account_code": "1110", "debit_amount": Decimal("12.34")},
                    {"account_code": "3100", "credit_amount": Decimal("12.34")}])

    def vary(doc, n):
        doc["date"] = START + dt.timedelta(minutes=n)
        doc["entry_id"] = f"B-{n:07d}"
        doc["source_key"] = f"bench:{n}"
    return entry, vary


def notification_template(manager):
    from accounts.notifications import notification_create

    notification = notification_create(user=manager, title="bench", message="bench notification")

    def vary(doc, n):
        doc["created_at"] = START + dt.timedelta(minutes=n)
    return notification, vary


def invoice_template(manager):
    from invoicing import services

    invoice = services.invoice_create(actor=manager, client_name="Bench Client",
                                      items=[{"description": "Work", "quantity": "2", "unit_price": "150.00"}])

    def vary(doc, n):
        doc["created_at"] = doc["updated_at"] = START + dt.timedelta(minutes=n)
        doc["invoice_number"] = f"BENCH-{n:07d}"
        if "payment_slot" in doc:
            doc["payment_slot"] = 10_000_000 + n
        if "payment_token" in doc:
            doc["payment_token"] = secrets.token_hex(16)
    return invoice, vary


def payslip_template(manager):
    from accounts.models import User
    from accounts.services import user_create
    from payroll import services
    from payroll.models import Payslip

    employee = User.objects.filter(username="bench-employee").first()
    if employee is None:  # the first size; the next sizes grow the same list
        employee = user_create(username="bench-employee", email="employee@example.test", password="Kx7-lists-Passw0rd",
                               first_name="Bench", last_name="Employee", manager=manager,
                               organization=manager.organization)
        User.objects.filter(pk=employee.pk).update(is_verified_by_manager=True)
        services.withholding_example_install(actor=manager)
        services.pay_profile_set(actor=manager, employee=employee, basic_salary="5000", payment_method="bank",
                                 bank_details={"iban": "DE00 1234"})
        services.payroll_period_create(actor=manager, period_id="2024-01", start_date=dt.date(2024, 1, 1),
                                       end_date=dt.date(2024, 1, 31), pay_date=dt.date(2024, 1, 31))
    payslip = Payslip.objects.get(period__period_id="2024-01", employee=employee)

    def vary(doc, n):
        doc["created_at"] = doc["updated_at"] = START + dt.timedelta(minutes=n)
        doc["payslip_id"] = f"2024-01-{n:07d}"
        doc["employee_id"] = ObjectId()  # one payslip per (period, employee)
    return payslip, vary


def task_run_template(manager):
    from core.models import TaskRun

    run = TaskRun.objects.create(name="bench task", organization_id=manager.organization_id, triggered_by=manager,
                                 status="SUCCEEDED", progress=100)

    def vary(doc, n):
        doc["created_at"] = START + dt.timedelta(minutes=n)
    return run, vary


def audit_template(manager):
    from accounts.models import AuditLogEntry

    entry = AuditLogEntry.objects.create(action="bench_event", actor=manager, actor_username=manager.username,
                                         organization_id=manager.organization_id, target_type="bench",
                                         details={"n": 0})

    def vary(doc, n):
        doc["created_at"] = START + dt.timedelta(minutes=n)
        doc["target_id"] = str(n)
    return entry, vary


def transaction_template(manager):
    from wallets.models import Cryptocurrency, Transaction

    eth = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})[0]
    row = Transaction.objects.create(
        transaction_type="BUY", user=manager, organization_id=manager.organization_id, cryptocurrency=eth,
        amount="0.1", price_at_transaction="3012.12", usd_value="301.21", transaction_date=START,
        description="bench row", source="import")

    def vary(doc, n):
        doc["transaction_date"] = START + dt.timedelta(minutes=n)
        doc["external_id"] = f"bench:{n}"
    return row, vary


# (name, URL, template, who asks: the organization's manager; for the admin pages the platform admin, a
# superuser who sees every organization, or the organization's own admin, "staff", who sees its rows)
LISTS = (
    ("journal entries", "/api/journal-entries/?limit=50", journal_entry_template, "manager"),
    ("notifications", "/api/notifications/?limit=50", notification_template, "manager"),
    ("invoices", "/api/invoices/?limit=50", invoice_template, "manager"),
    ("payslips", "/api/payslips/?limit=50", payslip_template, "manager"),
    ("task runs", "/api/system/task-runs/?limit=50", task_run_template, "admin"),
    ("admin: audit log", "/admin/accounts/auditlogentry/", audit_template, "admin"),
    ("admin: task runs", "/admin/core/taskrun/", task_run_template, "admin"),
    ("admin: journal entries", "/admin/ledger/journalentry/", journal_entry_template, "admin"),
    ("admin: transactions", "/admin/wallets/transaction/", transaction_template, "admin"),
    ("staff admin: audit log", "/admin/accounts/auditlogentry/", audit_template, "staff"),
    ("staff admin: task runs", "/admin/core/taskrun/", task_run_template, "staff"),
    ("staff admin: journal entries", "/admin/ledger/journalentry/", journal_entry_template, "staff"),
    ("staff admin: transactions", "/admin/wallets/transaction/", transaction_template, "staff"),
)


def seed(template_of, manager, size: int) -> tuple[float, int]:
    """Grow the list to `size` rows cloned from one made by the service; (seconds, rows)."""
    from django.db import connection

    row, vary = template_of(manager)
    model = type(row)
    collection = connection.get_collection(model._meta.db_table)
    template = collection.find_one({"_id": row.pk})
    existing = collection.count_documents({})

    def clones():
        for n in range(existing, size):
            doc = {key: value for key, value in template.items() if key != "_id"}
            vary(doc, n)
            yield doc

    seconds, _ = timed(lambda: insert_in_batches(collection, clones(), BATCH))
    time_index_recount()
    return seconds, collection.count_documents({})


def measure(client, url: str, requests: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise AssertionError(f"GET {url} -> {response.status_code}: {response.content[:300]!r}")
    if not url.startswith("/api/"):  # an admin changelist: an HTML page, no cursor
        body = {}
        items = None
    else:
        body = response.json()
        items = body["items"] if isinstance(body, dict) else body
    queries = [q["sql"][:300] for q in captured.captured_queries]
    times = _timed_requests(client, url, requests)
    # The page after it, by the cursor the first page gave (a client walking the list follows it).
    next_url = f"{url}&cursor={body['next_cursor']}" if isinstance(body, dict) and body.get("next_cursor") else None
    next_times = _timed_requests(client, next_url, requests) if next_url else []
    return {"page_rows": len(items) if items is not None else "", "queries": len(queries), "query_log": queries,
            "p50_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 0.95), 1),
            "max_ms": round(max(times), 1),
            "next_p95_ms": round(percentile(next_times, 0.95), 1) if next_times else None}


def _timed_requests(client, url: str, requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        seconds, response = timed(lambda: client.get(url))
        assert response.status_code == 200, (url, response.status_code)
        times.append(seconds * 1000)
    return times


def main(argv=None) -> int:
    args = parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    with bench_session(label="lists", mongodb_uri=args.mongodb_uri, keep=args.keep) as results:
        from django.test import Client

        from accounts.models import Role, User
        from accounts.services import user_create
        from core.organizations import organization_create

        results.pop("root", None)
        organization = organization_create(name="Bench Lists")
        manager = user_create(username="bench-manager", email="manager@example.test", password="Kx7-lists-Passw0rd",
                              first_name="Bench", last_name="Manager", role=Role.MANAGER, organization=organization)
        User.objects.filter(pk=manager.pk).update(email_verified=True, is_verified_by_manager=True)
        manager.refresh_from_db()
        admin = user_create(username="bench-admin", email="admin@example.test", password="Kx7-lists-Passw0rd",
                            first_name="Bench", last_name="Admin", role=Role.ADMIN, organization=organization,
                            is_superuser=True)
        User.objects.filter(pk=admin.pk).update(email_verified=True, is_verified_by_manager=True)
        staff = user_create(username="bench-staff", email="staff@example.test", password="Kx7-lists-Passw0rd",
                            first_name="Bench", last_name="Staff", role=Role.ADMIN, organization=organization)
        User.objects.filter(pk=staff.pk).update(email_verified=True, is_verified_by_manager=True, is_accountant=True)
        clients = {"manager": Client(), "admin": Client(), "staff": Client()}
        clients["manager"].force_login(manager)
        clients["admin"].force_login(User.objects.get(pk=admin.pk))
        clients["staff"].force_login(User.objects.get(pk=staff.pk))
        rows = []
        only = {name.strip() for name in args.only.split(",") if name.strip()}
        lists = [entry for entry in LISTS if not only or entry[0] in only]
        for name, url, template_of, who in lists:
            for size in sizes:
                print(f"... {name}: {size} rows", flush=True)
                seed_s, stored = seed(template_of, manager, size)
                rows.append({"list": name, "rows": stored, "seed_s": round(seed_s, 1),
                             **measure(clients[who], url, args.requests)})
                print(f"    p95 {rows[-1]['p95_ms']} ms, next page p95 {rows[-1]['next_p95_ms']} ms", flush=True)
        results["lists"] = rows
        print()
        print_table(f"GET <list>?limit=50 as the organization's manager ({args.requests} timed requests)", rows, [
            ("list", "list"), ("rows", "rows"), ("queries", "queries"), ("page_rows", "page"),
            ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"), ("max_ms", "max ms"), ("next_p95_ms", "next page p95 ms"),
            ("seed_s", "seeding s")])
        for name, *_ in lists:
            by_size = [r for r in rows if r["list"] == name]
            if len(by_size) > 1:
                print(f"{name}: p95 at {by_size[-1]['rows']:,} rows is {by_size[-1]['p95_ms'] / by_size[0]['p95_ms']:.1f}x "
                      f"the p95 at {by_size[0]['rows']:,}")
        results_write(results, f"lists-{results['timestamp']}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
