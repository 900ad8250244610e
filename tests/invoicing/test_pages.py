"""Back-office invoice pages (/app/invoices/) and the admin: the list with its filters, totals and
pages (round trips that do not grow with the rows), the draft editor with its lines and live totals,
the detail with its timeline and the actions by role, the PDF link; the admin's PDF link and actions."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from invoicing import services
from invoicing.models import Invoice, InvoicePayment
import invoicing.views as views
from tests.invoicing.conftest import item

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_as(make_user):
    def make(role=Role.MANAGER, **fields):
        user = make_user(role=role, **fields)
        client = Client()
        client.force_login(user)
        client.user = user
        return client

    return make


def _draft(actor, client_name="Globex", **fields):
    fields.setdefault("items", [item()])
    fields.setdefault("tax_rate", Decimal("20"))
    return services.invoice_create(actor=actor, client_name=client_name, client_email="ap@globex.test", **fields)


def _form(**fields):
    body = {"client_name": "Globex Corp", "client_email": "ap@globex.test", "tax_rate": "20",
            "line_description": ["Consulting", "Support", ""], "line_quantity": ["2", "1", ""],
            "line_unit_price": ["150.00", "40", ""], "line_tax_rate": ["", "", ""]}
    body.update(fields)
    return body


def test_the_list_filters_totals_and_pages_without_growing_round_trips(browser_as, monkeypatch):
    page = browser_as(Role.MANAGER)
    manager = page.user
    issued = services.invoice_issue(actor=manager, invoice=_draft(manager, "Initech",
                                                                  issue_date=dt.date(2026, 1, 2),
                                                                  due_date=dt.date(2026, 1, 3)))
    for _ in range(2):
        _draft(manager)
    listing = page.get("/app/invoices/")
    assert listing.status_code == 200
    text = listing.content.decode()
    assert issued.invoice_number in text and text.count("draft</a>") == 2
    assert "$1,080.00" in text  # total of the three: 3 x 360
    assert "late" in text  # past its due date, before the hourly sweep

    only_sent = page.get("/app/invoices/", {"status": "SENT"}).content.decode()
    assert issued.invoice_number in only_sent and "draft</a>" not in only_sent
    by_client = page.get("/app/invoices/", {"client": "initech"}).content.decode()
    assert issued.invoice_number in by_client and "draft</a>" not in by_client
    overdue = page.get("/app/invoices/", {"overdue": "1"}, HTTP_HX_REQUEST="true")
    assert overdue.content.decode().startswith('<div id="invoice-table">')  # HTMX: the table only
    assert issued.invoice_number in overdue.content.decode()
    assert "draft</a>" not in overdue.content.decode()

    monkeypatch.setattr(views, "PAGE_ROWS", 2)
    first = page.get("/app/invoices/").content.decode()
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = page.get("/app/invoices/", {"page": "2"}).content.decode()
    assert 'rel="prev"' in second and 'rel="next"' not in second and second.count('<tr id="invoice-') == 1

    monkeypatch.setattr(views, "PAGE_ROWS", 25)
    with CaptureQueriesContext(connection) as few:
        page.get("/app/invoices/")
    for _ in range(4):
        _draft(manager)
    with CaptureQueriesContext(connection) as more:
        page.get("/app/invoices/")
    assert len(more) == len(few)


def test_a_plain_member_is_refused_and_another_organizations_invoice_is_not_found(
        browser_as, make_organization, make_user):
    manager = make_user(Role.MANAGER)
    invoice = _draft(manager)
    assert browser_as(Role.USER).get("/app/invoices/").status_code == 403
    other = make_organization("Other Co")
    outsider = browser_as(Role.MANAGER, organization=other)
    assert outsider.get(f"/app/invoices/{invoice.pk}/").status_code == 404
    assert outsider.post(f"/app/invoices/{invoice.pk}/issue/").status_code == 404
    accountant = browser_as(Role.USER, is_accountant=True)
    assert accountant.get(f"/app/invoices/{invoice.pk}/").status_code == 200
    assert accountant.post(f"/app/invoices/{invoice.pk}/issue/").status_code == 403  # issuing is a manager's


def test_the_editor_creates_and_edits_a_draft_with_lines_and_live_totals(browser_as):
    page = browser_as(Role.USER, is_accountant=True)
    form = page.get("/app/invoices/new/")
    assert form.status_code == 200 and 'name="line_description"' in form.content.decode()
    preview = page.post("/app/invoices/totals/", _form(), HTTP_HX_REQUEST="true").content.decode()
    assert "$340.00" in preview and "$68.00" in preview and "$408.00" in preview  # 300 + 40, 20 % tax

    created = page.post("/app/invoices/new/", _form())
    invoice = Invoice.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/app/invoices/{invoice.pk}/"
    assert [i.description for i in invoice.items] == ["Consulting", "Support"]  # the blank row ignored
    assert invoice.total_amount == Decimal("408.00") and invoice.status == "DRAFT"

    refused = page.post(f"/app/invoices/{invoice.pk}/edit/", _form(line_quantity=["-1", "1", ""]))
    assert refused.status_code == 422 and "more than zero" in refused.content.decode()
    edited = page.post(f"/app/invoices/{invoice.pk}/edit/", _form(client_name="Globex Ltd", tax_rate="0"))
    assert edited.status_code == 302
    invoice.refresh_from_db()
    assert invoice.client_name == "Globex Ltd" and invoice.total_amount == Decimal("340.00")
    assert page.get(f"/app/invoices/{invoice.pk}/edit/").content.decode().count('<tr class="invoice-line">') == 5


def test_the_detail_shows_the_timeline_and_the_manager_works_the_invoice(browser_as, mailbox):
    page = browser_as(Role.MANAGER)
    invoice = _draft(page.user)
    detail = page.get(f"/app/invoices/{invoice.pk}/").content.decode()
    assert 'id="action-issue"' in detail and 'id="action-edit"' in detail and "Draft created" in detail
    assert f'href="/app/invoices/{invoice.pk}/pdf/"' in detail

    page.post(f"/app/invoices/{invoice.pk}/send/")  # issues and emails
    invoice.refresh_from_db()
    assert invoice.status == "SENT" and invoice.sent_at and len(mailbox) == 1
    page.post(f"/app/invoices/{invoice.pk}/send/")
    assert len(mailbox) == 1  # not again unless asked
    page.post(f"/app/invoices/{invoice.pk}/send/", {"resend": "1"})
    assert len(mailbox) == 2

    page.post(f"/app/invoices/{invoice.pk}/payment/", {"amount": "100", "method": "BANK", "reference": "wire 7"})
    page.post(f"/app/invoices/{invoice.pk}/payment/", {"amount": "not a number", "method": "BANK"})
    assert InvoicePayment.objects.count() == 1
    note = page.post(f"/app/invoices/{invoice.pk}/credit-note/", {"reason": "discount"})
    credit = Invoice.objects.get(kind="CREDIT_NOTE")
    assert note["Location"] == f"/app/invoices/{credit.pk}/"
    invoice.refresh_from_db()
    assert invoice.status == "PAID" and invoice.amount_due == 0  # 100 paid, every line credited
    detail = page.get(f"/app/invoices/{invoice.pk}/").content.decode()
    for label in (f"Issued as {invoice.invoice_number}", "Emailed", "Payment received (Bank transfer)",
                  f"Credit note {credit.invoice_number}", "Paid"):
        assert label in detail
    assert 'id="action-cancel"' not in detail  # something was paid: credit it instead

    pdf = page.get(f"/app/invoices/{invoice.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_a_refused_action_is_a_message_not_an_error(browser_as):
    page = browser_as(Role.MANAGER)
    invoice = services.invoice_cancel(actor=page.user, invoice=_draft(page.user))
    answer = page.post(f"/app/invoices/{invoice.pk}/issue/", follow=True)
    assert answer.status_code == 200 and "cannot become SENT" in answer.content.decode()
    assert page.post(f"/app/invoices/{invoice.pk}/delete/").status_code == 302
    assert Invoice.objects.filter(pk=invoice.pk).exists()  # only drafts are deleted
    draft = _draft(page.user)
    assert page.post(f"/app/invoices/{draft.pk}/delete/")["Location"] == "/app/invoices/"
    assert not Invoice.objects.filter(pk=draft.pk).exists()


def test_the_admin_links_the_pdf_and_its_actions_call_the_services(browser_as):
    page = browser_as(Role.MANAGER)
    drafts = [_draft(page.user), _draft(page.user)]
    changelist = page.get("/admin/invoicing/invoice/")
    assert changelist.status_code == 200
    assert f'href="/app/invoices/{drafts[0].pk}/pdf/"' in changelist.content.decode()
    page.post("/admin/invoicing/invoice/", {"action": "issue_invoices", "_selected_action": [str(d.pk) for d in drafts]})
    assert set(Invoice.objects.values_list("status", flat=True)) == {"SENT"}
    page.post("/admin/invoicing/invoice/", {"action": "issue_invoices", "_selected_action": [str(drafts[0].pk)]})
    assert Invoice.objects.filter(invoice_number__isnull=False).count() == 2  # refused once issued: no new number
    change = page.get(f"/admin/invoicing/invoice/{drafts[0].pk}/change/")
    assert change.status_code == 200 and "/pdf/" in change.content.decode()
