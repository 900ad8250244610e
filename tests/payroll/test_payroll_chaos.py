"""kill -9 of the payroll worker at each step of a period's crypto payouts (terms fixed, intent
stored, before and after the broadcast, linked, confirmed but not yet paid, mid-batch of the
settlement), then the restart (send reconciler, payroll task) and the manager's retry: on chain
exactly one payment to each employee's address, of exactly the net pay, and in the books exactly
one accrual and one payment entry per payslip. bench/payroll_chaos.py runs it many times."""

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
from tests.payroll.crypto_kit import approved_session, crypto_company, mine, payments_to, received_wei
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
        assert JournalEntry.objects.filter(source_key=f"payroll:{slip.pk}:payment").count() == 1
    crypto = [s for s in slips if s.payment_method == "crypto"]
    for slip in crypto:
        assert payments_to(slip.wallet_address, company.wallet.address, start_block) == 1
        assert received_wei(slip.wallet_address) == chain.eth_to_wei(D(slip.payout_amount))
        assert slip.payout_attempts == 1
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
