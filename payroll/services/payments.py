"""Paying approved payslips, and the books.

- `payroll_period_process` pays every approved, unpaid payslip of a period; `payslip_payment_process`
  pays one. Bank and cash payslips are marked paid by a manager with a reference (the bank batch or
  the receipt); both post, in the same transaction as the status change:
    accrual (dated the pay date):  Dr Salaries (gross + employer insurance)
                                   Cr Payroll liabilities (net pay)
                                   Cr Tax payable (tax withheld)
                                   Cr Payroll liabilities (employee + employer insurance, other deductions)
    payment (dated the payment):   Dr Payroll liabilities / Cr Bank or Cash (net pay)
  Each entry has a source key per payslip (`payroll:<payslip>:accrual` / `:payment`), so it is in the
  books once; the status moves by a conditional update (pending -> paid), so a payslip is paid once.
- Crypto payslips are paid on chain, exactly once: payroll.services.crypto_payouts (the accrual
  above when their terms are fixed; the payment entry when the transfer confirms). The entry points
  that choose between the two are in payroll.services.processing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from accounts.models import NotificationType
from accounts.notifications import notification_create
from core.errors import Conflict, ErrorCode
from core.realtime import Audience, organization_group, publish, user_group
from core.transactions import after_commit, in_transaction
from ledger.services import chart_account_get, journal_entries_post_batch
from ledger.services import numbering as ledger_numbering
from payroll.models import ApprovalStatus, PaymentMethod, PaymentStatus, PayrollPeriod, PeriodStatus, Payslip

def journal_counters_ensure(organization_id, *days) -> None:
    """The ledger's entry-number counters of the years these entries may fall in exist BEFORE the
    transaction that posts them (ledger.services.numbering: a counter is never made inside one).
    The day after and before too: an entry's year is the organization's calendar's."""
    now = timezone.now().date()
    years = {d.year for day in (*days, now) for d in (day - dt.timedelta(days=1), day, day + dt.timedelta(days=1))}
    for year in sorted(years):
        ledger_numbering.counter_ensure(organization_id, year)


def accounts_of(organization_id) -> dict[str, str]:
    return {key: chart_account_get(key=key, organization_id=organization_id).account_code
            for key in ("salaries", "payroll_liabilities", "tax_payable", "bank", "cash", "general_expenses",
                        "gas_fees", "fx_gains", "fx_losses")}


def _lines(*lines):
    return [line for line in lines if (line.get("debit_amount") or line.get("credit_amount"))]


def accrual_spec(payslip: Payslip, period: PayrollPeriod, codes: dict) -> dict | None:
    gross, employer = Decimal(payslip.gross_salary), Decimal(payslip.employer_insurance)
    if gross + employer == 0:
        return None
    withheld_to_liabilities = (Decimal(payslip.insurance) + employer + Decimal(payslip.other_deductions_total))
    who = payslip.employee_name or str(payslip.employee_id)
    return {
        "date": period.pay_date, "description": f"Payroll {period.period_id}: {who} ({payslip.payslip_id})",
        "reference": payslip.payslip_id, "currency": payslip.currency,
        "source_key": f"payroll:{payslip.pk}:accrual",
        "line_items": _lines(
            {"account_code": codes["salaries"], "debit_amount": gross + employer,
             "description": "Gross pay and employer insurance"},
            {"account_code": codes["payroll_liabilities"], "credit_amount": Decimal(payslip.net_salary),
             "description": "Net pay owed"},
            {"account_code": codes["tax_payable"], "credit_amount": Decimal(payslip.tax),
             "description": "Tax withheld"},
            {"account_code": codes["payroll_liabilities"], "credit_amount": withheld_to_liabilities,
             "description": "Insurance (employee and employer) and other deductions"}),
    }


