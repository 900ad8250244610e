"""kill -9 of the payroll worker at each step of a period's crypto payouts (terms fixed, intent
stored, before and after the broadcast, linked, confirmed but not yet paid, mid-batch of the
settlement), then the restart (send reconciler, payroll task) and the manager's retry: on chain
exactly one payment to each employee's address, of exactly the amount stored with the terms, and in
the books exactly one accrual per payslip and Payroll liabilities settled once (the ledger's salary
rule books each transfer; no double booking). With the gas borne by the employees, the fee charged
is the one stored before the kill, whatever the network's fees did meanwhile.
bench/payroll_chaos.py runs it many times."""

import os
import signal
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.db import connection

from ledger.models import JournalEntry
from payroll import services
from payroll.models import PaymentStatus, PayrollPeriod, PeriodStatus, Payslip
from payroll.services import crypto_payouts
from payroll.models import GasFeeBearer, PayrollSettings
from payroll.services.common import payroll_settings_get
from tests.payroll.conftest import balances
from tests.payroll.crypto_kit import approved_session, crypto_company, mine, payments_to, received_wei
from wallets.transfers import fee_quote
from wallets import chain
from wallets.models import OutgoingTransfer, TransferKind
from wallets.reconciler import sends_reconcile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]
CHILD = Path(__file__).with_name("payroll_crash_child.py")


def run_child(settings, *, mode: str, point: str, at: int, company, session):
    env = {**os.environ, "MONGODB_URI": settings.DATABASES["default"]["HOST"],
           "MONGODB_NAME": connection.settings_dict["NAME"], "ETH_RPC_URL": settings.ETH_RPC_URL,
           "ETH_CONFIRMATIONS": str(settings.ETH_CONFIRMATIONS), "HUEY_IMMEDIATE": "true", "LOG_TO_FILES": "false",
           "MODE": mode, "DIE": point, "DIE_AT": str(at), "USER_ID": str(company.team.manager.pk),
           "SESSION_ID": str(session.pk), "PERIOD_ID": str(company.period.pk), "WALLET_ID": str(company.wallet.pk)}
    return subprocess.run([sys.executable, str(CHILD)], env=env, cwd=settings.BASE_DIR, timeout=300,
                          capture_output=True, text=True)


def assert_paid_exactly_once(company, start_block: int):
    period = PayrollPeriod.objects.get(pk=company.period.pk)
    assert period.status == PeriodStatus.PAID
    slips = list(Payslip.objects.filter(period=period).order_by("payslip_id"))
    assert {s.payment_status for s in slips} == {PaymentStatus.PAID}
    for slip in slips:
        assert JournalEntry.objects.filter(source_key=f"payroll:{slip.pk}:accrual").count() == 1
        # bank and cash: their payment entry; crypto: the ledger's salary rule books the transfer, payroll
        # only the fee charged to the employee (nothing when the company bears the gas, rates equal)
        expected = 1 if slip.payment_method != "crypto" or slip.gas_fee_charged else 0
        assert JournalEntry.objects.filter(source_key=f"payroll:{slip.pk}:payment").count() == expected
    crypto = [s for s in slips if s.payment_method == "crypto"]
    for slip in crypto:
        assert payments_to(slip.wallet_address, company.wallet.address, start_block) == 1
        assert received_wei(slip.wallet_address) == chain.eth_to_wei(D(slip.payout_amount))
        assert D(slip.payout_amount) + D(slip.gas_fee_charged or 0) == D(slip.payout_net_amount)
        assert slip.payout_attempts == 1
    books = balances(company.team.organization.pk)
    assert sum(books.values(), D(0)) == 0
    withheld = sum((D(s.insurance) + D(s.employer_insurance) + D(s.other_deductions_total) for s in slips), D(0))
    assert books.get("2200", D(0)) == -withheld  # every net pay settled once: no double booking
    payouts = OutgoingTransfer.objects.filter(wallet=company.wallet, kind=TransferKind.PAYMENT)
    assert payouts.count() == len(crypto)
    nonces = sorted(payouts.values_list("nonce", flat=True))
    assert nonces == list(range(nonces[0], nonces[0] + len(crypto)))
    return len(crypto)


