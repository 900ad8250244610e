"""Payroll's items on the dashboard (reporting.dashboard.hooks; registered in PayrollConfig.ready()), for
those who may view payroll (core.permissions.can_view_payroll): payroll periods not yet paid whose pay
date is within `DUE_WITHIN_DAYS` (or past), and active recurring payments whose next payment is due."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from core import permissions
from core.money import ZERO
from core.organizations import organization_today
from payroll.models import PeriodStatus
from payroll.selectors import period_list_for, recurring_payment_list_for
from reporting.dashboard.hooks import AwaitingItem

DUE_WITHIN_DAYS = 7


def payroll_awaiting(actor) -> list[AwaitingItem]:
    if not permissions.can_view_payroll(actor):
        return []
    today = organization_today(actor.organization)
    fiat = actor.organization.reporting_fiat.upper()
    periods = list(period_list_for(actor).filter(status__in=(PeriodStatus.DRAFT, PeriodStatus.PROCESSING),
                                                 pay_date__lte=today + dt.timedelta(days=DUE_WITHIN_DAYS))
                   .only("total_amount", "currency"))
    total = (sum((p.total_amount for p in periods), ZERO)
             if all(p.currency.upper() == fiat for p in periods) else None)
    recurring = recurring_payment_list_for(actor).filter(is_active=True, next_payment_date__lte=today).count()
    page = reverse("payroll-periods")
    return [AwaitingItem("payroll_due", f"Payroll due within {DUE_WITHIN_DAYS} days", len(periods), page, total),
            AwaitingItem("recurring_payments_due", "Recurring payments due", recurring, page)]
