"""`manage.py load_demo`: people, wallets funded on the real local node, history; idempotent."""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from accounts.demo import DEMO_USERS
from accounts.models import User
from wallets import chain
from wallets.models import Cryptocurrency, PriceQuote, Transaction, Wallet

pytestmark = pytest.mark.django_db


def counts():
    # The system user (the automatic journals' actor) is not a demo person.
    return (User.objects.exclude(username="system").count(), Wallet.objects.count(), Transaction.objects.count(),
            Cryptocurrency.objects.count(), PriceQuote.objects.count())


def test_load_demo_twice_creates_everything_once(eth_node):
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = counts()
    assert first == (4, 3, 3 + 3 * 9, 1, 9 + 1)
    balances = {w.address: chain.eth_balance(w.address) for w in Wallet.objects.all()}
    assert sorted(balances.values()) == [5, 5, 20]
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
    assert {e.source_transaction.user.username for e in booked} == {"manager", "employee1", "employee2"}
    balance = trial_balance()
    assert balance["total_debit"] == balance["total_credit"]
    again = StringIO()
    call_command("load_demo", stdout=again)
    assert JournalEntry.objects.filter(source_key__startswith="auto:").count() == booked.count()


def test_demo_people_can_log_in_and_employees_have_their_manager(eth_node):
    call_command("load_demo", stdout=StringIO())
    for spec in DEMO_USERS:
        user = authenticate(username=spec["username"], password=spec["password"])
        assert user is not None and user.role == spec["role"]
    manager = User.objects.get(username="manager")
    employees = User.objects.filter(manager=manager).order_by("username")
    assert [e.username for e in employees] == ["employee1", "employee2"]
    assert all(e.is_verified_by_manager for e in employees)
    assert User.objects.get(username="admin").is_superuser


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
    assert counts() == (4, 3, 27, 1, 10)
    assert all(w.balance == 0 for w in Wallet.objects.all())


def test_off_the_dev_chain_nothing_is_funded_and_the_reason_is_printed(settings):
    settings.ETH_CHAIN_ID = 1  # e.g. pointed at mainnet: demo funds exist only on the dev chain
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "skipped funding wallets on chain: chain 1 is not the local dev chain" in out.getvalue()
    assert counts() == (4, 3, 27, 1, 10)


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


def test_demo_wallets_belong_to_the_manager_and_employees_only(eth_node):
    call_command("load_demo", stdout=StringIO())
    owners = sorted(w.user.username for w in Wallet.objects.select_related("user"))
    assert owners == ["employee1", "employee2", "manager"]
    assert all(w.wallet_type == "Private Key" and w.has_private_key for w in Wallet.objects.all())
    history = Transaction.objects.filter(source="demo")
    assert {t.transaction_type for t in history} == {"BUY", "SELL", "INCOME", "EXPENSE"}
    oldest = min(t.transaction_date for t in history)
    assert 100 <= (timezone.now() - oldest).days <= 130
    assert all(t.price_at_transaction and t.usd_value == (t.amount * t.price_at_transaction).quantize(Decimal("0.01"))
               for t in history)
