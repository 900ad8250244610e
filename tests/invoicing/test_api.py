"""The nine Invoice Management endpoints on the real stack: totals computed by the server, drafts
only editable, lifecycle with 409 on illegal transitions, tenancy (another organization's invoice is
404) and who may do what."""

from decimal import Decimal

import pytest

from accounts.models import Role
from invoicing.models import Invoice
from ledger.models import JournalEntry
from tests.invoicing.conftest import Caller, invoice_body, item

pytestmark = pytest.mark.django_db


def test_create_computes_totals_and_leaves_a_numberless_draft(accountant_api):
    response = accountant_api("post", "/api/invoices/", invoice_body(items=[
        item(quantity="3", unit_price="19.99"), item(description="Setup", quantity="1", unit_price="50", tax_rate="5")]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "DRAFT" and body["invoice_number"] is None
    assert body["subtotal"] == "109.97" and body["tax_amount"] == "14.49" and body["total_amount"] == "124.46"
    assert [i["total"] for i in body["items"]] == ["59.97", "50"]
    assert body["template"] == "classic" and body["currency"] == "USD"
    assert body["allowed_statuses"] == ["SENT", "CANCELLED"]


def test_client_totals_are_refused_not_trusted(accountant_api):
    response = accountant_api("post", "/api/invoices/", invoice_body(total_amount="1.00"))
    assert response.status_code == 422


@pytest.mark.parametrize("bad_item", [
    {"description": "x", "quantity": "-2", "unit_price": "10"},
    {"description": "x", "quantity": "1", "unit_price": "-10"},
    {"description": "x", "quantity": "1", "unit_price": "10", "tax_rate": "250"},
])
def test_bad_items_are_422_with_the_item(accountant_api, bad_item):
    response = accountant_api("post", "/api/invoices/", invoice_body(items=[item(), bad_item]))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_items" and error["details"]["index"] == 1


def test_unknown_template_and_foreign_currency(accountant_api):
    response = accountant_api("post", "/api/invoices/", invoice_body(template="baroque"))
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_template"
    assert "classic" in response.json()["error"]["details"]["known"]
    response = accountant_api("post", "/api/invoices/", invoice_body(currency="EUR"))
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_currency"


def test_templates_are_listed_and_picked(accountant_api):
    response = accountant_api("get", "/api/invoices/templates/")
    assert response.status_code == 200
    assert [t["key"] for t in response.json()] == ["classic", "compact", "modern"]
    created = accountant_api("post", "/api/invoices/", invoice_body(template="modern")).json()
    assert created["template"] == "modern"


def test_list_filters_and_detail(accountant_api, manager_api):
    first = accountant_api("post", "/api/invoices/", invoice_body(client_name="Initech")).json()
    accountant_api("post", "/api/invoices/", invoice_body(client_name="Hooli"))
    manager_api("put", f"/api/invoices/{first['id']}/status/", {"status": "SENT"})
    rows = accountant_api("get", "/api/invoices/").json()["items"]
    assert len(rows) == 2
    sent = accountant_api("get", "/api/invoices/", {"status": "SENT"}).json()["items"]
    assert [r["client_name"] for r in sent] == ["Initech"]
    assert [r["client_name"] for r in accountant_api("get", "/api/invoices/", {"client": "hoo"}).json()["items"]] == ["Hooli"]
    detail = accountant_api("get", f"/api/invoices/{first['id']}/").json()
    assert detail["invoice_number"].startswith("INV-") and detail["payments"] == []


def test_only_drafts_change_or_are_deleted(accountant_api, manager_api):
    draft = accountant_api("post", "/api/invoices/", invoice_body()).json()
    changed = accountant_api("put", f"/api/invoices/{draft['id']}/", {"items": [item(quantity="1", unit_price="10")],
                                                                     "client_name": "Globex Ltd"}).json()
    assert changed["client_name"] == "Globex Ltd" and changed["total_amount"] == "12"
    manager_api("put", f"/api/invoices/{draft['id']}/status/", {"status": "SENT"})
    response = accountant_api("put", f"/api/invoices/{draft['id']}/", {"notes": "late edit"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "invoice_not_draft"
    response = accountant_api("delete", f"/api/invoices/{draft['id']}/")
    assert response.status_code == 409
    other = accountant_api("post", "/api/invoices/", invoice_body()).json()
    assert accountant_api("delete", f"/api/invoices/{other['id']}/").status_code == 200
    assert not Invoice.objects.filter(pk=other["id"]).exists()


def test_illegal_transitions_are_409_with_the_allowed_ones(accountant_api, manager_api):
    draft = accountant_api("post", "/api/invoices/", invoice_body()).json()
    response = manager_api("put", f"/api/invoices/{draft['id']}/status/", {"status": "PAID"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    assert error["details"] == {"status": "DRAFT", "requested": "PAID", "allowed": ["SENT", "CANCELLED"]}
    manager_api("put", f"/api/invoices/{draft['id']}/status/", {"status": "SENT"})
    response = manager_api("put", f"/api/invoices/{draft['id']}/status/", {"status": "OVERDUE"})
    assert response.status_code == 409 and response.json()["error"]["details"]["allowed"] == ["PAID", "CANCELLED"]
    assert manager_api("put", f"/api/invoices/{draft['id']}/status/", {"status": "PAID"}).json()["status"] == "PAID"
    response = manager_api("put", f"/api/invoices/{draft['id']}/status/", {"status": "CANCELLED"})
    assert response.status_code == 409 and response.json()["error"]["details"]["allowed"] == []


def test_issue_posts_the_books_and_cancel_reverses_them(accountant_api, manager_api, organization):
    draft = accountant_api("post", "/api/invoices/", invoice_body()).json()  # 300 + 60 tax
    sent = manager_api("put", f"/api/invoices/{draft['id']}/status/", {"status": "SENT"}).json()
    entry = JournalEntry.objects.get(pk=sent["issue_entry_id"])
    lines = {(l.account_code, l.debit_amount, l.credit_amount) for l in entry.line_items}
    assert lines == {("1300", Decimal("360"), Decimal("0")), ("4100", Decimal("0"), Decimal("300")),
                     ("2300", Decimal("0"), Decimal("60"))}
    assert entry.status == "posted" and entry.reference == sent["invoice_number"]
    assert sent["due_date"] is not None and sent["issue_date"] is not None
    cancelled = manager_api("put", f"/api/invoices/{draft['id']}/status/", {"status": "CANCELLED"}).json()
    assert cancelled["status"] == "CANCELLED" and cancelled["invoice_number"] == sent["invoice_number"]
    entry.refresh_from_db()
    assert entry.status == "reversed"


def test_mark_paid_records_a_bank_payment(accountant_api, manager_api):
    draft = accountant_api("post", "/api/invoices/", invoice_body()).json()
    manager_api("put", f"/api/invoices/{draft['id']}/status/", {"status": "SENT"})
    paid = manager_api("put", f"/api/invoices/{draft['id']}/status/", {"status": "PAID", "reference": "wire 42"}).json()
    assert paid["status"] == "PAID" and paid["amount_paid"] == "360" and paid["amount_due"] == "0"
    (payment,) = paid["payments"]
    assert payment["method"] == "BANK" and payment["fiat_amount"] == "360" and payment["reference"] == "wire 42"
    lines = {(l.account_code, l.debit_amount, l.credit_amount)
             for l in JournalEntry.objects.get(pk=payment["journal_entry_id"]).line_items}
    assert lines == {("1120", Decimal("360"), Decimal("0")), ("1300", Decimal("0"), Decimal("360"))}


def test_who_may_do_what(user_api, accountant_api, manager_api):
    assert user_api("get", "/api/invoices/").status_code == 403
    assert user_api("post", "/api/invoices/", invoice_body()).status_code == 403
    assert user_api("get", "/api/invoices/templates/").status_code == 403
    draft = accountant_api("post", "/api/invoices/", invoice_body()).json()
    assert user_api("get", f"/api/invoices/{draft['id']}/").status_code == 403
    # an accountant works drafts but does not issue (issuing posts to the books: a manager's approval)
    response = accountant_api("put", f"/api/invoices/{draft['id']}/status/", {"status": "SENT"})
    assert response.status_code == 403
    assert accountant_api("post", f"/api/invoices/{draft['id']}/send/").status_code == 403
    assert manager_api("put", f"/api/invoices/{draft['id']}/status/", {"status": "SENT"}).status_code == 200


def test_another_organizations_invoice_is_404(accountant_api, make_organization, make_user, access_token_for, client):
    draft = accountant_api("post", "/api/invoices/", invoice_body()).json()
    other_org = make_organization("Borealis")
    outsider = make_user(Role.ADMIN, organization=other_org)
    other = Caller(client, outsider, access_token_for(outsider))
    for method, path, body in (("get", f"/api/invoices/{draft['id']}/", None),
                               ("put", f"/api/invoices/{draft['id']}/", {"notes": "x"}),
                               ("delete", f"/api/invoices/{draft['id']}/", None),
                               ("post", f"/api/invoices/{draft['id']}/send/", {}),
                               ("get", f"/api/invoices/{draft['id']}/pdf/", None),
                               ("put", f"/api/invoices/{draft['id']}/status/", {"status": "SENT"})):
        assert other(method, path, body).status_code == 404, (method, path)
    assert other("get", "/api/invoices/").json()["items"] == []
