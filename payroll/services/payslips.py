"""Payslips: drafted from pay profiles when a period is created (or one at a time), edited by
managers while draft, approved per payslip by a manager or admin who is not the employee. Every
change recomputes the figures with the engine and the period's totals in the same transaction."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from django.db import IntegrityError
from django.utils import timezone

from accounts.membership import organization_members
from core import permissions
from core.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from core.transactions import in_transaction
from payroll import engine
from payroll.models import ApprovalStatus, PaymentMethod, PayProfile, PayrollPeriod, PayType, PeriodStatus, Payslip
from payroll.services.common import MANAGERS_ONLY, engine_call, overtime_multiple_of, payable_employee
from payroll.services.profiles import withholding_table_in_force
from wallets.addresses import address_normalise

EDITABLE_MONEY = ("base_salary", "base_housing", "base_transport", "base_other_allowances", "hourly_rate",
                  "hours_worked", "overtime_hours", "bonus_amount")
EDITABLE = EDITABLE_MONEY + ("overtime_rate_override", "other_deductions", "payment_method", "wallet_address",
                             "bank_details", "department", "position")


def _inputs(payslip: Payslip, period: PayrollPeriod, overtime_multiple: Decimal) -> engine.PayInputs:
    return engine.PayInputs(
        period_start=period.start_date, period_end=period.end_date,
        basic_salary=Decimal(payslip.base_salary), housing_allowance=Decimal(payslip.base_housing),
        transport_allowance=Decimal(payslip.base_transport),
        other_allowances=Decimal(payslip.base_other_allowances), hourly_rate=Decimal(payslip.hourly_rate),
        hours_worked=Decimal(payslip.hours_worked), overtime_hours=Decimal(payslip.overtime_hours),
        overtime_rate=None if payslip.overtime_rate_override is None else Decimal(payslip.overtime_rate_override),
        overtime_multiple=overtime_multiple, bonus=Decimal(payslip.bonus_amount),
        other_deductions=tuple(engine.Deduction(d.get("type", "other"), d.get("amount", "0"), d.get("description", ""))
                               for d in payslip.other_deductions),
        employment_start=payslip.employment_start, employment_end=payslip.employment_end)


def payslip_compute(payslip: Payslip, period: PayrollPeriod, *, table=None, overtime_multiple=None) -> Payslip:
    """Fill the payslip's figures from its inputs (the table in force on the period's pay date)."""
    if table is None:
        table = withholding_table_in_force(period.organization_id, period.pay_date)
    model, rules = table
    if overtime_multiple is None:
        overtime_multiple = overtime_multiple_of(period.organization_id)
    figures = engine_call(engine.compute_payslip, _inputs(payslip, period, overtime_multiple), rules)
    payslip.basic_salary, payslip.housing_allowance = figures.basic_salary, figures.housing_allowance
    payslip.transport_allowance, payslip.other_allowances = figures.transport_allowance, figures.other_allowances
    payslip.hourly_pay, payslip.overtime_rate = figures.hourly_pay, figures.overtime_rate
    payslip.overtime_amount, payslip.bonus_amount = figures.overtime_amount, figures.bonus
    payslip.gross_salary, payslip.tax, payslip.insurance = figures.gross, figures.tax, figures.employee_insurance
    payslip.other_deductions = [{"type": d.type, "amount": str(d.amount), "description": d.description}
                                for d in figures.other_deductions]
    payslip.other_deductions_total, payslip.total_deductions = figures.other_deductions_total, figures.total_deductions
    payslip.net_salary, payslip.employer_insurance = figures.net, figures.employer_insurance
    payslip.days_paid, payslip.days_in_period = figures.days_paid, figures.days_in_period
    payslip.withholding_table = model
    return payslip


def payslip_from_profile(profile: PayProfile, period: PayrollPeriod, *, number: int, actor) -> Payslip:
    employee = profile.employee
    payslip = Payslip(
        organization_id=period.organization_id, period=period, employee=employee,
        payslip_id=f"{period.period_id}-{number:03d}", employee_name=employee.get_full_name() or employee.username,
        department=profile.department or employee.department, position=profile.position,
        currency=period.currency, pay_type=profile.pay_type, base_salary=profile.basic_salary,
        base_housing=profile.housing_allowance, base_transport=profile.transport_allowance,
        base_other_allowances=profile.other_allowances, hourly_rate=profile.hourly_rate,
        hours_worked=profile.standard_hours if profile.pay_type == PayType.HOURLY else 0,
        employment_start=profile.start_date if profile.start_date and profile.start_date > period.start_date else None,
        employment_end=profile.end_date if profile.end_date and profile.end_date < period.end_date else None,
        payment_method=profile.payment_method,
        wallet_address=profile.wallet_address or (employee.wallet_address or ""),
        bank_details=profile.bank_details or {}, payout_asset=profile.payout_asset, created_by=actor)
    payslip.payout_intent_key = ""  # set to the payslip's id once saved (payslip_save_new)
    return payslip


def payslip_save_new(payslip: Payslip) -> Payslip:
    payslip.save(force_insert=True)
    Payslip.objects.filter(pk=payslip.pk).update(payout_intent_key=str(payslip.pk))
    payslip.payout_intent_key = str(payslip.pk)
    return payslip


def period_totals_refresh(period: PayrollPeriod) -> PayrollPeriod:
    """The period's totals from its payslips (not cancelled): payroll.engine.period_totals, sums of
    whole cents with nothing rounded again, so the total is exactly the sum of the payslips."""
    slips = Payslip.objects.for_organization(period.organization_id).filter(period=period).exclude(
        approval_status=ApprovalStatus.CANCELLED)
    totals = engine.period_totals(SimpleNamespace(
        gross=Decimal(s.gross_salary), tax=Decimal(s.tax), employee_insurance=Decimal(s.insurance),
        employer_insurance=Decimal(s.employer_insurance), other_deductions_total=Decimal(s.other_deductions_total),
        net=Decimal(s.net_salary)) for s in slips)
    period.total_amount, period.total_gross, period.total_tax = totals.net, totals.gross, totals.tax
    period.total_insurance = totals.employee_insurance + totals.employer_insurance
    period.payslip_count = totals.count
    PayrollPeriod.objects.filter(pk=period.pk).update(
        total_amount=period.total_amount, total_gross=period.total_gross, total_tax=period.total_tax,
        total_insurance=period.total_insurance, payslip_count=period.payslip_count, updated_at=timezone.now())
    return period


def _require_editable(actor, payslip: Payslip) -> None:
    permissions.require(permissions.can_manage_payroll(actor), MANAGERS_ONLY)
    permissions.require_own(actor, payslip)
    if payslip.employee_id == actor.pk:
        raise Forbidden(ErrorCode.OWN_PAYSLIP, "Nobody edits or approves their own payslip.")
    permissions.require(permissions.can_edit_payslip(actor, payslip), MANAGERS_ONLY)


def _open_period(payslip_or_period) -> PayrollPeriod:
    period = payslip_or_period if isinstance(payslip_or_period, PayrollPeriod) else payslip_or_period.period
    period = PayrollPeriod.objects.get(pk=period.pk)
    if period.status in (PeriodStatus.PAID, PeriodStatus.CANCELLED):
        raise Conflict(ErrorCode.PAYROLL_PERIOD_CLOSED, f"Period {period.period_id} is {period.status}.",
                       {"status": period.status})
    return period


def _clean_deductions(rows) -> list[dict]:
    if not isinstance(rows, list):
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "other_deductions is a list.", {"field": "other_deductions"})
    clean = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInput(ErrorCode.VALIDATION_ERROR, "Each deduction has a type, an amount and a description.")
        amount = engine_call(engine.to_money, row.get("amount"), f"other_deductions[{i}].amount")
        clean.append({"type": str(row.get("type") or "other")[:50], "amount": str(amount),
                      "description": str(row.get("description") or "")[:200]})
    return clean


def _apply_changes(payslip: Payslip, changes: dict) -> None:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    for name, value in changes.items():
        if value is None and name != "overtime_rate_override":
            continue
        if name in EDITABLE_MONEY or (name == "overtime_rate_override" and value is not None):
            value = engine_call(engine.to_money, value, name)
        elif name == "other_deductions":
            value = _clean_deductions(value)
        elif name == "payment_method" and value not in PaymentMethod.values:
            raise InvalidInput(ErrorCode.INVALID_METHOD, "payment_method is crypto, bank or cash.")
        elif name == "wallet_address" and value:
            value = address_normalise(value)
        setattr(payslip, name, value)


def payslip_update(*, actor, payslip: Payslip, **changes) -> Payslip:
    """Change a draft payslip (managers and admins, not their own): inputs, then the figures and the
    period's totals are recomputed."""
    _require_editable(actor, payslip)

    def work():
        current = Payslip.objects.get(pk=payslip.pk)
        if current.approval_status != ApprovalStatus.DRAFT:
            raise Conflict(ErrorCode.PAYSLIP_NOT_DRAFT, "Only a draft payslip can be changed.",
                           {"approval_status": current.approval_status})
        period = _open_period(current)
        _apply_changes(current, changes)
        payslip_compute(current, period)
        current.save()
        period_totals_refresh(period)
        return current

    return in_transaction(work)


