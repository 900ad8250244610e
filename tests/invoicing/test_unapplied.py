"""Unapplied payments: transfers settlement could not apply (paid after the quote expired, or a second
payment of a paid or cancelled invoice) are recorded once against their invoice; staff apply them at
the market rate of the day they were mined (through the normal payment path) or dismiss them with a
reason. The API (409 for a decided one or a closed invoice, 404 for another organization's, 422 for
bad input, 403 for those who may not record payments), the pages (HTMX Apply / Dismiss, the list's
badge) and the admin. The transfers are recorded rows as the monitor writes them; the chain itself
is in test_unapplied_end_to_end.py."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts.models import Notification, Role
from core.errors import DomainError
from invoicing import services
from invoicing.admin import UnappliedPaymentAdmin
from invoicing.models import Invoice, InvoicePayment, UnappliedPayment
from ledger.models import JournalEntry
from tests.invoicing.conftest import incoming_transfer, issued_invoice, quote_expire
from wallets.models import PriceQuote, PriceSource, Transaction
from wallets.prices import price_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def late(manager, receiving_wallet, eth):
    """An invoice (2500 USD, 1 ETH) whose quote expired, paid its old amount afterwards; settled once."""
    invoice = quote_expire(issued_invoice(manager, receiving_wallet))
    transfer = incoming_transfer(receiving_wallet, eth, "1")
    report = services.invoices_settle_transfers()
    assert (report.applied, report.unapplied) == (0, 1)
    return invoice, transfer, UnappliedPayment.objects.get()


def _url(invoice, row, action):
    return f"/api/invoices/{invoice.pk}/unapplied-payments/{row.pk}/{action}/"


# --- detection -------------------------------------------------------------------------------------------

def test_a_late_transfer_is_recorded_once_and_leaves_the_invoice_unpaid(late, manager, receiving_wallet):
    invoice, transfer, row = late
    assert (row.invoice_id, row.transaction_id, row.external_id) == (invoice.pk, transfer.pk, transfer.external_id)
    assert (row.reason, row.status, row.amount, row.asset, row.tx_hash) == (
        "QUOTE_EXPIRED", "OPEN", Decimal("1"), "ETH", transfer.hash)
    for _ in range(3):
        report = services.invoices_settle_transfers()
        assert (report.applied, report.unapplied) == (0, 0)
    assert UnappliedPayment.objects.count() == 1 and not InvoicePayment.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).status == "SENT"
    # each person who may record invoice payments (the two managers) is told once
    notices = Notification.objects.filter(type="INVOICE", title__contains="Unapplied payment")
    assert sorted(n.user_id for n in notices) == sorted([manager.pk, receiving_wallet.user_id])
    assert all(n.action_url == f"/app/invoices/{invoice.pk}/" and n.priority == "HIGH" for n in notices)


def test_a_second_recording_of_the_same_transfer_is_refused_by_its_unique_key(late):
    invoice, transfer, row = late
    with pytest.raises(Exception):
        UnappliedPayment.objects.create(organization_id=row.organization_id, invoice=invoice, transaction=transfer,
                                        external_id=transfer.external_id, asset="ETH", amount=Decimal("1"),
                                        mined_at=row.mined_at, seen_at=timezone.now(), reason="QUOTE_EXPIRED")
    assert UnappliedPayment.objects.count() == 1


def test_a_transfer_while_the_quote_holds_is_still_matched_not_unapplied(manager, receiving_wallet, eth):
    invoice = issued_invoice(manager, receiving_wallet)
    incoming_transfer(receiving_wallet, eth, "1")
    report = services.invoices_settle_transfers()
    assert (report.applied, report.unapplied) == (1, 0)
    assert Invoice.objects.get(pk=invoice.pk).status == "PAID" and not UnappliedPayment.objects.exists()


def test_second_payments_of_paid_and_cancelled_invoices_are_recorded(manager, receiving_wallet, eth):
    paid = issued_invoice(manager, receiving_wallet)
    incoming_transfer(receiving_wallet, eth, "1")
    services.invoices_settle_transfers()
    assert Invoice.objects.get(pk=paid.pk).status == "PAID"
    duplicate = incoming_transfer(receiving_wallet, eth, "1")  # the client paid twice
    other = incoming_transfer(receiving_wallet, eth, "0.3")  # fits no invoice: stays a plain wallet transaction
    report = services.invoices_settle_transfers()
    assert (report.applied, report.unapplied) == (0, 1)
    row = UnappliedPayment.objects.get()
    assert (row.invoice_id, row.external_id, row.reason) == (paid.pk, duplicate.external_id, "INVOICE_PAID")
    assert not UnappliedPayment.objects.filter(external_id=other.external_id).exists()

    cancelled = services.invoice_cancel(actor=manager, invoice=issued_invoice(manager, receiving_wallet))
    paid_after_cancel = incoming_transfer(receiving_wallet, eth, str(cancelled.crypto_amount))
    assert services.invoices_settle_transfers().unapplied == 1
    assert UnappliedPayment.objects.get(external_id=paid_after_cancel.external_id).reason == "INVOICE_CANCELLED"


def test_a_transfer_recorded_before_the_invoice_was_issued_is_not_its(manager, receiving_wallet, eth):
    early = incoming_transfer(receiving_wallet, eth, "1")
    Transaction.objects.filter(pk=early.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    quote_expire(issued_invoice(manager, receiving_wallet))
    assert services.invoices_settle_transfers().unapplied == 0 and not UnappliedPayment.objects.exists()


# --- apply -----------------------------------------------------------------------------------------------

def test_apply_through_the_api_pays_the_invoice_once_and_books_it(late, manager_api):
    invoice, transfer, row = late
    answer = manager_api("post", _url(invoice, row, "apply"))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["status"] == "PAID" and Decimal(body["amount_paid"]) == 2500 and Decimal(body["amount_due"]) == 0
    assert body["unapplied_payments"][0]["status"] == "APPLIED"
    assert body["payments"][0]["external_id"] == transfer.external_id
    assert Decimal(body["payments"][0]["fx_difference"]) == 0  # settled at the fair value of the day
    entry = JournalEntry.objects.get(transaction_hash=transfer.hash)
    assert entry.status == "posted" and entry.total_debit == entry.total_credit == Decimal("2500")
    again = manager_api("post", _url(invoice, row, "apply"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "unapplied_payment_not_open"
    assert InvoicePayment.objects.count() == 1 and JournalEntry.objects.filter(transaction_hash=transfer.hash).count() == 1
    assert services.invoices_settle_transfers().as_dict() == {"applied": 0, "skipped": 0, "unapplied": 0, "payments": []}


def test_apply_converts_at_the_market_rate_of_the_day_it_was_mined(late, manager):
    invoice, transfer, row = late
    day = timezone.localdate(transfer.transaction_date, dt.timezone.utc)
    price_record(symbol="ETH", price=Decimal("2000"), fiat="USD", day=day, source=PriceSource.COINGECKO)
    payment = services.unapplied_payment_apply(actor=manager, unapplied=row)
    assert payment.fiat_amount == Decimal("2000") and payment.fair_value == Decimal("2000")
    assert payment.fx_difference == 0
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert fresh.status == "PARTIALLY_PAID" and fresh.amount_due == Decimal("500")  # the payer bore the fall
    assert UnappliedPayment.objects.get().applied_rate == Decimal("2000")


def test_apply_above_the_amount_due_records_the_overpayment(late, manager):
    invoice, transfer, row = late
    day = timezone.localdate(transfer.transaction_date, dt.timezone.utc)
    price_record(symbol="ETH", price=Decimal("2600"), fiat="USD", day=day, source=PriceSource.COINGECKO)
    payment = services.unapplied_payment_apply(actor=manager, unapplied=row)
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert fresh.status == "PAID" and fresh.overpaid_amount == Decimal("100") and payment.overpaid_amount == Decimal("100")


def test_apply_without_a_price_is_refused_and_changes_nothing(late, manager):
    invoice, _, row = late
    PriceQuote.objects.all().delete()
    with pytest.raises(DomainError) as refused:
        services.unapplied_payment_apply(actor=manager, unapplied=row)
    assert refused.value.code == "no_price"
    assert UnappliedPayment.objects.get().status == "OPEN" and not InvoicePayment.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).status == "SENT"


def test_a_failed_apply_leaves_no_partial_write(late, manager):
    """The record turns APPLIED in the payment's transaction: if it cannot (decided meanwhile), the
    payment, the invoice's amounts and the journal entry roll back with it."""
    invoice, transfer, row = late
    UnappliedPayment.objects.filter(pk=row.pk).update(status="DISMISSED")  # decided by someone else meanwhile
    with pytest.raises(DomainError) as refused:
        services.unapplied_payment_apply(actor=manager, unapplied=row)  # `row` is the stale OPEN copy
    assert refused.value.code == "unapplied_payment_not_open"
    assert not InvoicePayment.objects.exists() and not JournalEntry.objects.filter(transaction_hash=transfer.hash).exists()
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert fresh.status == "SENT" and fresh.amount_paid == 0


