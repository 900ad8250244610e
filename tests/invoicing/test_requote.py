"""Re-quote: the crypto amount holds for its validity window; a transfer paid after the quote expired
is not matched at the old rate (it is recorded as an unapplied payment for staff); an expired quote is re-quoted at the current
rate (refused while it still holds) and later transfers match the new amount; a transfer paid while
the quote held still settles even if the task runs after expiry."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import DomainError
from invoicing import services
from invoicing.models import Invoice, InvoicePayment, UnappliedPayment
from invoicing.services import documents
from tests.invoicing.conftest import incoming_transfer, issued_invoice, item, quote_expire
from tests.invoicing.test_documents import pdf_text
from wallets.models import PriceSource
from wallets.prices import price_record

pytestmark = pytest.mark.django_db


def test_a_requote_is_refused_while_the_quote_holds(manager, receiving_wallet, eth):
    invoice = issued_invoice(manager, receiving_wallet)
    with pytest.raises(DomainError) as refused:
        services.invoice_requote(actor=manager, invoice=invoice)
    assert refused.value.code == "quote_not_expired" and refused.value.details["valid_until"]


def test_a_transfer_after_expiry_is_not_matched_then_the_requote_is(manager, receiving_wallet, eth):
    invoice = quote_expire(issued_invoice(manager, receiving_wallet))
    late = incoming_transfer(receiving_wallet, eth, "1", paid_at=timezone.now())  # the old amount, after expiry
    report = services.invoices_settle_transfers()
    assert (report.applied, report.unapplied) == (0, 1)  # recorded for staff (test_unapplied.py), not paid
    assert Invoice.objects.get(pk=invoice.pk).status == "SENT" and not InvoicePayment.objects.exists()
    assert UnappliedPayment.objects.get().external_id == late.external_id

    price_record(symbol="ETH", price=Decimal("2000"), fiat="USD", source=PriceSource.COINGECKO)
    requoted = services.invoice_requote(actor=manager, invoice=invoice)
    assert requoted.crypto_rate == Decimal("2000") and requoted.crypto_amount == Decimal("1.25")
    assert requoted.crypto_rate_at > invoice.crypto_rate_at and requoted.crypto_valid_until > timezone.now()
    assert requoted.payment_slot.endswith(":ETH:1.25") and requoted.crypto_due == Decimal("1.25")

    services.invoices_settle_transfers()
    assert not InvoicePayment.objects.exists()  # the late transfer (before the re-quote) stays unapplied
    incoming_transfer(receiving_wallet, eth, "1.25", paid_at=timezone.now())
    assert services.invoices_settle_transfers().applied == 1
    paid = Invoice.objects.get(pk=invoice.pk)
    assert paid.status == "PAID" and paid.amount_paid == Decimal("2500")
    assert InvoicePayment.objects.get().external_id != late.external_id


def test_a_transfer_paid_while_the_quote_held_settles_after_expiry(manager, receiving_wallet, eth):
    invoice = issued_invoice(manager, receiving_wallet)
    paid_at = timezone.now()
    incoming_transfer(receiving_wallet, eth, "1", paid_at=paid_at)
    # The quote runs out just after the payment; the settlement task runs only after that.
    Invoice.objects.filter(pk=invoice.pk).update(crypto_valid_until=paid_at + dt.timedelta(milliseconds=5))
    assert services.invoices_settle_transfers().applied == 1
    assert Invoice.objects.get(pk=invoice.pk).status == "PAID"


def test_a_partly_paid_invoice_is_requoted_for_what_is_still_due(manager, receiving_wallet, eth):
    invoice = issued_invoice(manager, receiving_wallet)
    incoming_transfer(receiving_wallet, eth, "0.4", paid_at=timezone.now())  # 1000 USD of 2500
    services.invoices_settle_transfers()
    invoice = quote_expire(invoice)
    price_record(symbol="ETH", price=Decimal("3000"), fiat="USD", source=PriceSource.COINGECKO)
    requoted = services.invoice_requote(actor=manager, invoice=invoice)
    assert requoted.status == "PARTIALLY_PAID" and requoted.crypto_due == Decimal("0.5")  # 1500 USD at 3000


def test_only_managers_requote_and_only_open_crypto_invoices(manager, accountant_api, receiving_wallet, eth):
    invoice = quote_expire(issued_invoice(manager, receiving_wallet))
    with pytest.raises(DomainError) as refused:
        services.invoice_requote(actor=accountant_api.user, invoice=invoice)
    assert refused.value.code == "permission_denied"
    plain = services.invoice_issue(actor=manager, invoice=services.invoice_create(
        actor=manager, client_name="Initech", items=[item()]))
    with pytest.raises(DomainError) as no_terms:
        services.invoice_requote(actor=manager, invoice=plain)
    assert no_terms.value.code == "no_crypto_terms"
    cancelled = services.invoice_cancel(actor=manager, invoice=invoice)
    with pytest.raises(DomainError) as closed:
        services.invoice_requote(actor=manager, invoice=cancelled)
    assert closed.value.code == "invoice_not_open"


def test_the_pay_page_of_an_expired_quote_asks_for_a_new_one(manager, receiving_wallet, eth, client):
    invoice = quote_expire(issued_invoice(manager, receiving_wallet))
    page = client.get(f"/pay/{invoice.payment_token}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "quote expired" in text and "ethereum:" not in text
    services.invoice_requote(actor=manager, invoice=invoice)
    assert "ethereum:" in client.get(f"/pay/{invoice.payment_token}/status/").content.decode()


def test_the_pdf_of_an_expired_quote_offers_no_payment_request(manager, receiving_wallet, eth, tmp_path):
    invoice = quote_expire(issued_invoice(manager, receiving_wallet))
    text = pdf_text(documents.invoice_pdf(invoice), tmp_path)
    assert "expired" in text and "Pay in crypto" not in text and "ethereum:" not in text