def _payment_spec(payslip: Payslip, codes: dict, reference: str, moment) -> dict | None:
    net = Decimal(payslip.net_salary)
    if net == 0:
        return None
    source = codes["bank"] if payslip.payment_method == PaymentMethod.BANK else codes["cash"]
    return {
        "date": moment, "description": f"Salary paid ({payslip.payment_method}): {payslip.payslip_id}",
        "reference": reference[:100], "currency": payslip.currency, "source_key": f"payroll:{payslip.pk}:payment",
        "line_items": [{"account_code": codes["payroll_liabilities"], "debit_amount": net, "description": "Net pay"},
                       {"account_code": source, "credit_amount": net, "description": reference[:500]}],
    }


def pay_by_reference(*, actor, period: PayrollPeriod, payslips: list[Payslip], references: dict[str, str]) -> list[Payslip]:
    """Pay `payslips` (approved, pending, bank or cash) of `period` in one transaction."""
    codes = accounts_of(period.organization_id)
    journal_counters_ensure(period.organization_id, period.pay_date)

    def work():
        now = timezone.now()
        current = list(Payslip.objects.filter(pk__in=[p.pk for p in payslips], approval_status=ApprovalStatus.APPROVED,
                                              payment_status=PaymentStatus.PENDING).order_by("payslip_id"))
        if len(current) != len(payslips):
            raise Conflict(ErrorCode.PAYSLIP_ALREADY_PAID, "A payslip was paid or changed meanwhile; nothing was paid.")
        specs, owners = [], []
        for payslip in current:
            if payslip.accrual_entry_id is None:
                spec = accrual_spec(payslip, period, codes)
                if spec:
                    specs.append(spec)
                    owners.append((payslip.pk, "accrual_entry"))
            spec = _payment_spec(payslip, codes, references[payslip.payslip_id], now)
            if spec:
                specs.append(spec)
                owners.append((payslip.pk, "payment_entry"))
        entries = journal_entries_post_batch(created_by=actor, entries=specs)
        links: dict = {}
        for (pk, field), entry in zip(owners, entries):
            links.setdefault(pk, {})[field] = entry
        for payslip in current:
            updated = Payslip.objects.filter(pk=payslip.pk, payment_status=PaymentStatus.PENDING).update(
                payment_status=PaymentStatus.PAID, payment_date=now, payment_reference=references[payslip.payslip_id],
                paid_by=actor, updated_at=now, **links.get(payslip.pk, {}))
            if not updated:
                raise Conflict(ErrorCode.PAYSLIP_ALREADY_PAID, "A payslip was paid meanwhile; nothing was paid.")
        fresh = PayrollPeriod.objects.get(pk=period.pk)
        fields = {"updated_at": now}
        if fresh.status == PeriodStatus.DRAFT:
            fields.update(status=PeriodStatus.PROCESSING, processed_at=now)
        unpaid = Payslip.objects.filter(period=period).exclude(approval_status=ApprovalStatus.CANCELLED).exclude(
            payment_status=PaymentStatus.PAID).exists()
        if not unpaid:
            fields.update(status=PeriodStatus.PAID, paid_at=now)
            fields.setdefault("processed_at", fresh.processed_at or now)
        PayrollPeriod.objects.filter(pk=period.pk).update(**fields)
        paid = list(Payslip.objects.filter(pk__in=[p.pk for p in current]).order_by("payslip_id"))
        for payslip in paid:
            after_commit(lambda p=payslip: announce_paid(p), robust=True)
        publish(organization_group(period.organization_id, Audience.BOOKS), "payroll.payslips_paid",
                {"period": str(period.pk), "payslips": [str(p.pk) for p in paid]})
        return paid

    return in_transaction(work)


def announce_paid(payslip: Payslip) -> None:
    notification_create(user=payslip.employee, type=NotificationType.PAYROLL, title="Your salary was paid",
                        message=f"Payslip {payslip.payslip_id}: net {payslip.net_salary} {payslip.currency} paid "
                                f"by {payslip.get_payment_method_display().lower()}.",
                        action_url="/app/payroll/my-payslips/", action_text="My payslips",
                        metadata={"payslip": str(payslip.pk)})
    publish(user_group(payslip.employee_id), "payroll.payslip_paid", {"id": str(payslip.pk),
                                                                       "payslip_id": payslip.payslip_id})


