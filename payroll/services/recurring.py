"""Recurring payment schedules (the spec's Recurring Payments): made, paused and resumed here, their
dates from payroll.engine.calendar. Paying the due occurrences is the crypto payout's work (a
periodic task with the exactly-once payout machinery), not connected yet: `next_payment_date` and
`total_payments_made` are then updated in the same transaction as each payout intent."""

from __future__ import annotations

import datetime as dt

from core import permissions
from core.errors import ErrorCode, InvalidInput
from payroll import engine
from payroll.models import RecurringPayment
from payroll.services.common import MANAGERS_ONLY, engine_call
from wallets.addresses import address_normalise


def recurring_payment_create(*, actor, payment_name: str, recipient_name: str, recipient_wallet: str, amount,
                             cryptocurrency: str, frequency: str, start_date: dt.date, end_date: dt.date | None = None,
                             description: str = "") -> RecurringPayment:
    organization_id = permissions.acting_organization_id(actor, permissions.can_manage_payroll,
                                                         refused=MANAGERS_ONLY, system_allowed=False)
    if frequency not in engine.Frequency.__members__:
        raise InvalidInput(ErrorCode.INVALID_FREQUENCY, "frequency is DAILY, WEEKLY, MONTHLY, QUARTERLY or ANNUALLY.",
                           {"field": "frequency"})
    amount = engine_call(engine.to_money, amount, "amount")
    if amount <= 0:
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, "A recurring payment's amount is positive.", {"field": "amount"})
    if end_date is not None and end_date < start_date:
        raise InvalidInput(ErrorCode.INVALID_RANGE, "The end date is on or after the start date.")
    payment = RecurringPayment(
        organization_id=organization_id, user=actor, payment_name=(payment_name or "").strip()[:200],
        recipient_name=(recipient_name or "").strip()[:200], recipient_wallet=address_normalise(recipient_wallet),
        amount=amount, cryptocurrency=(cryptocurrency or "").strip().upper()[:20], frequency=frequency,
        start_date=start_date, end_date=end_date, description=description or "",
        next_payment_date=engine_call(engine.next_occurrence, start_date, frequency, 0, end_date))
    payment.full_clean(exclude=["organization", "user"])
    payment.save()
    return payment


def recurring_payment_set_active(*, actor, payment: RecurringPayment, is_active: bool) -> RecurringPayment:
    """Pause or resume a schedule (managers and admins). Resuming keeps the occurrences numbered from
    the start date: the missed ones are then due (paid once each, or skipped, by the payout task)."""
    permissions.require(permissions.can_manage_payroll(actor), MANAGERS_ONLY)
    permissions.require_own(actor, payment)
    RecurringPayment.objects.filter(pk=payment.pk).update(is_active=bool(is_active))
    payment.refresh_from_db()
    return payment