def test_a_paid_invoice_cannot_take_its_second_payment(manager, manager_api, receiving_wallet, eth):
    paid = issued_invoice(manager, receiving_wallet)
    incoming_transfer(receiving_wallet, eth, "1")
    services.invoices_settle_transfers()
    incoming_transfer(receiving_wallet, eth, "1")
    services.invoices_settle_transfers()
    row = UnappliedPayment.objects.get()
    refused = manager_api("post", _url(paid, row, "apply"))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "invoice_not_open"
    dismissed = manager_api("post", _url(paid, row, "dismiss"), {"reason": "refunded to the client"})
    assert dismissed.status_code == 200 and dismissed.json()["unapplied_payments"][0]["status"] == "DISMISSED"


# --- dismiss ---------------------------------------------------------------------------------------------

def test_dismiss_keeps_the_invoice_open_and_the_transfer_is_never_matched_again(late, manager_api, manager, eth,
                                                                               receiving_wallet):
    invoice, transfer, row = late
    answer = manager_api("post", _url(invoice, row, "dismiss"), {"reason": "refunded on 2 Dec"})
    assert answer.status_code == 200, answer.content
    shown = answer.json()["unapplied_payments"][0]
    assert (shown["status"], shown["dismiss_reason"], shown["decided_by_id"]) == (
        "DISMISSED", "refunded on 2 Dec", str(manager_api.user.pk))
    assert answer.json()["status"] == "SENT" and not InvoicePayment.objects.exists()
    for action, body in (("dismiss", {"reason": "again"}), ("apply", None)):
        again = manager_api("post", _url(invoice, row, action), body)
        assert again.status_code == 409 and again.json()["error"]["code"] == "unapplied_payment_not_open"
    # re-quoted, the invoice is paid by a new transfer; the dismissed one stays dismissed
    price_record(symbol="ETH", price=Decimal("2500"), fiat="USD", source=PriceSource.COINGECKO)
    services.invoice_requote(actor=manager, invoice=Invoice.objects.get(pk=invoice.pk))
    incoming_transfer(receiving_wallet, eth, "1")
    report = services.invoices_settle_transfers()
    assert (report.applied, report.unapplied) == (1, 0)
    assert UnappliedPayment.objects.get().status == "DISMISSED"
    assert InvoicePayment.objects.get().external_id != transfer.external_id


