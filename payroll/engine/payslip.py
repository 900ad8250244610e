"""One payslip's figures from its inputs, and a period's totals.

Earnings: basic salary + housing + transport + other allowances (each an amount for a FULL period,
pro-rated by the calendar days employed inside the period when the employee starts or leaves inside
it) + hourly pay (hours worked x hourly rate: hourly staff; never pro-rated, the hours are the
actual ones) + overtime (overtime hours x overtime rate; the rate defaults to the organization's
overtime multiple x the hourly rate) + bonus = gross.

Deductions: tax withheld (the withholding table in force on the pay date, on the gross) + the
employee's insurance (rate x gross) + other deductions (a free-form list, e.g. a loan repayment)
= total deductions; net = gross - total deductions (never negative). The employer's insurance (rate
x gross) is not deducted: it is the employer's extra cost, booked with the salary expense.

Each line is rounded once with `cents()`; the totals are sums of those lines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from payroll.engine.rounding import EXACT, ZERO, PayrollError, cents, to_money
from payroll.engine.withholding import WithholdingTable, withheld_tax

DEFAULT_OVERTIME_MULTIPLE = Decimal("1.5")


@dataclass(frozen=True)
class Deduction:
    type: str
    amount: Decimal
    description: str = ""


@dataclass(frozen=True)
class PayInputs:
    period_start: dt.date
    period_end: dt.date
    basic_salary: Decimal = Decimal(0)  # per full period
    housing_allowance: Decimal = Decimal(0)  # per full period
    transport_allowance: Decimal = Decimal(0)  # per full period
    other_allowances: Decimal = Decimal(0)  # per full period
    hourly_rate: Decimal = Decimal(0)
    hours_worked: Decimal = Decimal(0)  # paid at the hourly rate (hourly staff)
    overtime_hours: Decimal = Decimal(0)
    overtime_rate: Decimal | None = None  # None: overtime_multiple x hourly_rate
    overtime_multiple: Decimal = DEFAULT_OVERTIME_MULTIPLE
    bonus: Decimal = Decimal(0)
    other_deductions: tuple[Deduction, ...] = ()
    employment_start: dt.date | None = None  # first day employed, if inside the period
    employment_end: dt.date | None = None  # last day employed (leave date), if inside the period


@dataclass(frozen=True)
class PayslipFigures:
    basic_salary: Decimal
    housing_allowance: Decimal
    transport_allowance: Decimal
    other_allowances: Decimal
    hourly_pay: Decimal
    overtime_rate: Decimal  # the rate applied (exact; a rate, not an amount)
    overtime_amount: Decimal
    bonus: Decimal
    gross: Decimal
    tax: Decimal
    employee_insurance: Decimal
    other_deductions: tuple[Deduction, ...]
    other_deductions_total: Decimal
    total_deductions: Decimal
    net: Decimal
    employer_insurance: Decimal
    days_paid: int
    days_in_period: int

    @property
    def allowances_total(self) -> Decimal:
        return self.housing_allowance + self.transport_allowance + self.other_allowances

    @property
    def employer_cost(self) -> Decimal:
        return self.gross + self.employer_insurance


@dataclass(frozen=True)
class PeriodTotals:
    count: int = 0
    gross: Decimal = ZERO
    tax: Decimal = ZERO
    employee_insurance: Decimal = ZERO
    employer_insurance: Decimal = ZERO
    other_deductions: Decimal = ZERO
    net: Decimal = ZERO
    by_method: dict = field(default_factory=dict)

    @property
    def employer_cost(self) -> Decimal:
        return self.gross + self.employer_insurance


def prorate_fraction(period_start: dt.date, period_end: dt.date, employment_start: dt.date | None = None,
                     employment_end: dt.date | None = None) -> tuple[int, int]:
    """(days employed inside the period, days in the period), both counted inclusively."""
    if period_end < period_start:
        raise PayrollError("invalid_period", "A period ends on or after its start.")
    first = max(period_start, employment_start) if employment_start else period_start
    last = min(period_end, employment_end) if employment_end else period_end
    days_in_period = (period_end - period_start).days + 1
    return max((last - first).days + 1, 0), days_in_period


def _prorated(amount: Decimal, days_paid: int, days_in_period: int) -> Decimal:
    if days_paid == days_in_period:
        return cents(amount)
    return cents(EXACT.divide(EXACT.multiply(amount, Decimal(days_paid)), Decimal(days_in_period)))


def compute_payslip(inputs: PayInputs, table: WithholdingTable) -> PayslipFigures:
    days_paid, days_in_period = prorate_fraction(inputs.period_start, inputs.period_end, inputs.employment_start,
                                                 inputs.employment_end)
    if days_paid == 0:
        raise PayrollError("not_employed_in_period", "The employee was not employed during this period.")
    money = {name: to_money(getattr(inputs, name), name) for name in (
        "basic_salary", "housing_allowance", "transport_allowance", "other_allowances", "hourly_rate",
        "hours_worked", "overtime_hours", "overtime_multiple", "bonus")}
    basic = _prorated(money["basic_salary"], days_paid, days_in_period)
    housing = _prorated(money["housing_allowance"], days_paid, days_in_period)
    transport = _prorated(money["transport_allowance"], days_paid, days_in_period)
    others = _prorated(money["other_allowances"], days_paid, days_in_period)
    hourly_pay = cents(EXACT.multiply(money["hours_worked"], money["hourly_rate"]))
    if inputs.overtime_rate is not None:
        overtime_rate = to_money(inputs.overtime_rate, "overtime_rate")
    else:
        overtime_rate = EXACT.multiply(money["overtime_multiple"], money["hourly_rate"])
        if money["overtime_hours"] > 0 and overtime_rate == 0:
            raise PayrollError("overtime_rate_required",
                               "Overtime needs an overtime rate or an hourly rate to multiply.")
    overtime = cents(EXACT.multiply(money["overtime_hours"], overtime_rate))
    bonus = cents(money["bonus"])
    gross = basic + housing + transport + others + hourly_pay + overtime + bonus

    tax = cents(withheld_tax(gross, table))
    employee_insurance = cents(EXACT.multiply(gross, Decimal(table.employee_insurance_rate)))
    employer_insurance = cents(EXACT.multiply(gross, Decimal(table.employer_insurance_rate)))
    deductions = tuple(Deduction(type=(d.type or "other").strip()[:50] or "other",
                                 amount=cents(to_money(d.amount, f"other_deductions[{i}].amount")),
                                 description=(d.description or "").strip()[:200])
                       for i, d in enumerate(inputs.other_deductions))
    other_total = sum((d.amount for d in deductions), ZERO)
    total_deductions = tax + employee_insurance + other_total
    net = gross - total_deductions
    if net < 0:
        raise PayrollError("negative_net_pay", f"Deductions ({total_deductions}) exceed gross pay ({gross}).",
                           {"gross": str(gross), "deductions": str(total_deductions)})
    return PayslipFigures(
        basic_salary=basic, housing_allowance=housing, transport_allowance=transport, other_allowances=others,
        hourly_pay=hourly_pay, overtime_rate=overtime_rate, overtime_amount=overtime, bonus=bonus, gross=gross,
        tax=tax, employee_insurance=employee_insurance, other_deductions=deductions,
        other_deductions_total=other_total, total_deductions=total_deductions, net=net,
        employer_insurance=employer_insurance, days_paid=days_paid, days_in_period=days_in_period)


def period_totals(payslips, method_of=None) -> PeriodTotals:
    """Sums of a period's payslips (figures or anything with the same attribute names). Sums of whole
    cents: nothing is rounded here. `method_of(slip)` (optional) groups the net by payment method."""
    totals = dict(count=0, gross=ZERO, tax=ZERO, employee_insurance=ZERO, employer_insurance=ZERO,
                  other_deductions=ZERO, net=ZERO)
    by_method: dict = {}
    for slip in payslips:
        totals["count"] += 1
        totals["gross"] += slip.gross
        totals["tax"] += slip.tax
        totals["employee_insurance"] += slip.employee_insurance
        totals["employer_insurance"] += slip.employer_insurance
        totals["other_deductions"] += slip.other_deductions_total
        totals["net"] += slip.net
        if method_of is not None:
            method = method_of(slip)
            by_method[method] = by_method.get(method, ZERO) + slip.net
    return PeriodTotals(**totals, by_method=by_method)
