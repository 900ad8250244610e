"""End to end on anvil: a transfer paid after the invoice's quote expired. Issue -> the quote runs out
-> pay the old amount from another account -> the monitor records the transfer -> settlement records
one unapplied payment (the invoice stays unpaid), staff are told once, however often it runs -> a
manager applies it through the API -> PAID once, the journal entry posted, the trial balance zero;
applying again is 409."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification, Role
from core.models import RealtimeEvent
from core.realtime import user_group
from invoicing import services
from invoicing.models import Invoice, InvoicePayment, UnappliedPayment
from ledger.models import FinancialAccount, JournalEntry
from ledger.selectors import account_balances
from ledger.transaction_journals import transaction_journals_sync
from tests.invoicing.conftest import Caller, item
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


def test_a_payment_after_the_quote_expired_is_recorded_once_then_applied(shop, organization, make_user,
                                                                         access_token_for, client):
    manager, wallet = shop
    admin = make_user(Role.ADMIN)
    accountant = make_user(Role.USER, is_accountant=True)
    draft = services.invoice_create(actor=manager, client_name="Globex Corp", items=[item(quantity="2", unit_price="150.00")],
                                    tax_rate=Decimal("20"), payment_wallet_id=wallet.pk, crypto_currency="ETH")
    invoice = services.invoice_issue(actor=manager, invoice=draft)
    assert invoice.crypto_amount == Decimal("0.144")  # 360 USD at 2500
    # The quote runs out (time is controlled by moving the validity, as the re-quote tests do): well
    # before the block that pays it, whatever the node's clock says (a shared anvil's may lag the wall
    # clock by more than a second: seen once, the payment then matched the quote).
    Invoice.objects.filter(pk=invoice.pk).update(crypto_valid_until=timezone.now() - dt.timedelta(hours=1))

    tx_hash = chain.eth_send_from_dev_account(to=wallet.address, account_index=4,
                                              amount_wei=chain.eth_to_wei(invoice.crypto_amount))
    _mine(3)
    assert monitor_scan().recorded == 1
    report = services.invoices_settle_transfers()
    assert (report.applied, report.unapplied) == (0, 1)
    for _ in range(3):  # the monitor and settlement run again: nothing doubles
        monitor_scan()
        assert services.invoices_settle_transfers().as_dict()["unapplied"] == 0

    row = UnappliedPayment.objects.get()
    transfer = Transaction.objects.get(hash=tx_hash)
    assert (row.invoice_id, row.transaction_id, row.external_id) == (invoice.pk, transfer.pk, transfer.external_id)
    assert (row.status, row.reason, row.amount, row.asset) == ("OPEN", "QUOTE_EXPIRED", Decimal("0.144"), "ETH")
    assert row.mined_at == transfer.transaction_date and row.seen_at
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert fresh.status == "SENT" and fresh.amount_paid == 0 and not InvoicePayment.objects.exists()

    # Staff (who may record invoice payments) are told once each, with a link to the invoice page,
    # pushed to their socket group after the commit; the accountant is not asked to decide.
    page = reverse("invoice-detail", args=[invoice.pk])
    for person in (manager, admin):
        notices = Notification.objects.filter(user=person, type="INVOICE", title__contains="Unapplied payment")
        assert notices.count() == 1 and notices.get().action_url == page
        pushed = RealtimeEvent.objects.filter(group=user_group(person.pk), event_type="notification.created")
        assert [e.payload["action_url"] for e in pushed if "Unapplied" in e.payload["title"]] == [page]
    assert not Notification.objects.filter(user=accountant, title__contains="Unapplied").exists()

    api = Caller(client, manager, access_token_for(manager))
    detail = api("get", f"/api/invoices/{invoice.pk}/").json()
    assert [(u["id"], u["status"], Decimal(u["amount"])) for u in detail["unapplied_payments"]] == [
        (str(row.pk), "OPEN", Decimal("0.144"))]

    applied = api("post", f"/api/invoices/{invoice.pk}/unapplied-payments/{row.pk}/apply/")
    assert applied.status_code == 200, applied.content
    body = applied.json()
    assert body["status"] == "PAID" and Decimal(body["amount_paid"]) == 360
    assert body["unapplied_payments"][0]["status"] == "APPLIED" and body["unapplied_payments"][0]["applied_rate"]
    again = api("post", f"/api/invoices/{invoice.pk}/unapplied-payments/{row.pk}/apply/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "unapplied_payment_not_open"
    for _ in range(2):
        monitor_scan()
        assert services.invoices_settle_transfers().applied == 0
    transaction_journals_sync(organization=organization)  # the ledger's own sync books nothing twice

    payment = InvoicePayment.objects.get()
    assert payment.external_id == transfer.external_id and payment.tx_hash == tx_hash and payment.recorded_by == manager
    assert UnappliedPayment.objects.get().payment_id == payment.pk
    assert Notification.objects.filter(type="INVOICE", title__contains="is paid").count() == 1
    entries = JournalEntry.objects.filter(organization=organization, status="posted")
    assert entries.filter(reference=invoice.invoice_number).count() == 2  # issue and payment
    assert entries.filter(transaction_hash=tx_hash).count() == 1
    debit = sum((e.total_debit for e in entries), Decimal(0))
    credit = sum((e.total_credit for e in entries), Decimal(0))
    assert debit == credit  # the trial balance is zero
    balances = _balances(organization)
    assert balances["1300"] == 0 and balances["1200-ETH"] == Decimal("360")
    assert balances["4100"] == Decimal("300") and balances["2300"] == Decimal("60")