def test_bad_input_is_422(late, manager_api):
    invoice, _, row = late
    for body in ({}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "ok", "extra": 1}):
        answer = manager_api("post", _url(invoice, row, "dismiss"), body)
        assert answer.status_code == 422 and "error" in answer.json(), body
    blank = manager_api("post", _url(invoice, row, "dismiss"), {"reason": "   "})
    assert blank.status_code == 422 and blank.json()["error"]["details"]["reason"] == "required"
    assert UnappliedPayment.objects.get().status == "OPEN"


# --- who may -----------------------------------------------------------------------------------------------

def test_another_organizations_invoice_or_payment_is_404(late, api_as, make_organization, manager_api, manager,
                                                         receiving_wallet, eth):
    invoice, _, row = late
    other_org = make_organization("Other")
    outsider = api_as(Role.MANAGER, organization=other_org)
    for action, body in (("apply", None), ("dismiss", {"reason": "mine now"})):
        answer = outsider("post", _url(invoice, row, action), body)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    # an unapplied payment named under another invoice of the same organization is not found either
    other_invoice = issued_invoice(manager, receiving_wallet)
    assert manager_api("post", _url(other_invoice, row, "apply")).status_code == 404
    assert UnappliedPayment.objects.get().status == "OPEN" and not InvoicePayment.objects.exists()


