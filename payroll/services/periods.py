"""Payroll periods: draft -> processing -> paid (or cancelled). Creating a period drafts a payslip
for every active verified employee with an active pay profile employed during it, all in one
transaction; `period_id` is unique in the organization."""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError
from django.utils import timezone

from core import permissions
from core.errors import Conflict, ErrorCode, InvalidInput
from core.models import Organization
from core.transactions import in_transaction
from payroll.models import ApprovalStatus, PaymentStatus, PayProfile, PayrollPeriod, PeriodStatus, Payslip
from payroll.services.common import MANAGERS_ONLY, overtime_multiple_of, payroll_profiles_for_period
from payroll.services.payslips import (payslip_compute, payslip_from_profile, payslip_save_new,
                                       period_totals_refresh)
from payroll.services.profiles import withholding_table_in_force

PERIOD_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _check_dates(start_date: dt.date, end_date: dt.date, pay_date: dt.date) -> None:
    if end_date < start_date:
        raise InvalidInput(ErrorCode.INVALID_RANGE, "A period ends on or after its start.",
                           {"start_date": start_date.isoformat(), "end_date": end_date.isoformat()})
    if (end_date - start_date).days > 366:
        raise InvalidInput(ErrorCode.RANGE_TOO_LONG, "A pay period is at most a year.")
    if pay_date < start_date:
        raise InvalidInput(ErrorCode.INVALID_DATE, "The pay date is on or after the period's start.",
                           {"field": "pay_date"})


def payroll_period_create(*, actor, period_id: str, start_date: dt.date, end_date: dt.date, pay_date: dt.date,
                          description: str = "") -> PayrollPeriod:
    organization_id = permissions.acting_organization_id(actor, permissions.can_manage_payroll,
                                                         refused=MANAGERS_ONLY, system_allowed=False)
    period_id = (period_id or "").strip()
    if not PERIOD_ID_RE.match(period_id):
        raise InvalidInput(ErrorCode.VALIDATION_ERROR,
                           "A period id is 1 to 64 letters, digits, dots, dashes or underscores (e.g. 2026-01).",
                           {"field": "period_id"})
    _check_dates(start_date, end_date, pay_date)
    if PayrollPeriod.objects.for_organization(organization_id).filter(period_id=period_id).exists():
        raise Conflict(ErrorCode.PERIOD_ID_TAKEN, f"Period {period_id} already exists.", {"period_id": period_id})
    table = withholding_table_in_force(organization_id, pay_date)
    multiple = overtime_multiple_of(organization_id)
    currency = Organization.objects.get(pk=organization_id).reporting_fiat
    profiles = payroll_profiles_for_period(organization_id, start_date, end_date)

    def work():
        period = PayrollPeriod.objects.create(
            organization_id=organization_id, period_id=period_id, description=(description or "").strip()[:200],
            start_date=start_date, end_date=end_date, pay_date=pay_date, currency=currency, created_by=actor)
        for number, profile in enumerate(profiles, start=1):
            payslip = payslip_from_profile(profile, period, number=number, actor=actor)
            payslip_compute(payslip, period, table=table, overtime_multiple=multiple)
            payslip_save_new(payslip)
        return period_totals_refresh(period)

    try:
        return in_transaction(work)
    except IntegrityError:
        raise Conflict(ErrorCode.PERIOD_ID_TAKEN, f"Period {period_id} already exists.",
                       {"period_id": period_id}) from None


def _require_manager(actor, period) -> None:
    permissions.require(permissions.can_manage_payroll(actor), MANAGERS_ONLY)
    permissions.require_own(actor, period)


def payroll_period_update(*, actor, period: PayrollPeriod, description: str | None = None,
                          start_date: dt.date | None = None, end_date: dt.date | None = None,
                          pay_date: dt.date | None = None, status: str | None = None) -> PayrollPeriod:
    """Change a draft period: its description, its dates (every payslip must still be a draft: they
    are recomputed) or cancel it (`status="cancelled"`, while nothing of it is paid)."""
    _require_manager(actor, period)
    if status is not None and status not in (PeriodStatus.CANCELLED, period.status):
        raise InvalidInput(ErrorCode.VALIDATION_ERROR,
                           "A period's status moves by processing it; only cancelling is asked for directly.",
                           {"field": "status"})

    def work():
        current = PayrollPeriod.objects.get(pk=period.pk)
        slips = Payslip.objects.for_organization(current.organization_id).filter(period=current)
        if status == PeriodStatus.CANCELLED and current.status != PeriodStatus.CANCELLED:
            if current.status not in (PeriodStatus.DRAFT, PeriodStatus.PROCESSING) or \
                    slips.filter(payment_status=PaymentStatus.PAID).exists():
                raise Conflict(ErrorCode.PAYROLL_PERIOD_CLOSED, "A period with paid payslips cannot be cancelled.")
            slips.update(approval_status=ApprovalStatus.CANCELLED, updated_at=timezone.now())
            current.status = PeriodStatus.CANCELLED
        new_dates = (start_date or current.start_date, end_date or current.end_date, pay_date or current.pay_date)
        if new_dates != (current.start_date, current.end_date, current.pay_date):
            if current.status != PeriodStatus.DRAFT:
                raise Conflict(ErrorCode.PAYROLL_PERIOD_NOT_DRAFT, "Only a draft period's dates change.")
            if slips.exclude(approval_status=ApprovalStatus.DRAFT).exists():
                raise Conflict(ErrorCode.PAYSLIP_NOT_DRAFT,
                               "Approved payslips were computed on these dates: the dates can no longer change.")
            _check_dates(*new_dates)
            current.start_date, current.end_date, current.pay_date = new_dates
            table = withholding_table_in_force(current.organization_id, current.pay_date)
            multiple = overtime_multiple_of(current.organization_id)
            profiles = {p.employee_id: p for p in PayProfile.objects.for_organization(current.organization_id)}
            for payslip in slips:
                profile = profiles.get(payslip.employee_id)
                start = profile.start_date if profile else None
                end = profile.end_date if profile else None
                payslip.employment_start = start if start and start > current.start_date else None
                payslip.employment_end = end if end and end < current.end_date else None
                payslip_compute(payslip, current, table=table, overtime_multiple=multiple)
                payslip.save()
        if description is not None:
            if current.status in (PeriodStatus.PAID, PeriodStatus.CANCELLED) and status is None:
                raise Conflict(ErrorCode.PAYROLL_PERIOD_CLOSED, f"Period {current.period_id} is {current.status}.")
            current.description = description.strip()[:200]
        current.save()
        return period_totals_refresh(current)

    return in_transaction(work)


def payroll_period_delete(*, actor, period: PayrollPeriod) -> None:
    """Delete a draft period and its payslips (nothing of a draft is in the books or paid)."""
    _require_manager(actor, period)

    def work():
        deleted = PayrollPeriod.objects.filter(pk=period.pk, status=PeriodStatus.DRAFT)
        if not deleted.exists():
            raise Conflict(ErrorCode.PAYROLL_PERIOD_NOT_DRAFT,
                           "Only a draft period is deleted; cancel a period being processed instead.")
        Payslip.objects.for_organization(period.organization_id).filter(period=period).delete()
        deleted.delete()

    in_transaction(work)
