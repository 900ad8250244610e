"""The transactions back-office page (list, filters, paging, drawer, override, bulk label) and the
classifier's panel and review queue page, through the real views."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ai_audit.models import SuggestionState, TransactionClassification
from tests.ai_audit.classification.conftest import CLIENT, VENDOR

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def browser(client, books):
    client.force_login(books.accountant)
    return client


def test_the_list_filters_pages_and_keeps_its_query_count(books, browser, settings):
    for i in range(3):
        books.chain_row(counterparty=VENDOR, description=f"vendor {i}")
    books.chain_row(direction="in", counterparty=CLIENT, asset=books.eth, amount="2", usd_value="4000")
    page = browser.get("/app/transactions/")
    assert page.status_code == 200
    assert page.content.decode().count('class="transaction-row"') == 4
    eth = browser.get("/app/transactions/?asset=ETH")
    assert eth.content.decode().count('class="transaction-row"') == 1

    def count():
        with CaptureQueriesContext(connection) as captured:
            response = browser.get("/app/transactions/?fragment=1", **HTMX)
            assert response.status_code == 200
        return len(captured.captured_queries)

    few = count()
    for _ in range(12):
        books.chain_row()
    assert count() == few
    assert browser.get("/app/transactions/?date_from=yesterday").content.decode().count("give a day as YYYY-MM-DD") == 1


def test_the_drawer_overrides_a_chain_row_and_shows_a_refusal(books, browser):
    row = books.chain_row(direction="in", counterparty=CLIENT)
    drawer = browser.get(f"/app/transactions/{row.pk}/", **HTMX)
    assert drawer.status_code == 200 and 'id="label-form"' in drawer.content.decode()
    saved = browser.post(f"/app/transactions/{row.pk}/label/", {"label": "income", "category": "business"}, **HTMX)
    assert saved.status_code == 200 and "re-booked" in saved.content.decode()
    assert saved["HX-Trigger"] == "transactions-changed"
    row.refresh_from_db()
    assert (row.ai_subcategory, row.transaction_type) == ("income", "INCOME")
    assert TransactionClassification.objects.get(transaction=row).labelled_by == books.accountant
    unvalued = books.chain_row(usd_value=None)
    refused = browser.post(f"/app/transactions/{unvalued.pk}/label/", {"label": "payment", "category": "business"},
                           **HTMX)
    assert refused.status_code == 200 and 'role="alert"' in refused.content.decode()
    assert "needs its value" in refused.content.decode()
    assert browser.post(f"/app/transactions/{unvalued.pk}/label/", {"label": "payment"}).status_code == 422


def test_a_bulk_label_on_the_selected_rows(books, browser):
    rows = [books.chain_row(counterparty=VENDOR) for _ in range(3)]
    response = browser.post("/app/transactions/label/?asset=USDC", {
        "selected": [str(r.pk) for r in rows[:2]], "label": "payment", "category": "business"}, **HTMX)
    assert response.status_code == 200 and "2 labelled payment." in response.content.decode()
    labels = {str(r.pk): r.ai_subcategory for r in type(rows[0]).objects.filter(pk__in=[r.pk for r in rows])}
    assert sorted(labels.values()) == ["", "payment", "payment"]


def test_the_panel_classifies_and_accepts(books, browser):
    rows = [books.chain_row(direction="in", counterparty=CLIENT) for _ in range(4)]
    for row in rows[:3]:
        browser.post(f"/app/transactions/{row.pk}/label/", {"label": "income", "category": "business"}, **HTMX)
    panel = browser.post(f"/app/transactions/{rows[3].pk}/classify/", **HTMX)
    text = panel.content.decode()
    assert panel.status_code == 200 and 'id="suggested-label">income<' in text
    assert "same counterparty as 3 transactions you labelled income" in text
    record = TransactionClassification.objects.get(transaction=rows[3])
    accepted = browser.post(f"/app/classifications/{record.pk}/accept/", **HTMX)
    assert accepted.status_code == 200 and "Accepted" in accepted.content.decode()
    rows[3].refresh_from_db()
    assert rows[3].ai_subcategory == "income"


def test_the_review_page(books, browser, client):
    row = books.chain_row()
    browser.post(f"/app/transactions/{row.pk}/classify/", **HTMX)
    record = TransactionClassification.objects.get(transaction=row)
    page = browser.get("/app/classifications/review/")
    assert page.status_code == 200 and f'data-record="{record.pk}"' in page.content.decode()
    rejected = browser.post(f"/app/classifications/{record.pk}/reject/", {"from": "review"}, **HTMX)
    assert rejected.status_code == 200 and "Nothing waits for review." in rejected.content.decode()
    record.refresh_from_db()
    assert record.state == SuggestionState.REJECTED
    client.force_login(books.member)
    assert client.get("/app/classifications/review/").status_code == 403