def payslip_create(*, actor, period: PayrollPeriod, employee, **changes) -> Payslip:
    """Draft one payslip for a payable employee with a pay profile in a draft period (e.g. someone
    who joined after the period was created). One payslip per employee and period."""
    permissions.require(permissions.can_manage_payroll(actor), MANAGERS_ONLY)
    permissions.require_own(actor, period)
    if not organization_members(actor.organization_id).filter(pk=employee.pk).exists():
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    if employee.pk == actor.pk:
        raise Forbidden(ErrorCode.OWN_PAYSLIP, "Nobody drafts their own payslip.")
    if not payable_employee(employee):
        raise Conflict(ErrorCode.EMPLOYEE_NOT_VERIFIED, "Only active employees verified by their manager are paid.")
    profile = PayProfile.objects.for_organization(actor.organization_id).filter(employee=employee,
                                                                                 is_active=True).first()
    if profile is None:
        raise Conflict(ErrorCode.NO_PAY_PROFILE, "This employee has no pay profile.")
    profile.employee = employee

    def work():
        current = _open_period(period)
        if current.status != PeriodStatus.DRAFT:
            raise Conflict(ErrorCode.PAYROLL_PERIOD_NOT_DRAFT, "Payslips are added to a draft period.")
        if Payslip.objects.for_organization(current.organization_id).filter(period=current, employee=employee).exists():
            raise Conflict(ErrorCode.PAYSLIP_EXISTS, "This employee already has a payslip in this period.")
        number = Payslip.objects.for_organization(current.organization_id).filter(period=current).count() + 1
        payslip = payslip_from_profile(profile, current, number=number, actor=actor)
        _apply_changes(payslip, changes)
        payslip_compute(payslip, current)
        payslip_save_new(payslip)
        period_totals_refresh(current)
        return payslip

    try:
        return in_transaction(work)
    except IntegrityError:
        raise Conflict(ErrorCode.PAYSLIP_EXISTS, "This employee already has a payslip in this period.") from None


