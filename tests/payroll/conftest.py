"""A company on payroll: the example withholding table, a manager and an admin, and employees paid
by bank (salaried), cash (hourly) and crypto, plus people who must not be on the payroll."""

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal as D

import pytest
from django.test import Client

from core.permissions import Role

WALLET = "0x000000000000000000000000000000000000dEaD"


@dataclass
class Team:
    organization: object
    admin: object
    manager: object
    alice: object  # bank, salaried
    bob: object  # cash, hourly
    carol: object  # crypto
    unverified: object
    inactive: object
    no_profile: object


@pytest.fixture
def team(organization, make_user):
    from payroll import services

    admin = make_user(Role.ADMIN, username="boss")
    manager = make_user(Role.MANAGER, username="mgr")
    employee = dict(manager=manager, is_verified_by_manager=True)
    alice = make_user(username="alice", first_name="Alice", last_name="Archer", **employee)
    bob = make_user(username="bob", first_name="Bob", last_name="Baker", **employee)
    carol = make_user(username="carol", first_name="Carol", last_name="Cole", **employee)
    unverified = make_user(username="newbie", manager=manager, is_verified_by_manager=False)
    inactive = make_user(username="gone", is_active=False, **employee)
    no_profile = make_user(username="unpaid", **employee)
    services.withholding_example_install(actor=manager)
    services.pay_profile_set(actor=manager, employee=alice, basic_salary="5000", housing_allowance="500",
                             transport_allowance="200", hourly_rate="25", payment_method="bank",
                             bank_details={"iban": "DE00 1234"}, position="Engineer")
    services.pay_profile_set(actor=manager, employee=bob, pay_type="hourly", hourly_rate="20", standard_hours="160",
                             payment_method="cash")
    services.pay_profile_set(actor=manager, employee=carol, basic_salary="3000", payment_method="crypto",
                             wallet_address=WALLET.lower(), payout_asset="eth")
    for person in (unverified, inactive):
        services.pay_profile_set(actor=admin, employee=person, basic_salary="1000", payment_method="bank")
    return Team(organization, admin, manager, alice, bob, carol, unverified, inactive, no_profile)


class Api:
    def __init__(self, token):
        self.client, self.token = Client(), token

    def __call__(self, method, path, body=None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        if body is None:
            return self.client.generic(method, path, **headers)
        return self.client.generic(method, path, json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def api_as(access_token_for):
    return lambda user: Api(access_token_for(user))


JANUARY = {"period_id": "2026-01", "start_date": "2026-01-01", "end_date": "2026-01-31", "pay_date": "2026-01-31"}


@pytest.fixture
def january(team):
    from payroll import services

    return services.payroll_period_create(actor=team.manager, period_id="2026-01", start_date=dt.date(2026, 1, 1),
                                          end_date=dt.date(2026, 1, 31), pay_date=dt.date(2026, 1, 31))


def balances(organization_id) -> dict[str, D]:
    """Debits minus credits per account code, from the posted entries."""
    from ledger.models import JournalEntry

    out: dict[str, D] = {}
    for entry in JournalEntry.objects.for_organization(organization_id).filter(status="posted"):
        for line in entry.line_items:
            out[line.account_code] = out.get(line.account_code, D(0)) + D(line.debit_amount) - D(line.credit_amount)
    return out
