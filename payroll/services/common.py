"""What the payroll services share: the engine's errors in the domain's words, the organization's
payroll settings, who is on the payroll."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError

from accounts.employees import employee_can_hold_funds
from accounts.membership import organization_members
from core.errors import Conflict, ErrorCode, InvalidInput
from payroll import engine
from payroll.models import PayProfile, PayrollSettings

MANAGERS_ONLY = "Only managers and admins run payroll."
BOOKS_ONLY = "Payroll is for accountants, managers and admins of the organization (and each employee's own payslips)."


def engine_call(fn, *args, **kwargs):
    """Run an engine function; its PayrollError becomes InvalidInput (Conflict when no withholding
    table is in force) with the engine's code."""
    try:
        return fn(*args, **kwargs)
    except engine.PayrollError as exc:
        kind = Conflict if exc.code == ErrorCode.NO_WITHHOLDING_TABLE else InvalidInput
        code = ErrorCode(exc.code) if exc.code in ErrorCode._value2member_map_ else ErrorCode.VALIDATION_ERROR
        raise kind(code, exc.message, exc.details) from None


def payroll_settings_get(organization_id) -> PayrollSettings:
    """The organization's payroll settings, made with the defaults on first use."""
    found = PayrollSettings.objects.for_organization(organization_id).first()
    if found is not None:
        return found
    try:
        return PayrollSettings.objects.create(organization_id=organization_id)
    except IntegrityError:
        return PayrollSettings.objects.for_organization(organization_id).get()


def overtime_multiple_of(organization_id) -> Decimal:
    return Decimal(payroll_settings_get(organization_id).overtime_multiple)


def payable_employee(employee) -> bool:
    """An active member whose manager verified them (or who has no manager): the spec's verified
    employee, who may hold funds and be paid."""
    return bool(employee.is_active) and employee_can_hold_funds(employee)


def payroll_profiles_for_period(organization_id, start_date, end_date) -> list[PayProfile]:
    """The active pay profiles of the organization's payable employees employed during the period."""
    members = {m.pk: m for m in organization_members(organization_id).filter(is_active=True)}
    profiles = []
    for profile in PayProfile.objects.for_organization(organization_id).filter(is_active=True).order_by("id"):
        employee = members.get(profile.employee_id)
        if employee is None or not payable_employee(employee):
            continue
        if profile.start_date and profile.start_date > end_date:
            continue
        if profile.end_date and profile.end_date < start_date:
            continue
        profile.employee = employee
        profiles.append(profile)
    return profiles
