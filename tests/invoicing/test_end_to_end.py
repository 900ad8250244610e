"""End to end on anvil: create -> send (the mail arrives with the PDF) -> pay from another account ->
the monitor records the transfer -> settlement marks the invoice PAID once, the journal entries are
posted and the trial balance is zero."""

from decimal import Decimal

import pytest

from accounts.models import Notification, Role
from invoicing import services
from invoicing.models import InvoicePayment
from invoicing.services import documents
from ledger.models import FinancialAccount, JournalEntry
from ledger.selectors import account_balances
from ledger.transaction_journals import transaction_journals_sync
from tests.invoicing.conftest import item
from wallets import chain
from wallets.models import Transaction, WalletType
from wallets.monitoring import monitor_scan
from wallets.services import wallet_create, wallet_monitoring_enable

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]



def _mine(blocks):
    chain.web3_client().provider.make_request("anvil_mine", [hex(blocks)])


def _balances(organization):
    accounts = list(FinancialAccount.objects.filter(organization=organization))
    return {code: info["balance"] for code, info in
            account_balances(accounts, organization_id=organization.pk).items()}


@pytest.fixture
def shop(make_user, organization, eth, eth_node, settings):
    settings.ETH_CONFIRMATIONS = 2
    manager = make_user(Role.MANAGER)
    wallet = wallet_create(user=manager, name="Receivables", wallet_type=WalletType.PRIVATE_KEY)
    wallet_monitoring_enable(wallet=wallet)
    monitor_scan()  # catch up: only what happens next matters
    return manager, wallet


def _issue_and_send(manager, wallet, mailbox):
    draft = services.invoice_create(actor=manager, client_name="Globex Corp", client_email="ap@globex.test",
                                    items=[item(quantity="2", unit_price="150.00")], tax_rate=Decimal("20"),
                                    payment_wallet_id=wallet.pk, crypto_currency="ETH")
    invoice, emailed = documents.invoice_send(actor=manager, invoice=draft)
    assert emailed and len(mailbox) == 1
    assert any(p.get_content_type() == "application/pdf" for p in mailbox[0].walk())
    assert invoice.status == "SENT" and invoice.crypto_amount == Decimal("0.144")  # 360 USD at 2500
    return invoice


def _pay(invoice):
    tx_hash = chain.eth_send_from_dev_account(to=invoice.crypto_payment_address, account_index=3,
                                              amount_wei=chain.eth_to_wei(invoice.crypto_amount))
    _mine(3)
    report = monitor_scan()
    assert report.recorded == 1
    return tx_hash


def test_create_send_pay_settle_once_and_book(shop, organization, mailbox):
    manager, wallet = shop
    invoice = _issue_and_send(manager, wallet, mailbox)
    tx_hash = _pay(invoice)
    assert services.invoices_settle_transfers().applied == 1
    for _ in range(3):
        monitor_scan()
        assert services.invoices_settle_transfers().applied == 0
    transaction_journals_sync(organization=organization)  # the ledger's periodic sync books nothing twice
    invoice.refresh_from_db()
    assert invoice.status == "PAID" and invoice.amount_paid == Decimal("360") and invoice.paid_at
    payment = InvoicePayment.objects.get()
    assert payment.tx_hash == tx_hash and payment.external_id == Transaction.objects.get(hash=tx_hash).external_id
    assert Notification.objects.filter(user=manager, type="INVOICE", title__contains="is paid").count() == 1
    entries = JournalEntry.objects.filter(organization=organization, status="posted")
    assert entries.filter(reference=invoice.invoice_number).count() == 2  # issue and payment
    assert entries.filter(transaction_hash=tx_hash).count() == 1  # the payment's entry, once
    balances = _balances(organization)
    debit = sum((e.total_debit for e in entries), Decimal(0))
    credit = sum((e.total_credit for e in entries), Decimal(0))
    assert debit == credit  # the trial balance is zero
    assert balances["1300"] == 0  # receivable settled
    assert balances["1200-ETH"] == Decimal("360")  # the coins once, at fair value
    assert balances["3100"] == 0  # not booked as an owner contribution
    assert balances["4100"] == Decimal("300") and balances["2300"] == Decimal("60")
    page = documents.invoice_pdf(invoice)
    assert page.startswith(b"%PDF")

