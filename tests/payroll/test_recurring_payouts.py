"""The periodic task paying recurring payments on anvil: each due occurrence once (the 31st of the
month clamped, missed occurrences after downtime paid once each or skipped by the setting), never
twice however often it runs, paused schedules not paid, counters moved with the claim."""

import datetime as dt
from decimal import Decimal as D

import pytest
from eth_account import Account

from payroll import services
from payroll.models import MissedOccurrences, OccurrenceStatus, PayrollSettings, RecurringOccurrence, RecurringPayment
from payroll.tasks import recurring_payments
from tests.payroll.crypto_kit import crypto_company, mine, payments_to, received_wei
from wallets import chain
from wallets.models import OutgoingTransfer, Transaction
from wallets.reconciler import sends_reconcile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


@pytest.fixture
def company(team, make_user, eth_node, settings):
    settings.ETH_CONFIRMATIONS = 3
    return crypto_company(team, make_user, crypto_people=1, with_manual=False)


def _schedule(company, **fields):
    payment = services.recurring_payment_create(
        actor=company.team.manager, payment_name="Office rent", recipient_name="Landlord",
        recipient_wallet=Account.create().address, amount="0.25", cryptocurrency="ETH", frequency="MONTHLY",
        start_date=dt.date(2026, 1, 31), **fields)
    RecurringPayment.objects.filter(pk=payment.pk).update(wallet=company.wallet)
    payment.refresh_from_db()
    return payment


def test_missed_occurrences_are_paid_once_each(company):
    start_block = chain.web3_client().eth.block_number
    payment = _schedule(company)
    report = services.recurring_payments_pay(today=dt.date(2026, 3, 31))  # back after two months of downtime
    assert report["claimed"] == 3 and report["sent"] == 3
    for _ in range(3):  # the task again and again, the chain moving on
        services.recurring_payments_pay(today=dt.date(2026, 4, 15))
        mine(3)
        sends_reconcile()
    services.recurring_payments_pay(today=dt.date(2026, 4, 15))

    payment.refresh_from_db()
    assert payment.total_payments_made == 3 and payment.occurrences_claimed == 3
    assert payment.last_payment_date == dt.date(2026, 3, 31) and payment.next_payment_date == dt.date(2026, 4, 30)
    occurrences = list(RecurringOccurrence.objects.filter(payment=payment).order_by("index"))
    assert [o.due_date for o in occurrences] == [dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)]
    assert {o.status for o in occurrences} == {OccurrenceStatus.PAID}
    assert payments_to(payment.recipient_wallet, company.wallet.address, start_block) == 3
    assert received_wei(payment.recipient_wallet) == chain.eth_to_wei(D("0.75"))
    rows = Transaction.objects.filter(to_address=payment.recipient_wallet)
    assert rows.count() == 3 and set(rows.values_list("tax_category", flat=True)) == {"payment"}

    # The periodic task itself (huey, run inline by the tests) on the real date pays the rest once.
    before = OutgoingTransfer.objects.count()
    recurring_payments.call_local()
    recurring_payments.call_local()
    payment.refresh_from_db()
    assert payment.next_payment_date > dt.date.today()
    assert OutgoingTransfer.objects.count() - before == payment.total_payments_made - 3


def test_missed_occurrences_skipped_by_the_setting_and_paused_schedules(company):
    start_block = chain.web3_client().eth.block_number
    services.payroll_settings_get(company.team.organization.pk)
    PayrollSettings.objects.filter(organization=company.team.organization).update(
        missed_recurring=MissedOccurrences.SKIP)
    payment = _schedule(company)
    paused = _schedule(company)
    services.recurring_payment_set_active(actor=company.team.manager, payment=paused, is_active=False)

    services.recurring_payments_pay(today=dt.date(2026, 3, 31))
    services.recurring_payments_pay(today=dt.date(2026, 3, 31))
    mine(3)
    sends_reconcile()
    services.recurring_payments_pay(today=dt.date(2026, 3, 31))

    statuses = list(RecurringOccurrence.objects.filter(payment=payment).order_by("index").values_list("status", flat=True))
    assert statuses == [OccurrenceStatus.SKIPPED, OccurrenceStatus.SKIPPED, OccurrenceStatus.PAID]
    payment.refresh_from_db()
    assert payment.total_payments_made == 1 and payment.next_payment_date == dt.date(2026, 4, 30)
    assert payments_to(payment.recipient_wallet, company.wallet.address, start_block) == 1
    assert not RecurringOccurrence.objects.filter(payment=paused).exists()
    assert received_wei(paused.recipient_wallet) == 0

    # Resumed: the occurrences missed while paused follow the same rule (skipped but the latest).
    services.recurring_payment_set_active(actor=company.team.manager, payment=paused, is_active=True)
    services.recurring_payments_pay(today=dt.date(2026, 3, 31))
    assert RecurringOccurrence.objects.filter(payment=paused, status=OccurrenceStatus.PENDING).count() == 1
