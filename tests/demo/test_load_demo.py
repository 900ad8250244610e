"""`manage.py load_demo`: people, wallets funded on the real local node, history; idempotent."""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.demo import DEMO_USERS
from accounts.models import User
from wallets import chain
from wallets.models import Cryptocurrency, Transaction, Wallet

pytestmark = pytest.mark.django_db


def counts():
    return (User.objects.count(), Wallet.objects.count(), Transaction.objects.count(),
            Cryptocurrency.objects.count())


def test_load_demo_twice_creates_everything_once(eth_node):
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = counts()
    assert first == (4, 3, 3 + 3 * 9, 1)
    balances = {w.address: chain.eth_balance(w.address) for w in Wallet.objects.all()}
    assert sorted(balances.values()) == [5, 5, 20]
    for login in DEMO_USERS:
        assert login["password"] in out.getvalue()

    second_out = StringIO()
    call_command("load_demo", stdout=second_out)
    assert counts() == first
    assert {w.address: chain.eth_balance(w.address) for w in Wallet.objects.all()} == balances
    assert "nothing new" in second_out.getvalue()


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
    assert "skipped funding wallets on chain" in out.getvalue()
    assert counts() == (4, 3, 27, 1)
