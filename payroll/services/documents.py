"""The payslip as a document: the A4 PDF (weasyprint; the organization's branding, earnings and
deductions tables, year-to-date totals, the payment's reference or transaction hash) and the email
that sends it to the employee.

Sending is idempotent: the first send claims `emailed_at` with a conditional write (two sends at
once: one mails), a later send does nothing; an email the server refused releases the claim so a
retry can send."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone

from core import permissions
from core.errors import Conflict, ErrorCode, Unavailable
from core.models import Organization
from payroll.models import ApprovalStatus, PaymentStatus, Payslip
from payroll.services.common import MANAGERS_ONLY

logger = logging.getLogger(__name__)

YTD_FIELDS = ("gross_salary", "tax", "insurance", "other_deductions_total", "total_deductions", "net_salary")


def year_to_date(payslip: Payslip) -> dict[str, Decimal]:
    """Sums over the employee's payslips of the same organization paid in the calendar year of this
    payslip's pay date, up to it, this payslip included (paid or not)."""
    pay_date = payslip.period.pay_date
    slips = (Payslip.objects.for_organization(payslip.organization_id)
             .filter(employee_id=payslip.employee_id, period__pay_date__gte=pay_date.replace(month=1, day=1),
                     period__pay_date__lte=pay_date)
             .exclude(approval_status=ApprovalStatus.CANCELLED))
    totals = {name: Decimal("0.00") for name in YTD_FIELDS}
    for slip in slips:
        if slip.pk != payslip.pk and slip.payment_status != PaymentStatus.PAID:
            continue
        for name in YTD_FIELDS:
            totals[name] += Decimal(getattr(slip, name))
    return totals


def document_context(payslip: Payslip) -> dict:
    organization = Organization.objects.get(pk=payslip.organization_id)
    logo = ""
    if organization.logo:
        path = Path(settings.MEDIA_ROOT) / organization.logo.name
        logo = path.as_uri() if path.exists() else ""
    earnings = [(label, getattr(payslip, name)) for label, name in (
        ("Basic salary", "basic_salary"), ("Housing allowance", "housing_allowance"),
        ("Transport allowance", "transport_allowance"), ("Other allowances", "other_allowances"),
        ("Hourly pay", "hourly_pay"), ("Overtime", "overtime_amount"), ("Bonus", "bonus_amount"))
        if getattr(payslip, name)]
    deductions = [("Tax withheld", payslip.tax), ("Insurance (employee)", payslip.insurance)]
    deductions += [(d.get("description") or d.get("type") or "Other", Decimal(d["amount"]))
                   for d in payslip.other_deductions]
    return {"payslip": payslip, "period": payslip.period, "organization": organization, "logo_url": logo,
            "primary": organization.primary_color or "#1f3a5f", "secondary": organization.secondary_color or "#e8eef5",
            "earnings": earnings, "deductions": [(label, amount) for label, amount in deductions if amount],
            "ytd": year_to_date(payslip), "prorated": payslip.days_paid != payslip.days_in_period,
            "employee_gas": payslip.gas_fee_bearer == "employee" and payslip.gas_fee_charged is not None}


def payslip_pdf(payslip: Payslip) -> bytes:
    from weasyprint import HTML  # on use: ~1.3 s to import, paid by every process otherwise

    html = render_to_string("payroll/payslip_pdf.html", document_context(payslip))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def pdf_filename(payslip: Payslip) -> str:
    return f"payslip-{payslip.payslip_id}.pdf"


def payslip_send(*, actor, payslip: Payslip) -> tuple[Payslip, bool]:
    """Email the payslip's PDF to the employee (managers and admins; approved payslips). Returns
    (payslip, whether an email went out now)."""
    permissions.require(permissions.can_manage_payroll(actor), MANAGERS_ONLY)
    permissions.require_own(actor, payslip)
    payslip = Payslip.objects.get(pk=payslip.pk)  # the stored state decides, not the caller's copy
    if payslip.approval_status != ApprovalStatus.APPROVED:
        raise Conflict(ErrorCode.PAYSLIP_NOT_APPROVED, "Only an approved payslip is sent to the employee.",
                       {"approval_status": payslip.approval_status})
    rows = Payslip.objects.for_organization(payslip.organization_id).filter(pk=payslip.pk)
    now = timezone.now()
    to = payslip.employee.email
    if not rows.filter(emailed_at__isnull=True).update(emailed_at=now, emailed_to=to):
        payslip.refresh_from_db()
        return payslip, False
    payslip.refresh_from_db()
    organization = Organization.objects.get(pk=payslip.organization_id)
    pdf = payslip_pdf(payslip)
    body = render_to_string("payroll/payslip_email.txt", {"payslip": payslip, "organization": organization})
    message = EmailMessage(subject=f"Payslip {payslip.payslip_id} from {organization.name}", body=body,
                           from_email=settings.DEFAULT_FROM_EMAIL, to=[to],
                           reply_to=[organization.email] if organization.email else None)
    message.attach(pdf_filename(payslip), pdf, "application/pdf")
    try:
        message.send()
    except Exception as exc:  # the mail server refused or is down: release the claim, say so
        rows.filter(emailed_at=now).update(emailed_at=None, emailed_to="")
        logger.warning("payslip %s: email failed: %s", payslip.pk, exc)
        raise Unavailable(ErrorCode.MAIL_UNAVAILABLE, "The mail server did not accept the payslip; try again.") from None
    return payslip, True
