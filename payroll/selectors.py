"""Reads for payroll. Who reads what (core.permissions, `# --- payroll ---`):
- periods: those who view payroll (accountants, managers, admins of the organization); others 403;
- payslips: those who view payroll read every payslip of the organization, every other member only
  their own (another member's payslip is 404, like another organization's).
Every read is scoped to the actor's organization (core.tenancy)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.membership import organization_members
from core import permissions
from core.errors import ErrorCode, NotFound
from payroll.models import PayrollPeriod, Payslip, RecurringPayment
from payroll.services.common import BOOKS_ONLY


def period_list_for(actor, *, status: str | None = None) -> QuerySet[PayrollPeriod]:
    permissions.require(permissions.can_view_payroll(actor), BOOKS_ONLY)
    periods = PayrollPeriod.objects.for_actor(actor)
    if status:
        periods = periods.filter(status=status)
    return periods.order_by("-start_date", "-id")


def payslip_list_for(actor, *, period_id=None, employee_id=None, approval_status: str | None = None,
                     payment_status: str | None = None) -> QuerySet[Payslip]:
    # prefetch, not select_related: the backend puts a join's $lookup before the $match, joining
    # every payslip of the collection first (bench/README.md).
    payslips = Payslip.objects.for_actor(actor).prefetch_related("period", "payout_transfer")
    if not permissions.can_view_payroll(actor):
        payslips = payslips.filter(employee_id=actor.pk)
    if period_id is not None:
        payslips = payslips.filter(period_id=period_id)
    if employee_id is not None:
        payslips = payslips.filter(employee_id=employee_id)
    if approval_status:
        payslips = payslips.filter(approval_status=approval_status)
    if payment_status:
        payslips = payslips.filter(payment_status=payment_status)
    return payslips.order_by("-created_at", "-id")


def payslips_of_employee_for(actor, employee_id) -> QuerySet[Payslip]:
    """One employee's payslips: their own, or anyone's of the organization for those who view
    payroll; anyone else (or a member of another organization) is not found."""
    if str(employee_id) == str(getattr(actor, "pk", "")) and permissions.can_use_backoffice(actor):
        return payslip_list_for(actor, employee_id=actor.pk)
    if not permissions.can_view_payroll(actor) or \
            not organization_members(actor.organization_id).filter(pk=employee_id).exists():
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    return payslip_list_for(actor, employee_id=employee_id)


def period_payslips(period: PayrollPeriod) -> QuerySet[Payslip]:
    return (Payslip.objects.for_organization(period.organization_id).filter(period=period)
            .select_related("payout_transfer").order_by("payslip_id"))


def recurring_payment_list_for(actor) -> QuerySet[RecurringPayment]:
    permissions.require(permissions.can_view_payroll(actor), BOOKS_ONLY)
    return RecurringPayment.objects.for_actor(actor).order_by("next_payment_date", "id")
