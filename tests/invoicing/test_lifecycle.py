"""Services: gap-free numbers under concurrency, credit notes, the crypto quote with distinct amounts
per address, the overdue sweep, and settlement of recorded chain transfers (exact, under, over, two
invoices with the same amount, exactly once)."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from accounts.models import Notification, Role
from core.errors import DomainError
from invoicing import services
from invoicing.models import Invoice, InvoicePayment
from invoicing.services.payments import crypto_due
from ledger.models import JournalEntry
from ledger.selectors import account_balances
from ledger.models import FinancialAccount
from tests.invoicing.conftest import incoming_transfer, item
from wallets.models import Transaction


def _draft(actor, **fields):
    fields.setdefault("items", [item()])
    fields.setdefault("tax_rate", Decimal("20"))
    return services.invoice_create(actor=actor, client_name=fields.pop("client_name", "Globex"),
                                   client_email="ap@globex.test", **fields)


def _trial_balance_is_zero(organization) -> bool:
    entries = JournalEntry.objects.filter(organization=organization, status__in=("posted", "reversed"))
    debit = sum((e.total_debit for e in entries), Decimal(0))
    credit = sum((e.total_credit for e in entries), Decimal(0))
    return debit == credit


def _balance(organization, code):
    account = FinancialAccount.objects.get(organization=organization, account_code=code)
    return account_balances([account], organization_id=organization.pk)[code]["balance"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_get_exactly_one_to_n(make_user, organization):
    manager = make_user(Role.MANAGER)
    drafts = [_draft(manager, issue_date=dt.date(2026, 3, 1)) for _ in range(12)]
    errors, barrier = [], threading.Barrier(4)

    def worker(chunk):
        try:
            barrier.wait(timeout=30)
            for draft in chunk:
                services.invoice_issue(actor=manager, invoice=Invoice.objects.get(pk=draft.pk))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(drafts[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not errors, errors
    numbers = sorted(Invoice.objects.values_list("invoice_number", flat=True))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 13)]
    assert JournalEntry.objects.filter(reference__startswith="INV-2026-", status="posted").count() == 12


@pytest.mark.django_db
def test_a_failed_issue_takes_no_number(make_user, organization, receiving_wallet):
    from wallets.models import Cryptocurrency

    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})  # no price stored
    manager = make_user(Role.MANAGER)
    first = _draft(manager)
    services.invoice_issue(actor=manager, invoice=first)
    no_price = _draft(manager, payment_wallet_id=receiving_wallet.pk, crypto_currency="ETH")  # ETH without a price
    with pytest.raises(DomainError) as refused:
        services.invoice_issue(actor=manager, invoice=no_price)
    assert refused.value.code == "no_price"
    third = services.invoice_issue(actor=manager, invoice=_draft(manager))
    year = timezone.now().year
    assert third.invoice_number == f"INV-{year}-000002"
    no_price.refresh_from_db()
    assert no_price.status == "DRAFT" and no_price.invoice_number is None


@pytest.mark.django_db
def test_credit_note_reverses_and_reduces_what_is_due(make_user, organization):
    manager = make_user(Role.MANAGER)
    invoice = services.invoice_issue(actor=manager, invoice=_draft(manager, items=[
        item(quantity="1", unit_price="100"), item(description="Extra", quantity="1", unit_price="50")]))
    assert invoice.total_amount == Decimal("180.00")
    note = services.credit_note_create(actor=manager, invoice=invoice, items=[item(description="Extra", quantity="1",
                                                                                     unit_price="50")])
    assert note.kind == "CREDIT_NOTE" and note.invoice_number.startswith("CN-")
    assert note.total_amount == Decimal("-60.00") and note.credit_note_of_id == invoice.pk
    invoice.refresh_from_db()
    assert invoice.credited_amount == Decimal("60.00") and invoice.amount_due == Decimal("120.00")
    lines = {(l.account_code, l.debit_amount, l.credit_amount) for l in note.issue_entry.line_items}
    assert lines == {("4100", Decimal("50"), Decimal("0")), ("2300", Decimal("10"), Decimal("0")),
                     ("1300", Decimal("0"), Decimal("60"))}
    with pytest.raises(DomainError) as refused:
        services.credit_note_create(actor=manager, invoice=invoice, items=[item(quantity="1", unit_price="500")])
    assert refused.value.code == "nothing_to_credit"
    with pytest.raises(DomainError):
        services.credit_note_create(actor=manager, invoice=invoice)  # "every item" again: name them instead
    services.credit_note_create(actor=manager, invoice=invoice, items=[item(quantity="1", unit_price="100")])
    invoice.refresh_from_db()
    assert invoice.status == "CANCELLED" and invoice.amount_due == 0
    assert _balance(organization, "1300") == 0 and _trial_balance_is_zero(organization)


@pytest.mark.django_db
def test_overdue_sweep_marks_once_and_notifies(make_user, organization):
    manager = make_user(Role.MANAGER)
    past = timezone.now().date() - dt.timedelta(days=40)
    invoice = services.invoice_issue(actor=manager, invoice=_draft(manager, issue_date=past,
                                                                   due_date=past + dt.timedelta(days=10)))
    current = services.invoice_issue(actor=manager, invoice=_draft(manager))
    assert services.invoices_mark_overdue() == 1
    assert services.invoices_mark_overdue() == 0
    invoice.refresh_from_db()
    current.refresh_from_db()
    assert invoice.status == "OVERDUE" and current.status == "SENT"
    assert Notification.objects.filter(user=manager, type="INVOICE").count() == 1
    paid = services.invoice_status_set(actor=manager, invoice=invoice, status="PAID")  # paid late
    assert paid.status == "PAID"


# --- crypto terms and settlement ------------------------------------------------------------------

def _crypto_invoice(manager, wallet, unit_price="1250.00", quantity="2", tax_rate=Decimal("0")):
    draft = _draft(manager, items=[item(quantity=quantity, unit_price=unit_price)], tax_rate=tax_rate,
                   payment_wallet_id=wallet.pk, crypto_currency="ETH")
    return services.invoice_issue(actor=manager, invoice=draft)




@pytest.mark.django_db
def test_issue_quotes_the_rate_and_two_open_invoices_never_ask_the_same_amount(manager, receiving_wallet, eth):
    first = _crypto_invoice(manager, receiving_wallet)
    assert first.crypto_rate == Decimal("2500") and first.crypto_rate_source == "coingecko"
    assert first.crypto_amount == Decimal("1") and first.crypto_valid_until > first.crypto_rate_at
    second = _crypto_invoice(manager, receiving_wallet)
    assert second.crypto_amount == Decimal("1.00000001")  # nudged by dust: distinct on the same address
    assert first.payment_token and first.payment_token != second.payment_token and len(first.payment_token) >= 32


@pytest.mark.django_db
def test_exact_payments_settle_the_matching_invoice_once(manager, receiving_wallet, eth, organization):
    first = _crypto_invoice(manager, receiving_wallet)
    second = _crypto_invoice(manager, receiving_wallet)
    incoming_transfer(receiving_wallet, eth, "1.00000001")  # exactly the second's amount
    report = services.invoices_settle_transfers()
    assert report.applied == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.status == "PAID" and first.status == "SENT" and second.amount_paid == Decimal("2500")
    assert services.invoices_settle_transfers().applied == 0  # exactly once
    assert InvoicePayment.objects.count() == 1
    assert Notification.objects.filter(user=manager, type="INVOICE").count() == 1
    payment = InvoicePayment.objects.get()
    lines = {(l.account_code, l.debit_amount, l.credit_amount) for l in payment.journal_entry.line_items}
    # fair value 1.00000001 x 2500 = 2500.000025 -> 2500.00: no exchange difference
    assert lines == {("1200-ETH", Decimal("2500"), Decimal("0")), ("1300", Decimal("0"), Decimal("2500"))}
    (asset_line,) = [l for l in payment.journal_entry.line_items if l.account_code == "1200-ETH"]
    assert asset_line.asset == "ETH" and asset_line.quantity == Decimal("1.00000001")
    assert payment.journal_entry.transaction_hash == payment.tx_hash and payment.journal_entry.reference == \
        second.invoice_number
    assert _trial_balance_is_zero(organization)


@pytest.mark.django_db
def test_underpayment_leaves_the_rest_open_then_overpayment_is_recorded(manager, receiving_wallet, eth):
    invoice = _crypto_invoice(manager, receiving_wallet)  # 2500 USD = 1 ETH
    incoming_transfer(receiving_wallet, eth, "0.4")
    services.invoices_settle_transfers()
    invoice.refresh_from_db()
    assert invoice.status == "PARTIALLY_PAID" and invoice.amount_paid == Decimal("1000") and \
        invoice.amount_due == Decimal("1500")
    assert crypto_due(invoice) == Decimal("0.6")
    incoming_transfer(receiving_wallet, eth, "0.7")
    services.invoices_settle_transfers()
    invoice.refresh_from_db()
    assert invoice.status == "PAID" and invoice.amount_paid == Decimal("2500")
    assert invoice.overpaid_amount == Decimal("250") and invoice.crypto_received == Decimal("1.1")
    over = InvoicePayment.objects.get(crypto_amount=Decimal("0.7"))
    lines = {(l.account_code, l.debit_amount, l.credit_amount) for l in over.journal_entry.line_items}
    assert lines == {("1200-ETH", Decimal("1750"), Decimal("0")), ("1300", Decimal("0"), Decimal("1500")),
                     ("2100", Decimal("0"), Decimal("250"))}


@pytest.mark.django_db
def test_exchange_difference_goes_to_fx_gains_or_losses(manager, receiving_wallet, eth, organization):
    from wallets.models import PriceSource
    from wallets.prices import price_record

    invoice = _crypto_invoice(manager, receiving_wallet)  # quoted at 2500
    price_record(symbol="ETH", price=Decimal("2400"), fiat="USD", day=timezone.now().date(),
                 source=PriceSource.COINGECKO)  # the day's price at receipt
    incoming_transfer(receiving_wallet, eth, "1")
    services.invoices_settle_transfers()
    payment = InvoicePayment.objects.get(invoice=invoice)
    assert payment.fair_value == Decimal("2400") and payment.fx_difference == Decimal("-100")
    lines = {(l.account_code, l.debit_amount, l.credit_amount) for l in payment.journal_entry.line_items}
    assert lines == {("1200-ETH", Decimal("2400"), Decimal("0")), ("5500", Decimal("100"), Decimal("0")),
                     ("1300", Decimal("0"), Decimal("2500"))}
    assert _balance(organization, "1300") == 0


@pytest.mark.django_db
def test_a_transfer_before_the_invoice_or_in_another_asset_is_not_matched(manager, receiving_wallet, eth):
    early = incoming_transfer(receiving_wallet, eth, "1")
    Transaction.objects.filter(pk=early.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    invoice = _crypto_invoice(manager, receiving_wallet)
    report = services.invoices_settle_transfers()
    invoice.refresh_from_db()
    assert report.applied == 0 and invoice.status == "SENT"


@pytest.mark.django_db
def test_cancelled_or_paid_invoices_release_their_amount(manager, receiving_wallet, eth):
    first = _crypto_invoice(manager, receiving_wallet)
    services.invoice_cancel(actor=manager, invoice=first)
    again = _crypto_invoice(manager, receiving_wallet)
    assert again.crypto_amount == Decimal("1")  # the cancelled invoice no longer holds 1 ETH on the address
