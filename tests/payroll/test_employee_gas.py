"""Gas borne by the employee, on anvil: the fee is fixed with the terms (gas limit x max fee per gas,
in the payout asset), stored before anything is signed and deducted from the amount sent; the chain
carries exactly net - fee; the payslip (API and PDF) shows the fee line and the amount sent; the books
settle the liability (the ledger's salary rule + the fee charged), the company keeps actual - charged
in Gas fees. For a token the ETH fee is converted at the stored rates (no ETH rate: refused before
signing). A batch where one net pay does not cover its fee pays nothing. And one salary rule: a
day's price different from the processing rate leaves Payroll liabilities settled, the difference in
Realised exchange gains or losses."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db.models import Q
from django.utils import timezone
from eth_account import Account

from ledger.models import JournalEntry
from payroll import services
from payroll.models import GasFeeBearer, PaymentStatus, PayrollPeriod, PayrollSettings, PeriodStatus, Payslip
from payroll.services.common import payroll_settings_get
from tests.payroll.conftest import balances
from tests.payroll.crypto_kit import (ETH_PRICE, PASSWORD, approved_session, crypto_company, mine, payments_to,
                                      received_wei)
from tests.payroll.test_documents import pdf_text
from wallets import chain
from wallets.erc20 import erc20_balance, erc20_deploy_demo_token, erc20_mint_demo
from wallets.models import Cryptocurrency, OutgoingTransfer, PriceQuote
from wallets.monitoring import monitor_scan
from wallets.prices import price_record
from wallets.reconciler import sends_reconcile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

WEI = D(10) ** 18


def employee_bears_gas(organization_id):
    payroll_settings_get(organization_id)
    PayrollSettings.objects.filter(organization_id=organization_id).update(gas_fee_bearer=GasFeeBearer.EMPLOYEE)


def crypto_slips(period):
    return list(Payslip.objects.filter(period=period, payment_method="crypto").order_by("payslip_id"))


def withheld(period) -> D:
    return sum((D(s.insurance) + D(s.employer_insurance) + D(s.other_deductions_total)
                for s in Payslip.objects.filter(period=period)), D(0))


def settle():
    for _ in range(2):
        mine(3)
        sends_reconcile()


@pytest.fixture
def company(team, make_user, eth_node, settings):
    settings.ETH_CONFIRMATIONS = 3
    company = crypto_company(team, make_user)
    employee_bears_gas(team.organization.pk)
    return company


def test_eth_payouts_with_the_gas_borne_by_the_employees(company, api_as, tmp_path):
    manager = api_as(company.team.manager)
    assert manager("POST", "/api/auth/confirm-password/", {"password": PASSWORD}).status_code == 200
    answer = manager("POST", f"/api/payroll/periods/{company.period.pk}/process/",
                     {"reference": "B-1", "wallet_id": str(company.wallet.pk)})
    assert answer.status_code == 200, answer.content
    processing = answer.json()["processing"]
    assert len(processing) == 3
    for out in processing:  # the API shows the fee and the amount sent, fixed before signing
        assert out["gas_fee_bearer"] == "employee" and out["gas_charge_limit"] == 21000
        charged = D(out["gas_fee_charged"])
        assert charged == D(out["gas_charge_limit"] * out["gas_charge_max_fee_per_gas"]) / WEI
        assert D(out["payout_amount"]) + charged == D(out["payout_net_amount"])
        assert D(out["payout_net_amount"]) == (D(out["net_salary"]) / ETH_PRICE).quantize(D("1e-18"))
        assert D(out["gas_fee_charged_fiat"]) == (charged * ETH_PRICE).quantize(D("1e-8"))  # the books' precision
    settle()

    period = PayrollPeriod.objects.get(pk=company.period.pk)
    assert period.status == PeriodStatus.PAID
    charged_fiat = D(0)
    for slip in crypto_slips(period):
        assert slip.payment_status == PaymentStatus.PAID
        transfer = slip.payout_transfer
        # The chain carries exactly net - fee, once; the signed transaction is the stored terms' amount.
        assert received_wei(slip.wallet_address) == int(D(slip.payout_amount) * WEI)
        assert int(D(slip.payout_amount) * WEI) + int(D(slip.gas_fee_charged) * WEI) == int(D(slip.payout_net_amount) * WEI)
        assert payments_to(slip.wallet_address, company.wallet.address) == 1
        assert D(transfer.amount) == D(slip.payout_amount) and transfer.gas_limit == slip.gas_charge_limit
        assert slip.gas_fee == transfer.fee and slip.gas_fee > 0  # the actual fee, recorded at confirmation
        charged_fiat += D(slip.gas_fee_charged_fiat)
        entry = JournalEntry.objects.get(source_key=f"payroll:{slip.pk}:payment")
        assert [(l.account_code, D(l.debit_amount), D(l.credit_amount)) for l in entry.line_items] == [
            ("2200", D(slip.gas_fee_charged_fiat), 0), ("5300", 0, D(slip.gas_fee_charged_fiat))]

    # The books: the net pay owed is settled (the coins by the ledger's salary rule, the fee charged by
    # payroll's entry); Gas fees keeps the actual gas less what the employees were charged.
    books = balances(company.team.organization.pk)
    assert sum(books.values(), D(0)) == 0
    assert books.get("2200", D(0)) == -withheld(period)
    actual = sum((D(s.gas_fee) for s in crypto_slips(period)), D(0)) * ETH_PRICE
    assert abs(books.get("5300", D(0)) - (actual - charged_fiat)) < D("0.0000001")
    assert books.get("5100", D(0)) == 0 and books.get("4400", D(0)) == 0 and books.get("5500", D(0)) == 0

    slip = crypto_slips(period)[0]
    text = pdf_text(services.payslip_pdf(slip), tmp_path)
    assert "Network fee (borne by you)" in text and "Amount sent" in text
    assert f"{D(slip.payout_amount).normalize():f}".rstrip("0")[:8] in text.replace(",", "")


def test_a_net_pay_below_its_fee_pays_nothing_for_the_whole_batch(company):
    slip = crypto_slips(company.period)[1]
    Payslip.objects.filter(pk=slip.pk).update(net_salary=D("0.02"))  # 0.00001 ETH: less than 21,000 gas
    session, _ = approved_session(company.team.manager)
    with pytest.raises(Exception) as exc:
        services.payroll_period_process(actor=company.team.manager, period=company.period, reference="B-1",
                                        session=session, wallet_id=company.wallet.pk)
    assert exc.value.code == "gas_exceeds_net_pay" and slip.payslip_id in exc.value.message
    assert not OutgoingTransfer.objects.exists()
    assert set(Payslip.objects.filter(period=company.period).values_list("payment_status", flat=True)) == {"pending"}
    assert not JournalEntry.objects.filter(source_key__startswith="payroll:").exists()
    assert not Payslip.objects.filter(period=company.period).exclude(gas_fee_charged=None).exists()


def test_the_api_answers_422_for_the_shortfall(company, api_as):
    Payslip.objects.filter(pk=crypto_slips(company.period)[0].pk).update(net_salary=D("0.01"))
    manager = api_as(company.team.manager)
    assert manager("POST", "/api/auth/confirm-password/", {"password": PASSWORD}).status_code == 200
    answer = manager("POST", f"/api/payroll/periods/{company.period.pk}/process/",
                     {"reference": "B-1", "wallet_id": str(company.wallet.pk)})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "gas_exceeds_net_pay"
    assert not OutgoingTransfer.objects.exists()


@pytest.fixture(scope="module")
def tusd(eth_node, django_db_blocker):
    with django_db_blocker.unblock():
        return erc20_deploy_demo_token(name="Payroll Dollar", symbol="PUSD", decimals=6)


def token_company(team, make_user, tusd):
    company = crypto_company(team, make_user, with_manual=False)
    Cryptocurrency.objects.get_or_create(symbol="PUSD", defaults={"name": "Payroll Dollar", "contract_address": tusd,
                                                                  "decimals": 6})
    organization, fiat = team.organization, team.organization.reporting_fiat
    price_record(symbol="PUSD", price=D("1.25"), fiat=fiat, organization=organization)
    today = timezone.now().date()
    for day in (today - dt.timedelta(days=1), today):
        price_record(symbol="PUSD", price=D("1.25"), fiat=fiat, day=day, organization=organization)
    erc20_mint_demo(token_address=tusd, to=company.wallet.address, amount=D("20000"), decimals=6)
    mine(3)
    monitor_scan()
    Payslip.objects.filter(period=company.period).update(payout_asset="PUSD")
    return company


def test_token_payouts_with_the_gas_borne_by_the_employees(team, make_user, eth_node, settings, tusd):
    settings.ETH_CONFIRMATIONS = 3
    company = token_company(team, make_user, tusd)
    employee_bears_gas(team.organization.pk)
    session, _ = approved_session(team.manager)
    services.payroll_period_process(actor=team.manager, period=company.period, reference="B-1", session=session,
                                    wallet_id=company.wallet.pk)
    settle()
    period = PayrollPeriod.objects.get(pk=company.period.pk)
    assert period.status == PeriodStatus.PAID
    charged_fiat = D(0)
    for slip in crypto_slips(period):
        assert slip.payment_status == PaymentStatus.PAID and slip.payout_asset == "PUSD"
        net = (D(slip.net_salary) / D("1.25")).quantize(D("0.000001"))
        fee_eth = D(slip.gas_charge_limit * slip.gas_charge_max_fee_per_gas) / WEI
        fee = (fee_eth * ETH_PRICE / D("1.25")).quantize(D("0.000001"))  # the ETH fee at the stored rates
        assert slip.gas_charge_limit > 21000 and D(slip.gas_charge_eth_rate) == ETH_PRICE
        assert D(slip.payout_net_amount) == net and D(slip.gas_fee_charged) == fee
        assert D(slip.gas_fee_charged_eth) == fee_eth
        assert D(slip.payout_amount) == net - fee
        assert erc20_balance(token_address=tusd, holder=slip.wallet_address, decimals=6) == net - fee
        assert received_wei(slip.wallet_address) == 0  # the gas was paid in ETH by the company wallet
        charged_fiat += D(slip.gas_fee_charged_fiat)
    books = balances(team.organization.pk)
    assert sum(books.values(), D(0)) == 0
    assert books.get("2200", D(0)) == -withheld(period)
    actual = sum((D(s.gas_fee) for s in crypto_slips(period)), D(0)) * ETH_PRICE
    assert abs(books.get("5300", D(0)) - (actual - charged_fiat)) < D("0.0000001")


def test_a_token_fee_without_an_eth_rate_is_refused_before_signing(team, make_user, eth_node, settings, tusd):
    settings.ETH_CONFIRMATIONS = 3
    company = token_company(team, make_user, tusd)
    employee_bears_gas(team.organization.pk)
    PriceQuote.objects.filter(symbol="ETH").delete()
    session, _ = approved_session(team.manager)
    with pytest.raises(Exception) as exc:
        services.payroll_period_process(actor=team.manager, period=company.period, reference="B-1", session=session,
                                        wallet_id=company.wallet.pk)
    assert exc.value.code == "gas_fee_rate_unavailable" and exc.value.details["asset"] == "ETH"
    assert not OutgoingTransfer.objects.exists()
    assert set(Payslip.objects.filter(period=company.period).values_list("payment_status", flat=True)) == {"pending"}


def test_the_days_price_differs_from_the_processing_rate(team, make_user, eth_node, settings):
    """Company-borne gas; the ledger values the payouts at the day's 2,100, the payslips were converted
    at the processing moment's 2,000: Payroll liabilities still end settled, the difference is a
    realised exchange loss (the coins were worth more than the pay they settled)."""
    settings.ETH_CONFIRMATIONS = 3
    company = crypto_company(team, make_user, with_manual=False)
    today = timezone.now().date()
    PriceQuote.objects.filter(symbol="ETH", day=today).update(price=D("2100"))
    session, _ = approved_session(team.manager)
    services.payroll_period_process(actor=team.manager, period=company.period, reference="B-1", session=session,
                                    wallet_id=company.wallet.pk)
    settle()
    period = PayrollPeriod.objects.get(pk=company.period.pk)
    assert period.status == PeriodStatus.PAID
    books = balances(team.organization.pk)
    assert sum(books.values(), D(0)) == 0
    assert books.get("2200", D(0)) == -withheld(period)
    loss = sum((D(s.payout_amount) * D("2100") - D(s.net_salary) for s in crypto_slips(period)), D(0))
    assert loss > 0 and books.get("5500", D(0)) == loss.quantize(D("1e-8"))
    entries = JournalEntry.objects.filter(Q(source_key__startswith="payroll:") & Q(source_key__endswith=":payment"))
    assert entries.count() == 3