def test_only_those_who_record_payments_decide(late, accountant_api, user_api):
    invoice, _, row = late
    refused = accountant_api("post", _url(invoice, row, "apply"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert accountant_api("get", f"/api/invoices/{invoice.pk}/").json()["unapplied_payments"][0]["status"] == "OPEN"
    assert user_api("post", _url(invoice, row, "dismiss"), {"reason": "no"}).status_code == 403
    assert UnappliedPayment.objects.get().status == "OPEN"


def test_the_endpoints_are_in_the_openapi_schema(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for action in ("apply", "dismiss"):
        operation = paths[f"/api/invoices/{{invoice_id}}/unapplied-payments/{{unapplied_id}}/{action}/"]["post"]
        assert {"404", "409", "422"} <= set(operation["responses"])


# --- pages and admin ---------------------------------------------------------------------------------------

def _browser(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_detail_page_shows_them_with_htmx_apply_and_dismiss(late, manager, make_user):
    invoice, transfer, row = late
    page = _browser(manager)
    html = page.get(f"/app/invoices/{invoice.pk}/").content.decode()
    assert 'id="unapplied-payments"' in html and "Paid after the crypto quote expired" in html
    assert f'hx-post="/app/invoices/{invoice.pk}/unapplied/{row.pk}/apply/"' in html
    assert f'hx-post="/app/invoices/{invoice.pk}/unapplied/{row.pk}/dismiss/"' in html
    assert "Unapplied payment (paid after the crypto quote expired)" in html  # on the timeline

    # an accountant sees it but gets no buttons, and may not post
    accountant = _browser(make_user(Role.USER, is_accountant=True))
    seen = accountant.get(f"/app/invoices/{invoice.pk}/").content.decode()
    assert 'id="unapplied-payments"' in seen and "unapplied-apply-" not in seen
    assert accountant.post(f"/app/invoices/{invoice.pk}/unapplied/{row.pk}/apply/").status_code == 403

    empty = page.post(f"/app/invoices/{invoice.pk}/unapplied/{row.pk}/dismiss/", {"reason": " "}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 302
    assert "Say why the payment is dismissed" in page.get(empty["Location"]).content.decode()
    applied = page.post(f"/app/invoices/{invoice.pk}/unapplied/{row.pk}/apply/", HTTP_HX_REQUEST="true")
    assert applied.status_code == 302 and applied["Location"] == f"/app/invoices/{invoice.pk}/"
    after = page.get(applied["Location"]).content.decode()
    assert "Payment applied" in after and 'data-status="PAID"' in after and "unapplied-apply-" not in after
    refused = page.post(f"/app/invoices/{invoice.pk}/unapplied/{row.pk}/apply/")
    assert refused.status_code == 302 and "was applied already" in page.get(refused["Location"]).content.decode()
    assert InvoicePayment.objects.count() == 1


def test_the_list_shows_a_badge_for_open_unapplied_payments(late, manager):
    invoice, _, row = late
    page = _browser(manager)
    listing = page.get("/app/invoices/").content.decode()
    assert f'id="unapplied-badge-{invoice.pk}"' in listing and ">1 unapplied</span>" in listing
    services.unapplied_payment_dismiss(actor=manager, unapplied=row, reason="refunded")
    assert "unapplied-badge-" not in page.get("/app/invoices/").content.decode()


def test_the_admin_lists_them_and_applies_through_the_service(late, make_user):
    invoice, _, row = late
    admin_user = make_user(Role.ADMIN)
    page = _browser(admin_user)
    listing = page.get("/admin/invoicing/unappliedpayment/")
    assert listing.status_code == 200 and row.tx_hash[:10] in listing.content.decode()
    model_admin = UnappliedPaymentAdmin(UnappliedPayment, admin_site)
    request = RequestFactory().post("/admin/invoicing/unappliedpayment/")
    request.user = admin_user
    sent = []
    model_admin.message_user = lambda request, text, level=None: sent.append(text)
    model_admin.apply_payments(request, UnappliedPayment.objects.all())
    assert sent == ["1 unapplied payment(s) applied."]
    assert Invoice.objects.get(pk=invoice.pk).status == "PAID" and UnappliedPayment.objects.get().status == "APPLIED"


def test_the_admin_dismisses_them_with_the_reason_it_asks_for(late, manager, make_user, make_organization):
    """The action shows a page asking for the reason; an empty one dismisses nothing and says so; the
    reason given goes through the service (recorded, the invoice left open); a decided payment is refused
    with a message; who may not record payments never reaches it; another organization's id selects
    nothing."""
    invoice, _, row = late
    url = "/admin/invoicing/unappliedpayment/"
    page = _browser(manager)
    chosen = {"action": "dismiss_payments", "_selected_action": [str(row.pk)]}
    asked = page.post(url, chosen)
    assert asked.status_code == 200
    html = asked.content.decode()
    assert 'id="unapplied-dismiss"' in html and 'name="reason"' in html and f'data-unapplied="{row.pk}"' in html
    assert UnappliedPayment.objects.get().status == "OPEN"

    empty = page.post(url, {**chosen, "dismiss_confirmed": "yes", "reason": "   "})
    assert empty.status_code == 200 and "Say why the payments are dismissed (e.g. refunded). Nothing was dismissed." \
        in empty.content.decode()
    too_long = page.post(url, {**chosen, "dismiss_confirmed": "yes", "reason": "x" * 501})
    assert too_long.status_code == 200 and 'id="unapplied-dismiss"' in too_long.content.decode()
    assert UnappliedPayment.objects.get().status == "OPEN"

    done = page.post(url, {**chosen, "dismiss_confirmed": "yes", "reason": " refunded to the client "})
    assert done.status_code == 302 and done["Location"].startswith(url)
    assert "1 unapplied payment(s) dismissed." in page.get(done["Location"]).content.decode()
    dismissed = UnappliedPayment.objects.get()
    assert (dismissed.status, dismissed.dismiss_reason, dismissed.decided_by_id) == (
        "DISMISSED", "refunded to the client", manager.pk)
    assert Invoice.objects.get(pk=invoice.pk).status != "PAID" and InvoicePayment.objects.count() == 0

    again = page.post(url, {**chosen, "dismiss_confirmed": "yes", "reason": "twice"}, follow=True)
    assert "That payment was dismissed already." in again.content.decode()
    assert "unapplied payment(s) dismissed" not in again.content.decode()
    assert UnappliedPayment.objects.get().dismiss_reason == "refunded to the client"

    UnappliedPayment.objects.filter(pk=row.pk).update(status="OPEN", dismiss_reason="", decided_by=None)
    accountant = _browser(make_user(Role.USER, is_accountant=True))  # may not record payments: no admin at all
    refused = accountant.post(url, {**chosen, "dismiss_confirmed": "yes", "reason": "no"})
    assert refused.status_code == 302 and refused["Location"].startswith("/admin/login/")
    stranger = _browser(make_user(Role.ADMIN, organization=make_organization("Initech")))
    assert stranger.post(url, {**chosen, "dismiss_confirmed": "yes", "reason": "not mine"}).status_code == 302
    assert UnappliedPayment.objects.get().status == "OPEN"



def test_the_exact_old_amount_of_an_expired_invoice_is_not_given_to_another_open_one(manager, receiving_wallet, eth):
    expired = quote_expire(issued_invoice(manager, receiving_wallet))  # asked 1 ETH, quote expired
    price_record(symbol="ETH", price=Decimal("2000"), fiat="USD", source=PriceSource.COINGECKO)
    holding = issued_invoice(manager, receiving_wallet)  # asks 1.25 ETH, quote holds
    incoming_transfer(receiving_wallet, eth, "1")
    report = services.invoices_settle_transfers()
    assert (report.applied, report.unapplied) == (0, 1)
    assert UnappliedPayment.objects.get().invoice_id == expired.pk
    assert Invoice.objects.get(pk=holding.pk).status == "SENT"
    incoming_transfer(receiving_wallet, eth, "0.5")  # an odd amount still goes to the open quote (oldest rule)
    assert services.invoices_settle_transfers().applied == 1
    assert Invoice.objects.get(pk=holding.pk).status == "PARTIALLY_PAID"


def test_the_migrations_of_invoicing_match_its_models():
    out = io.StringIO()
    call_command("makemigrations", "invoicing", "--check", "--dry-run", stdout=out)  # exits 1 on a missing one
    assert "No changes detected" in out.getvalue()