def restart_and_retry(company, session):
    """The restarted stack (reconciler, payroll task), the manager's retry of the call, blocks."""
    sends_reconcile()
    crypto_payouts.payroll_payouts_reconcile()
    period = PayrollPeriod.objects.get(pk=company.period.pk)
    if period.status != PeriodStatus.PAID:
        services.payroll_period_process(actor=company.team.manager, period=period, reference="chaos",
                                        session=session, wallet_id=company.wallet.pk)
    for _ in range(3):
        mine(3)
        sends_reconcile()
        crypto_payouts.payroll_payouts_reconcile()


@pytest.fixture
def company(team, make_user, eth_node, settings):
    settings.ETH_CONFIRMATIONS = 3
    return crypto_company(team, make_user)


@pytest.mark.parametrize("point,at", [("after_terms", 0), ("after_intent", 0), ("after_intent", 1),
                                      ("before_broadcast", 1), ("after_broadcast", 0), ("after_broadcast", 2),
                                      ("after_link", 1)])
def test_the_processing_worker_killed_at_each_step(company, settings, point, at):
    session, _ = approved_session(company.team.manager)
    start_block = chain.web3_client().eth.block_number
    child = run_child(settings, mode="process", point=point, at=at, company=company, session=session)
    assert child.returncode == -signal.SIGKILL, child.stderr[-3000:]
    restart_and_retry(company, session)
    assert assert_paid_exactly_once(company, start_block) == 3


@pytest.mark.parametrize("point,at", [("before_paid", 0), ("after_paid", 0), ("before_paid", 2)])
def test_the_settling_worker_killed_after_the_confirmations(company, settings, point, at):
    session, _ = approved_session(company.team.manager)
    start_block = chain.web3_client().eth.block_number
    services.payroll_period_process(actor=company.team.manager, period=company.period, reference="chaos",
                                    session=session, wallet_id=company.wallet.pk)
    mine(3)  # confirmed on chain; nobody has settled yet
    child = run_child(settings, mode="settle", point=point, at=at, company=company, session=session)
    assert child.returncode == -signal.SIGKILL, child.stderr[-3000:]
    restart_and_retry(company, session)
    assert assert_paid_exactly_once(company, start_block) == 3


@pytest.fixture
def gas_company(team, make_user, eth_node, settings):
    settings.ETH_CONFIRMATIONS = 3
    company = crypto_company(team, make_user)
    payroll_settings_get(team.organization.pk)
    PayrollSettings.objects.filter(organization_id=team.organization.pk).update(gas_fee_bearer=GasFeeBearer.EMPLOYEE)
    return company


@pytest.mark.parametrize("point,at", [("after_terms", 0), ("after_intent", 1), ("after_broadcast", 0)])
def test_gas_borne_by_the_employee_the_charged_fee_survives_a_kill(gas_company, settings, point, at):
    """The fee charged is stored with the terms before anything is signed: after a kill -9 and a
    change of the network's fees (a recomputed fee would differ), the retry sends the stored amount."""
    company = gas_company
    session, _ = approved_session(company.team.manager)
    start_block = chain.web3_client().eth.block_number
    child = run_child(settings, mode="process", point=point, at=at, company=company, session=session)
    assert child.returncode == -signal.SIGKILL, child.stderr[-3000:]
    crypto = list(Payslip.objects.filter(period=company.period, payment_method="crypto").order_by("payslip_id"))
    stored = {s.pk: (s.gas_fee_charged, s.payout_amount, s.gas_charge_max_fee_per_gas) for s in crypto}
    assert all(charged is not None and charged > 0 for charged, _, _ in stored.values())

    w3 = chain.web3_client()
    signed = list(OutgoingTransfer.objects.values_list("max_fee_per_gas", flat=True))
    ceiling = min([int(m) for m in signed] + [s.gas_charge_max_fee_per_gas for s in crypto])
    w3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(ceiling // 2)])  # still minable
    mine(1)
    assert fee_quote(w3)[0] not in {s.gas_charge_max_fee_per_gas for s in crypto}  # a new fee would differ

    restart_and_retry(company, session)
    assert assert_paid_exactly_once(company, start_block) == 3
    for slip in Payslip.objects.filter(pk__in=stored):
        assert (slip.gas_fee_charged, slip.payout_amount, slip.gas_charge_max_fee_per_gas) == stored[slip.pk]
        assert received_wei(slip.wallet_address) == chain.eth_to_wei(D(slip.payout_amount))