def payslip_approve(*, actor, payslip: Payslip) -> Payslip:
    """Approve a draft payslip (a manager or admin of its organization, never their own). A crypto
    payslip needs the employee's wallet address."""
    _require_editable(actor, payslip)

    def work():
        current = Payslip.objects.get(pk=payslip.pk)
        _open_period(current)
        if current.approval_status != ApprovalStatus.DRAFT:
            raise Conflict(ErrorCode.PAYSLIP_NOT_DRAFT, f"The payslip is already {current.approval_status}.",
                           {"approval_status": current.approval_status})
        if current.payment_method == PaymentMethod.CRYPTO and not current.wallet_address:
            raise Conflict(ErrorCode.EMPLOYEE_WALLET_MISSING,
                           "This payslip is paid in crypto and the employee has no wallet address.")
        now = timezone.now()
        updated = Payslip.objects.filter(pk=current.pk, approval_status=ApprovalStatus.DRAFT).update(
            approval_status=ApprovalStatus.APPROVED, approved_by=actor, approved_at=now, updated_at=now)
        if not updated:
            raise Conflict(ErrorCode.PAYSLIP_NOT_DRAFT, "The payslip changed meanwhile.")
        current.approval_status, current.approved_by, current.approved_at = ApprovalStatus.APPROVED, actor, now
        return current

    return in_transaction(work)
