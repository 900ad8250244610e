"""`manage.py load_demo`: two organizations and their people, wallets funded on the real local node,
history; idempotent."""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from accounts.demo import CLIENT, COMPANY, DEMO_USERS
from accounts.models import User
from core.models import Organization
from wallets import chain
from wallets.models import Cryptocurrency, PriceQuote, Transaction, Wallet

pytestmark = pytest.mark.django_db


def counts():
    # The system user (the automatic journals' actor) is not a demo person.
    return (User.objects.exclude(username="system").count(), Organization.objects.count(), Wallet.objects.count(),
            Transaction.objects.count(), Cryptocurrency.objects.count(), PriceQuote.objects.count())


def company_counts():
    """The company's wallets and transactions: 3 funded wallets with 9 history rows each."""
    company = Organization.objects.get(name=COMPANY)
    return (Wallet.objects.filter(organization=company).count(),
            Transaction.objects.filter(organization=company).count())


def test_load_demo_twice_creates_everything_once(eth_node):
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = counts()
    assert first[:2] == (6, 2)
    assert company_counts() == (3, 3 + 3 * 9)
    balances = {w.address: chain.eth_balance(w.address) for w in Wallet.objects.all()}
    company_wallets = Wallet.objects.filter(organization__name=COMPANY)
    assert sorted(chain.eth_balance(w.address) for w in company_wallets) == [5, 5, 20]
    for login in DEMO_USERS:
        assert login["password"] in out.getvalue()

    second_out = StringIO()
    call_command("load_demo", stdout=second_out)
    assert counts() == first
    assert {w.address: chain.eth_balance(w.address) for w in Wallet.objects.all()} == balances
    assert "nothing new" in second_out.getvalue()


def test_demo_transactions_are_in_the_books(eth_node):
    from ledger.models import JournalEntry
    from ledger.selectors import trial_balance

    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "skipped automatic journals" not in out.getvalue(), out.getvalue()
    booked = JournalEntry.objects.filter(source_key__startswith="auto:", status="posted")
    company = Organization.objects.get(name=COMPANY)
    assert {e.source_transaction.user.username for e in booked.filter(organization=company)} == {
        "manager", "employee1", "employee2"}
    for organization in Organization.objects.all():
        balance = trial_balance(organization_id=organization.pk)
        assert balance["total_debit"] == balance["total_credit"], organization.name
    again = StringIO()
    call_command("load_demo", stdout=again)
    assert JournalEntry.objects.filter(source_key__startswith="auto:").count() == booked.count()


def test_demo_people_can_log_in_and_employees_have_their_manager(eth_node):
    call_command("load_demo", stdout=StringIO())
    for spec in DEMO_USERS:
        user = authenticate(username=spec["username"], password=spec["password"])
        assert user is not None and user.role == spec["role"], spec["username"]
        assert user.organization.name == spec["organization"], spec["username"]
    manager = User.objects.get(username="manager")
    employees = User.objects.filter(manager=manager).order_by("username")
    assert [e.username for e in employees] == ["employee1", "employee2"]
    assert all(e.is_verified_by_manager for e in employees)
    assert User.objects.get(username="admin").is_superuser


def test_two_organizations_the_company_and_an_outside_client(eth_node):
    from core import demo

    call_command("load_demo", stdout=StringIO())
    company, client_org = Organization.objects.get(name=COMPANY), Organization.objects.get(name=CLIENT)
    assert sorted(User.objects.filter(organization=company).values_list("username", flat=True)) == [
        "accountant", "admin", "employee1", "employee2", "manager"]
    client = User.objects.get(username="client")
    assert client.organization_id == client_org.pk and client.role == "ADMIN" and not client.is_superuser
    assert list(User.objects.filter(organization=client_org).values_list("username", flat=True)) == ["client"]
    accountant = User.objects.get(username="accountant")
    assert accountant.is_accountant and accountant.role == "USER" and accountant.manager_id is None
    assert authenticate(username="accountant", password="Ledger!Books2026") is not None
    assert authenticate(username="client", password="Client!Books2026") is not None
    # The client's wallets are its own: nothing of theirs is in the company's books, and the reverse.
    assert not Wallet.objects.filter(organization=company, user=client).exists()
    assert not Wallet.objects.filter(organization=client_org).exclude(user=client).exists()
    where = {login["username"]: login["organization"] for login in demo.demo_logins()}
    assert where["client"] == CLIENT and where["accountant"] == COMPANY and where["admin"] == COMPANY


def test_demo_history_is_exact_decimal(eth_node):
    call_command("load_demo", stdout=StringIO())
    row = Transaction.objects.get(external_id="demo:employee1:0")
    assert row.amount == Decimal("2.5") and row.usd_value == Decimal("5776.00")
    assert isinstance(row.amount, Decimal) and isinstance(row.usd_value, Decimal)


def test_without_a_chain_everything_else_loads(settings):
    from core import localstack

    settings.ETH_RPC_URL = f"http://127.0.0.1:{localstack.free_port()}"
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "skipped funding wallets on chain" in out.getvalue() and "unreachable" in out.getvalue()
    assert counts()[:2] == (6, 2) and company_counts() == (3, 27)
    assert all(w.balance == 0 for w in Wallet.objects.all())


def test_off_the_dev_chain_nothing_is_funded_and_the_reason_is_printed(settings):
    settings.ETH_CHAIN_ID = 1  # e.g. pointed at mainnet: demo funds exist only on the dev chain
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "skipped funding wallets on chain: chain 1 is not the local dev chain" in out.getvalue()
    assert counts()[:2] == (6, 2) and company_counts() == (3, 27)


def test_funding_is_recorded_like_the_monitor_records_it(eth_node):
    call_command("load_demo", stdout=StringIO())
    wallet = Wallet.objects.get(user__username="employee1")
    funding = Transaction.objects.get(wallet=wallet, source="chain")
    receipt = chain.web3_client().eth.get_transaction_receipt(funding.hash)
    assert receipt["status"] == 1 and receipt["to"] == wallet.address
    assert funding.external_id == f"chain:{funding.hash}:-1:{wallet.address}"
    assert funding.amount == Decimal("5") and funding.direction == "in"
    assert funding.from_address == chain.dev_account(0).address and funding.block_number == receipt["blockNumber"]
    assert wallet.balance == Decimal("5")


def test_the_company_wallets_belong_to_the_manager_and_employees_only(eth_node):
    call_command("load_demo", stdout=StringIO())
    owners = sorted(w.user.username for w in Wallet.objects.filter(organization__name=COMPANY).select_related("user"))
    assert owners == ["employee1", "employee2", "manager"]
    assert all(w.wallet_type == "Private Key" and w.has_private_key for w in Wallet.objects.all())
    history = Transaction.objects.filter(source="demo")
    assert {t.transaction_type for t in history} == {"BUY", "SELL", "INCOME", "EXPENSE"}
    oldest = min(t.transaction_date for t in history)
    assert 100 <= (timezone.now() - oldest).days <= 130
    assert all(t.price_at_transaction and t.usd_value == (t.amount * t.price_at_transaction).quantize(Decimal("0.01"))
               for t in history)
