"""A company paying crypto payslips on the test's anvil node: a funded Private Key wallet of the
manager, ETH at a stored price, three crypto employees with fresh addresses (plus the team's bank
and cash employees), every payslip of January approved. Shared by the crypto payout tests, the
chaos test and the progress socket test."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal as D

from django.conf import settings
from django.utils import timezone
from eth_account import Account

PASSWORD = "Passw0rd!long"
ETH_PRICE = D("2000")


@dataclass
class CryptoCompany:
    team: object
    wallet: object
    period: object
    employees: dict = field(default_factory=dict)  # username -> (user, address)


def mine(blocks: int) -> None:
    from wallets import chain

    chain.web3_client().provider.make_request("anvil_mine", [hex(blocks)])


def received_wei(address: str) -> int:
    from wallets import chain

    return chain.web3_client().eth.get_balance(address)


def payments_to(address: str, sender: str, from_block: int = 0) -> int:
    """Successful transactions from `sender` to `address` in the chain's blocks."""
    from wallets import chain

    w3 = chain.web3_client()
    count = 0
    for number in range(from_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == sender and tx.get("to") == address and w3.eth.get_transaction_receipt(tx["hash"])["status"] == 1:
                count += 1
    return count


def crypto_company(team, make_user, *, fund_eth: D = D("10"), crypto_people: int = 3,
                   with_manual: bool = True) -> CryptoCompany:
    from payroll import services
    from payroll.models import PayProfile
    from wallets import chain
    from wallets.models import Cryptocurrency, WalletType
    from wallets.monitoring import monitor_scan
    from wallets.prices import price_record
    from wallets.services import wallet_create, wallet_monitoring_enable

    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    fiat = team.organization.reporting_fiat
    price_record(symbol="ETH", price=ETH_PRICE, fiat=fiat, organization=team.organization)  # the current price: the processing rate
    today = timezone.now().date()
    for day in (today - dt.timedelta(days=1), today):  # the day's price: the books' fair value
        price_record(symbol="ETH", price=ETH_PRICE, fiat=fiat, day=day, organization=team.organization)
    wallet = wallet_create(user=team.manager, name="payroll", wallet_type=WalletType.PRIVATE_KEY)
    wallet_monitoring_enable(wallet=wallet)
    if fund_eth:  # recorded by the monitor: the company's ETH holdings in the books
        chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(fund_eth))
        mine(settings.ETH_CONFIRMATIONS)
    monitor_scan()

    employees = {}
    people = [team.carol] + [make_user(username=f"crypto{n}", first_name="Crypto", last_name=f"Person{n}",
                                       manager=team.manager, is_verified_by_manager=True)
                             for n in range(1, crypto_people)]
    for n, person in enumerate(people):
        address = Account.create().address
        services.pay_profile_set(actor=team.manager, employee=person, basic_salary=str(3000 + 250 * n),
                                 payment_method="crypto", wallet_address=address, payout_asset="ETH")
        employees[person.username] = (person, address)
    if not with_manual:
        PayProfile.objects.filter(employee__in=[team.alice, team.bob]).update(is_active=False)
    period = services.payroll_period_create(actor=team.manager, period_id="2026-01", start_date=dt.date(2026, 1, 1),
                                            end_date=dt.date(2026, 1, 31), pay_date=dt.date(2026, 1, 31))
    for payslip in period.payslips.all():
        services.payslip_approve(actor=team.manager, payslip=payslip)
    return CryptoCompany(team=team, wallet=wallet, period=period, employees=employees)


def approved_session(user):
    from accounts.sessions import session_approve, session_login

    _, session, tokens = session_login(login=user.username, password=PASSWORD, ip=None)
    session_approve(session=session, password=PASSWORD, ip=None)
    return session, tokens
