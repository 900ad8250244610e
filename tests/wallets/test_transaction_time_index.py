"""The transactions' day counts (core.time_index, scope "transactions") follow every way a
Transaction is written (save, date moved, instance delete, bulk_create, queryset update and delete),
agree with a recount from the data, and the list endpoint walks every row once by cursor, newest
first, with the counts right, missing or wrong; a first page asks the database for a bounded window."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.time_index import COLLECTION, time_index_ensure, time_index_rebuild
from wallets.models import Cryptocurrency, Transaction, WalletType
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db
SCOPE, DATE_FIELD = Transaction.time_index_scope, Transaction.time_index_field
DAY = dt.datetime(2026, 5, 1, 10, tzinfo=dt.timezone.utc)


@pytest.fixture
def books(make_user, access_token_for, client):
    user = make_user()
    eth = Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    wallet = wallet_create(user=user, name="main", wallet_type=WalletType.PRIVATE_KEY)
    time_index_ensure()
    token = access_token_for(user)

    def get(path):
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200, response.content
        return response.json()

    def row(moment, **fields):
        return Transaction(transaction_type="BUY", user=user, organization_id=wallet.organization_id, wallet=wallet,
                           cryptocurrency=eth, amount=Decimal(1), transaction_date=moment, **fields)

    return user, wallet, row, get


def counts(organization_id) -> dict:
    found = connection.get_collection(COLLECTION).find({"s": SCOPE, "o": organization_id})
    return {doc["d"].date(): doc["n"] for doc in found if doc["n"]}


def recounted(organization_id) -> dict:
    time_index_rebuild(scope=SCOPE, collection="transactions", date_field=DATE_FIELD, organization_id=organization_id)
    return counts(organization_id)


def test_every_write_path_keeps_the_counts(books):
    _, wallet, row, _ = books
    org = wallet.organization_id
    one = row(DAY)
    one.save()
    Transaction.objects.bulk_create([row(DAY + dt.timedelta(days=d)) for d in (0, 1, 1, 2)])
    Transaction.objects.bulk_create([row("2026-05-09T00:00:00Z")])  # what callers may hand over
    assert counts(org) == {dt.date(2026, 5, 1): 2, dt.date(2026, 5, 2): 2, dt.date(2026, 5, 3): 1,
                           dt.date(2026, 5, 9): 1}
    moved = Transaction.objects.get(pk=one.pk)
    moved.transaction_date = DAY + dt.timedelta(days=5)
    moved.save()
    moved.description = "no date change"
    moved.save()
    Transaction.objects.filter(transaction_date__gte=DAY + dt.timedelta(days=2),
                               transaction_date__lt=DAY + dt.timedelta(days=3)).update(
        transaction_date=DAY + dt.timedelta(days=7))
    Transaction.objects.filter(transaction_date__gte=DAY + dt.timedelta(days=1),
                               transaction_date__lt=DAY + dt.timedelta(days=2)).first().delete()
    Transaction.objects.filter(transaction_date__gte="2026-05-09T00:00:00Z").delete()
    expected = {dt.date(2026, 5, 1): 1, dt.date(2026, 5, 2): 1, dt.date(2026, 5, 6): 1, dt.date(2026, 5, 8): 1}
    assert counts(org) == expected
    assert recounted(org) == expected


def test_the_list_walks_every_row_once_whatever_the_counts(books):
    user, wallet, row, get = books
    org = wallet.organization_id
    Transaction.objects.bulk_create([row(DAY - dt.timedelta(days=d % 40, hours=d % 3)) for d in range(90)])
    expected = list(Transaction.objects.filter(organization_id=org).order_by("-transaction_date", "-id")
                    .values_list("pk", flat=True))
    expected = [str(pk) for pk in expected]

    def walk():
        seen, page = [], get("/api/transactions/?limit=7")
        while True:
            seen += [item["id"] for item in page["items"]]
            if page["next_cursor"] is None:
                return seen
            page = get(f"/api/transactions/?limit=7&cursor={page['next_cursor']}")

    assert walk() == expected
    connection.get_collection(COLLECTION).update_many({"s": SCOPE}, {"$set": {"n": 50}})  # far too high
    assert walk() == expected
    connection.get_collection(COLLECTION).delete_many({"s": SCOPE})  # lost
    assert walk() == expected


def test_a_first_page_asks_for_a_bounded_window(books):
    _, wallet, row, get = books
    Transaction.objects.bulk_create([row(DAY - dt.timedelta(days=d)) for d in range(60)])
    with CaptureQueriesContext(connection) as captured:
        page = get("/api/transactions/?limit=5")
    assert len(page["items"]) == 5 and page["next_cursor"]
    reads = [q["sql"] for q in captured.captured_queries if "transactions.aggregate" in q["sql"]]
    assert reads and all("$gte" in sql for sql in reads[:1]), reads


def test_the_transactions_page_walks_by_cursor_and_keeps_old_page_links(books, client):
    user, wallet, row, _ = books
    Transaction.objects.bulk_create([row(DAY - dt.timedelta(hours=7 * n), description=f"row {n}")
                                     for n in range(120)])
    client.force_login(user)
    expected = [str(pk) for pk in Transaction.objects.filter(organization_id=wallet.organization_id)
                .order_by("-transaction_date", "-id").values_list("pk", flat=True)]

    seen, url, pages = [], "/app/transactions/", 0
    while url:
        html = client.get(url).content.decode()
        assert "bo-error" not in html
        seen += re.findall(r'data-transaction="([0-9a-f]{24})"', html)
        older = re.search(r'href="\?([^"]*cursor=[^"]+)" id="transactions-next"', html)
        url = f"/app/transactions/?{older.group(1)}".replace("&amp;", "&") if older else None
        pages += 1
        assert pages < 10
    assert pages == 3
    assert list(dict.fromkeys(seen)) == expected
    # A bookmarked old-style link still answers (by offset).
    html = client.get("/app/transactions/?page=2").content.decode()
    assert "transactions-next" in html or "Newer" in html
    assert "This cursor is not one" in client.get("/app/transactions/?cursor=bogus").content.decode()
