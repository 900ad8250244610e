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
from tests.invoicing.conftest import item
from tests.invoicing.test_documents import pdf_text
from wallets.models import (
    PriceSource,
    Transaction,
    TransactionSource,
    TransactionStatus,
    TransactionType,
    TransferDirection,
)
from wallets.prices import price_record

pytestmark = pytest.mark.django_db
_numbers = iter(range(1, 10_000))


def _issued(manager, wallet):
    draft = services.invoice_create(actor=manager, client_name="Globex", items=[item(quantity="2", unit_price="1250.00")],
                                    payment_wallet_id=wallet.pk, crypto_currency="ETH")
    return services.invoice_issue(actor=manager, invoice=draft)  # 2500 USD = 1 ETH at 2500


def _incoming(wallet, eth, amount, *, paid_at):
    tx_hash = "0x" + f"{next(_numbers):064x}"
    return Transaction.objects.create(
        transaction_type=TransactionType.TRANSFER, user=wallet.user, organization=wallet.organization, wallet=wallet,
        cryptocurrency=eth, amount=Decimal(amount), transaction_date=paid_at, hash=tx_hash,
        from_address="0x0000000000000000000000000000000000000001", to_address=wallet.address,
        source=TransactionSource.CHAIN, external_id=f"chain:{tx_hash}:-1:{wallet.address}",
        direction=TransferDirection.IN, status=TransactionStatus.CONFIRMED)


def _expire(invoice):
    Invoice.objects.filter(pk=invoice.pk).update(crypto_valid_until=timezone.now() - dt.timedelta(seconds=1))
    return Invoice.objects.get(pk=invoice.pk)


def test_a_requote_is_refused_while_the_quote_holds(manager, receiving_wallet, eth):
    invoice = _issued(manager, receiving_wallet)
    with pytest.raises(DomainError) as refused:
        services.invoice_requote(actor=manager, invoice=invoice)
    assert refused.value.code == "quote_not_expired" and refused.value.details["valid_until"]


def test_a_transfer_after_expiry_is_not_matched_then_the_requote_is(manager, receiving_wallet, eth):
    invoice = _expire(_issued(manager, receiving_wallet))
    late = _incoming(receiving_wallet, eth, "1", paid_at=timezone.now())  # the old amount, after expiry
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
    _incoming(receiving_wallet, eth, "1.25", paid_at=timezone.now())
    assert services.invoices_settle_transfers().applied == 1
    paid = Invoice.objects.get(pk=invoice.pk)
    assert paid.status == "PAID" and paid.amount_paid == Decimal("2500")
    assert InvoicePayment.objects.get().external_id != late.external_id


def test_a_transfer_paid_while_the_quote_held_settles_after_expiry(manager, receiving_wallet, eth):
    invoice = _issued(manager, receiving_wallet)
    paid_at = timezone.now()
    _incoming(receiving_wallet, eth, "1", paid_at=paid_at)
    # The quote runs out just after the payment; the settlement task runs only after that.
    Invoice.objects.filter(pk=invoice.pk).update(crypto_valid_until=paid_at + dt.timedelta(milliseconds=5))
    assert services.invoices_settle_transfers().applied == 1
    assert Invoice.objects.get(pk=invoice.pk).status == "PAID"


def test_a_partly_paid_invoice_is_requoted_for_what_is_still_due(manager, receiving_wallet, eth):
    invoice = _issued(manager, receiving_wallet)
    _incoming(receiving_wallet, eth, "0.4", paid_at=timezone.now())  # 1000 USD of 2500
    services.invoices_settle_transfers()
    invoice = _expire(invoice)
    price_record(symbol="ETH", price=Decimal("3000"), fiat="USD", source=PriceSource.COINGECKO)
    requoted = services.invoice_requote(actor=manager, invoice=invoice)
    assert requoted.status == "PARTIALLY_PAID" and requoted.crypto_due == Decimal("0.5")  # 1500 USD at 3000


def test_only_managers_requote_and_only_open_crypto_invoices(manager, accountant_api, receiving_wallet, eth):
    invoice = _expire(_issued(manager, receiving_wallet))
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
    invoice = _expire(_issued(manager, receiving_wallet))
    page = client.get(f"/pay/{invoice.payment_token}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "quote expired" in text and "ethereum:" not in text
    services.invoice_requote(actor=manager, invoice=invoice)
    assert "ethereum:" in client.get(f"/pay/{invoice.payment_token}/status/").content.decode()


def test_the_pdf_of_an_expired_quote_offers_no_payment_request(manager, receiving_wallet, eth, tmp_path):
    invoice = _expire(_issued(manager, receiving_wallet))
    text = pdf_text(documents.invoice_pdf(invoice), tmp_path)
    assert "expired" in text and "Pay in crypto" not in text and "ethereum:" not in text
