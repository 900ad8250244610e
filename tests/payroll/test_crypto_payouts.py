"""Crypto payslips paid on chain exactly once (anvil): the API with the confirm-password rule, the
batch's consecutive nonces, the exact net amounts received, the retry that sends nothing new, paid
only after the confirmations, the books (accrual, payment, the automatic journal's disposal, trial
balance at zero), the unfunded batch that pays nothing, and the failed payout retried only by
process-payment."""

from decimal import Decimal as D

import pytest
from django.db.models import Q

from accounts.models import Notification
from ledger.models import JournalEntry
from payroll import services
from payroll.models import PaymentStatus, PayrollPeriod, PeriodStatus, Payslip
from payroll.services import crypto_payouts
from tests.payroll.conftest import balances
from tests.payroll.crypto_kit import (ETH_PRICE, PASSWORD, approved_session, crypto_company, mine, payments_to,
                                      received_wei)
from wallets import chain
from wallets.models import OutgoingTransfer, Transaction, TransferStatus
from wallets.reconciler import sends_reconcile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


@pytest.fixture
def company(team, make_user, eth_node, settings):
    settings.ETH_CONFIRMATIONS = 3
    return crypto_company(team, make_user)


def _crypto_slips(period):
    return list(Payslip.objects.filter(period=period, payment_method="crypto").order_by("payslip_id"))


def test_a_period_paid_in_crypto_through_the_api(company, api_as):
    manager = api_as(company.team.manager)
    path = f"/api/payroll/periods/{company.period.pk}/process/"
    body = {"reference": "BATCH-1", "wallet_id": str(company.wallet.pk)}

    refused = manager("POST", path, body)  # the session is not approved by password yet
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "session_not_approved"
    assert not OutgoingTransfer.objects.exists()
    assert not Payslip.objects.filter(period=company.period).exclude(payment_status="pending").exists()

    assert manager("POST", "/api/auth/confirm-password/", {"password": PASSWORD}).status_code == 200
    answer = manager("POST", path, body)
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert {p["employee_name"] for p in data["paid"]} == {"Alice Archer", "Bob Baker"}  # bank and cash
    processing = data["processing"]
    assert len(processing) == 3 and not data["failed"]
    nonces = [p["payout_nonce"] for p in processing]
    assert nonces == list(range(nonces[0], nonces[0] + 3))  # one wallet, consecutive, in payslip order
    assert {p["payout_status"] for p in processing} == {"BROADCAST"}
    assert data["period"]["status"] == "processing"

    # A retry of the call sends the stored transactions again: nothing new is signed.
    again = manager("POST", path, body)
    assert again.status_code == 200
    assert [p["payment_transaction_hash"] for p in again.json()["processing"]] == \
        [p["payment_transaction_hash"] for p in processing]
    assert OutgoingTransfer.objects.count() == 3

    # Not paid before the confirmations (anvil mines a block per transaction: the last send has one).
    sends_reconcile()
    assert Payslip.objects.get(pk=processing[-1]["id"]).payment_status == "processing"
    mine(3)
    sends_reconcile()  # settles the sends; wallets' signal settles the payslips

    period = PayrollPeriod.objects.get(pk=company.period.pk)
    assert period.status == PeriodStatus.PAID
    for slip in _crypto_slips(period):
        assert slip.payment_status == PaymentStatus.PAID
        _, address = next(v for v in company.employees.values() if v[1] == slip.wallet_address)
        expected = (D(slip.net_salary) / ETH_PRICE).quantize(D("1e-18"))
        assert D(slip.payout_amount) == expected and D(slip.payout_rate) == ETH_PRICE
        assert received_wei(address) == chain.eth_to_wei(expected)  # exactly the net pay
        assert payments_to(address, company.wallet.address) == 1
        assert slip.gas_fee > 0 and slip.payout_transfer.status == TransferStatus.CONFIRMED
        assert slip.payment_transaction_hash == slip.payout_transfer.tx_hash
        assert slip.accrual_entry_id and slip.gas_fee_bearer == "company" and slip.gas_fee_charged is None
        assert D(slip.payout_net_amount) == D(slip.payout_amount)
        row = Transaction.objects.get(pk=slip.payout_transfer.transaction_id)
        assert row.tax_category == "salary" and row.status == "CONFIRMED"  # a disposal; the ledger's salary rule
        assert Notification.objects.filter(user=slip.employee, type="PAYROLL").exists()

    # The books: every entry balances; each payout is booked once, by the ledger's salary rule (Dr
    # Payroll liabilities at the day's value = the processing rate here, Cr ETH at cost, the gas to
    # Gas fees); payroll posts no settling entry of its own (nothing left to settle), so Payroll
    # liabilities keep only the withheld insurance and General expenses is untouched.
    books = balances(company.team.organization.pk)
    assert sum(books.values(), D(0)) == 0
    gas_value = sum((D(s.gas_fee) for s in _crypto_slips(period)), D(0)) * ETH_PRICE
    withheld = sum((D(s.insurance) + D(s.employer_insurance) + D(s.other_deductions_total)
                    for s in Payslip.objects.filter(period=period)), D(0))
    assert books.get("2200", D(0)) == -withheld  # the net pay is settled; only the insurance is still owed
    assert gas_value > 0 and abs(books.get("5300", D(0)) - gas_value) < D("0.0001")
    assert books.get("5100", D(0)) == 0 and books.get("5400", D(0)) == 0 and books.get("4300", D(0)) == 0
    auto = JournalEntry.objects.filter(source_key__startswith="auto:", transaction_hash__in=[
        s.payment_transaction_hash for s in _crypto_slips(period)])
    assert auto.count() == 3  # the automatic journal of each payout: the salary rule
    for entry in auto:
        liability = [l for l in entry.line_items if l.account_code == "2200"]
        slip = next(s for s in _crypto_slips(period) if s.payment_transaction_hash == entry.transaction_hash)
        assert [D(l.debit_amount) for l in liability] == [D(slip.net_salary)]
    manual_net = sum((D(s.net_salary) for s in Payslip.objects.filter(period=period, payment_method__in=("bank", "cash"))),
                     D(0))
    entries = JournalEntry.objects.filter(Q(source_key__startswith="payroll:") & Q(source_key__endswith=":payment"))
    assert entries.count() == 2  # bank and cash; the crypto payouts needed no difference entry
    assert sum((D(line.debit_amount) for e in entries for line in e.line_items), D(0)) == manual_net
    assert all(s.payment_entry_id is None for s in _crypto_slips(period))


