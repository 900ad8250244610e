"""The invoice list pages newest first over the time index (scope "invoices"): the counts follow
invoices as they are made and removed, the list walks every invoice once by cursor whatever the counts
say, a first page asks the database for a bounded window, and `offset` still works."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.time_index import COLLECTION, time_index_rebuild
from invoicing import services
from invoicing.models import Invoice
from tests.invoicing.conftest import item

pytestmark = pytest.mark.django_db
SCOPE = Invoice.time_index_scope
DAY = dt.datetime(2026, 5, 1, 10, tzinfo=dt.timezone.utc)


def counts(organization_id) -> dict:
    return {doc["d"].date(): doc["n"] for doc in connection.get_collection(COLLECTION).find({"s": SCOPE, "o": organization_id})
            if doc["n"]}


@pytest.fixture
def invoices(manager, manager_api):
    """45 drafts of the manager's organization, spread over 15 days (created_at moved back)."""
    made = [services.invoice_create(actor=manager, client_name=f"Client {n}", items=[item()]) for n in range(45)]
    for n, invoice in enumerate(made):
        Invoice.objects.filter(pk=invoice.pk).update(created_at=DAY - dt.timedelta(days=n % 15, minutes=n))
    return manager.organization_id, made


def test_the_counts_follow_the_invoices_and_agree_with_a_recount(invoices):
    organization_id, made = invoices
    kept = counts(organization_id)
    assert sum(kept.values()) == 45 and len(kept) == 15
    Invoice.objects.filter(pk=made[0].pk).delete()
    assert sum(counts(organization_id).values()) == 44
    time_index_rebuild(scope=SCOPE, collection="invoices", date_field="created_at", organization_id=organization_id)
    assert sum(counts(organization_id).values()) == 44


def test_the_list_walks_every_invoice_once_whatever_the_counts(invoices, manager_api):
    organization_id, _ = invoices
    expected = [str(pk) for pk in Invoice.objects.filter(organization_id=organization_id)
                .order_by("-created_at", "-id").values_list("pk", flat=True)]

    def walk():
        seen, page = [], manager_api("get", "/api/invoices/?limit=8").json()
        while True:
            seen += [row["id"] for row in page["items"]]
            if page["next_cursor"] is None:
                return seen
            page = manager_api("get", f"/api/invoices/?limit=8&cursor={page['next_cursor']}").json()

    assert walk() == expected
    connection.get_collection(COLLECTION).update_many({"s": SCOPE}, {"$set": {"n": 40}})  # far too high
    assert walk() == expected
    connection.get_collection(COLLECTION).delete_many({"s": SCOPE})  # lost
    assert walk() == expected
    by_offset = manager_api("get", "/api/invoices/?limit=8&offset=16").json()
    assert [row["id"] for row in by_offset["items"]] == expected[16:24]


def test_a_first_page_asks_for_a_bounded_window(invoices, manager_api):
    with CaptureQueriesContext(connection) as captured:
        page = manager_api("get", "/api/invoices/?limit=5").json()
    assert len(page["items"]) == 5 and page["next_cursor"]
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("db.invoices.aggregate")]
    assert reads and "'created_at': {'$gte'" in reads[0], reads
    assert not any("$lookup" in sql for sql in reads), reads  # a join before the $match reads every invoice


def test_another_organizations_invoices_are_never_in_the_window(invoices, make_organization, make_user, api_as):
    from accounts.models import Role

    other = make_organization(name="Other")
    stranger = api_as(Role.MANAGER, organization=other)
    assert stranger("get", "/api/invoices/?limit=50").json()["items"] == []
