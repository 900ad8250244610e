"""Recurring payment schedules (the paying task comes with the crypto payout; see payroll/services/recurring.py)."""

import datetime as dt
from decimal import Decimal as D

import pytest

from core.errors import Forbidden, InvalidInput, NotFound
from payroll import services
from tests.payroll.conftest import WALLET

pytestmark = pytest.mark.django_db


def _make(actor, **overrides):
    fields = dict(payment_name="Office rent", recipient_name="Landlord", recipient_wallet=WALLET.lower(),
                  amount="0.5", cryptocurrency="eth", frequency="MONTHLY", start_date=dt.date(2026, 1, 31))
    return services.recurring_payment_create(actor=actor, **{**fields, **overrides})


def test_a_schedule_from_the_31st(team):
    payment = _make(team.manager, end_date=dt.date(2026, 12, 31))
    assert payment.next_payment_date == dt.date(2026, 1, 31) and payment.total_payments_made == 0
    assert payment.recipient_wallet == WALLET and payment.cryptocurrency == "ETH" and payment.amount == D("0.5")
    paused = services.recurring_payment_set_active(actor=team.admin, payment=payment, is_active=False)
    assert paused.is_active is False
    assert services.recurring_payment_set_active(actor=team.manager, payment=payment, is_active=True).is_active


@pytest.mark.parametrize("overrides, code", [
    ({"frequency": "HOURLY"}, "invalid_frequency"),
    ({"amount": "0"}, "invalid_amount"),
    ({"amount": "-1"}, "invalid_amount"),
    ({"end_date": dt.date(2025, 1, 1)}, "invalid_range"),
    ({"recipient_wallet": "0x123"}, "invalid_address"),
])
def test_invalid_schedules(team, overrides, code):
    with pytest.raises(InvalidInput) as exc:
        _make(team.manager, **overrides)
    assert exc.value.code == code


def test_only_managers_make_and_pause_schedules(team, make_organization, make_user):
    with pytest.raises(Forbidden):
        _make(team.alice)
    payment = _make(team.manager)
    with pytest.raises(Forbidden):
        services.recurring_payment_set_active(actor=team.alice, payment=payment, is_active=False)
    stranger = make_user("MANAGER", organization=make_organization("Else"))
    with pytest.raises(NotFound):
        services.recurring_payment_set_active(actor=stranger, payment=payment, is_active=False)