def test_a_batch_the_wallet_cannot_fund_pays_nothing(team, make_user, eth_node, settings):
    settings.ETH_CONFIRMATIONS = 3
    company = crypto_company(team, make_user, fund_eth=D("2"))  # the three net pays are worth > 4 ETH
    session, _ = approved_session(team.manager)
    with pytest.raises(Exception) as exc:
        services.payroll_period_process(actor=team.manager, period=company.period, reference="B-1",
                                        session=session, wallet_id=company.wallet.pk)
    assert exc.value.code == "insufficient_funds" and exc.value.details["short"][0]["asset"] == "ETH"
    assert not OutgoingTransfer.objects.exists()
    assert set(Payslip.objects.filter(period=company.period).values_list("payment_status", flat=True)) == {"pending"}
    assert not JournalEntry.objects.filter(source_key__startswith="payroll:").exists()  # bank/cash unpaid too


def test_crypto_needs_a_company_wallet(company):
    session, _ = approved_session(company.team.manager)
    with pytest.raises(Exception) as exc:
        services.payroll_period_process(actor=company.team.manager, period=company.period, reference="B-1",
                                        session=session)
    assert exc.value.code == "payout_wallet_required"
    assert not OutgoingTransfer.objects.exists()


def test_terms_are_fixed_once_and_a_reused_intent_key_pays_nothing_more(company):
    """A retry after the price moved sends the stored amount; an intent key reused for another
    amount is refused by wallets (idempotency_key_reused) and the payslip fails instead of paying twice."""
    from wallets.prices import price_record

    manager = company.team.manager
    session, _ = approved_session(manager)
    first, second = _crypto_slips(company.period)[:2]
    services.payslip_payment_process(actor=manager, payslip=first, session=session, wallet_id=company.wallet.pk)
    first.refresh_from_db()
    amount = first.payout_amount
    price_record(symbol="ETH", price=ETH_PRICE * 2, fiat=company.team.organization.reporting_fiat,
                 organization=company.team.organization)
    services.payslip_payment_process(actor=manager, payslip=first, session=session)  # processing: resent as is
    first.refresh_from_db()
    assert first.payout_amount == amount and OutgoingTransfer.objects.count() == 1

    services.payslip_payment_process(actor=manager, payslip=second, session=session, wallet_id=company.wallet.pk)
    second.refresh_from_db()
    # Someone changes the stored terms under the same intent key and the send is tried again.
    Payslip.objects.filter(pk=second.pk).update(payout_amount=second.payout_amount * 2, payout_transfer=None)
    crypto_payouts.crypto_payouts_send(payslips=[second])
    second.refresh_from_db()
    assert second.payment_status == PaymentStatus.FAILED and "different request" in second.payout_error
    assert OutgoingTransfer.objects.count() == 2


def test_a_failed_payout_is_paid_again_only_by_process_payment(company):
    manager = company.team.manager
    session, _ = approved_session(manager)
    slip = _crypto_slips(company.period)[0]
    plan = crypto_payouts.crypto_payouts_plan(actor=manager, session=session, period=company.period,
                                              payslips=[slip], wallet_id=company.wallet.pk)
    crypto_payouts.crypto_payouts_commit(plan)
    # The funds leave the wallet between the check and the send.
    w3 = chain.web3_client()
    balance = w3.eth.get_balance(company.wallet.address)
    from wallets.transfers import payout_send
    payout_send(organization_id=company.wallet.organization_id, wallet=company.wallet, to="0x000000000000000000000000000000000000bEEF", amount=chain.wei_to_eth(balance - 10 ** 16),
                intent_key="drain", requested_by=manager)
    crypto_payouts.crypto_payouts_send(payslips=[slip])
    slip.refresh_from_db()
    assert slip.payment_status == PaymentStatus.FAILED and slip.payout_transfer_id is None
    assert slip.payout_error

    # Neither the period's processing nor the task pays it again.
    crypto_payouts.payroll_payouts_reconcile()
    chain.eth_send_from_dev_account(to=company.wallet.address, amount_wei=chain.eth_to_wei(D("10")))
    services.payroll_period_process(actor=manager, period=company.period, reference="B-1", session=session,
                                    wallet_id=company.wallet.pk)  # pays the others
    slip.refresh_from_db()
    assert slip.payment_status == PaymentStatus.FAILED

    retried = services.payslip_payment_process(actor=manager, payslip=slip, session=session)
    assert retried.payment_status == PaymentStatus.PROCESSING and retried.payout_attempts == 2
    assert retried.payout_intent_key.endswith(":2")
    mine(3)
    sends_reconcile()
    retried.refresh_from_db()
    assert retried.payment_status == PaymentStatus.PAID
    address = retried.wallet_address
    assert payments_to(address, company.wallet.address) == 1
    assert received_wei(address) == chain.eth_to_wei(D(retried.payout_amount))
