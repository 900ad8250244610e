"""Reads for invoices paid in crypto. Who may read: core.permissions.can_view_invoices (those who
may view the books); rows through core.tenancy (another organization's invoice is not found)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from core import permissions
from invoicing.models import (
    Invoice,
    InvoiceKind,
    InvoicePayment,
    InvoiceStatus,
    InvoiceTemplate,
    UnappliedPayment,
    UnappliedStatus,
)
from invoicing.services.templates import templates_ensure

VIEW_REFUSED = "Invoices are for accountants, managers and admins of the organization."


def invoice_list_for(actor, *, status: str | None = None, kind: str | None = None,
                     client: str | None = None, overdue_on: dt.date | None = None) -> QuerySet:
    """`overdue_on`: only invoices overdue on that day (OVERDUE, or still open past their due date
    before the hourly sweep marked them)."""
    permissions.require(permissions.can_view_invoices(actor), VIEW_REFUSED)
    rows = Invoice.objects.for_actor(actor).order_by("-created_at", "-id")  # newest first: the time-index window
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    if client:
        rows = rows.filter(client_name__icontains=client)
    if overdue_on is not None:
        rows = rows.filter(Q(status=InvoiceStatus.OVERDUE) | Q(
            status__in=(InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID), due_date__lt=overdue_on))
    return rows


def invoice_get_for(actor, invoice_id):
    """One invoice of the actor's organization (None when missing or another organization's)."""
    permissions.require(permissions.can_view_invoices(actor), VIEW_REFUSED)
    return Invoice.objects.for_actor(actor).filter(pk=invoice_id).first()


def payments_of(invoice: Invoice) -> list[InvoicePayment]:
    return list(InvoicePayment.objects.for_organization(invoice.organization_id).filter(invoice_id=invoice.pk))


def unapplied_payments_of(invoice: Invoice) -> list[UnappliedPayment]:
    """The transfers settlement recorded against the invoice without applying them, oldest first."""
    return list(UnappliedPayment.objects.for_organization(invoice.organization_id).filter(invoice_id=invoice.pk)
                .order_by("mined_at", "external_id"))


def unapplied_payment_get(invoice: Invoice, unapplied_id) -> UnappliedPayment | None:
    """One unapplied payment of that invoice (None when missing or another invoice's)."""
    return UnappliedPayment.objects.for_organization(invoice.organization_id).filter(
        pk=unapplied_id, invoice_id=invoice.pk).first()


def unapplied_open_counts(organization_id, invoice_ids) -> dict:
    """How many open unapplied payments each of these invoices has (one query; absent: none)."""
    counts: dict = {}
    for invoice_id in UnappliedPayment.objects.for_organization(organization_id).filter(
            invoice_id__in=list(invoice_ids), status=UnappliedStatus.OPEN).values_list("invoice_id", flat=True):
        counts[invoice_id] = counts.get(invoice_id, 0) + 1
    return counts


def template_list_for(actor) -> QuerySet:
    permissions.require(permissions.can_view_invoices(actor), VIEW_REFUSED)
    templates_ensure(actor.organization_id)
    return InvoiceTemplate.objects.for_actor(actor).order_by("key")


def invoice_by_payment_token(token: str) -> Invoice | None:
    """The public payment page: an issued invoice by its unguessable token (no actor)."""
    if not token or len(token) < 20:
        return None
    return Invoice.objects.filter(payment_token=token).first()


@dataclass(frozen=True)
class TimelineStep:
    at: dt.datetime | dt.date
    label: str
    detail: str = ""


def invoice_timeline(invoice: Invoice, payments: list[InvoicePayment], credit_notes: list[Invoice],
                     unapplied: list[UnappliedPayment] | None = None) -> list[TimelineStep]:
    """What happened to an invoice, oldest first, from the moments it records (the status history)."""
    steps = [TimelineStep(invoice.created_at, "Draft created")]
    if invoice.issued_at:
        steps.append(TimelineStep(invoice.issued_at, f"Issued as {invoice.invoice_number}",
                                  f"due {invoice.due_date:%Y-%m-%d}" if invoice.due_date else ""))
    if invoice.crypto_rate_at and invoice.issued_at and invoice.crypto_rate_at > invoice.issued_at:
        steps.append(TimelineStep(invoice.crypto_rate_at, "Crypto amount re-quoted",
                                  f"{invoice.crypto_amount} {invoice.crypto_currency} at {invoice.crypto_rate}"
                                  f" {invoice.currency} ({invoice.crypto_rate_source})"))
    if invoice.sent_at:
        steps.append(TimelineStep(invoice.sent_at, "Emailed", invoice.client_email))
    for payment in payments:
        steps.append(TimelineStep(payment.received_at, f"Payment received ({payment.get_method_display()})",
                                  f"{payment.fiat_amount} {invoice.currency}"
                                  + (f" = {payment.crypto_amount} {payment.asset}" if payment.crypto_amount else "")
                                  + (f", tx {payment.tx_hash}" if payment.tx_hash else "")
                                  + (f", overpaid {payment.overpaid_amount}" if payment.overpaid_amount else "")))
    for note in credit_notes:
        if note.issued_at:
            steps.append(TimelineStep(note.issued_at, f"Credit note {note.invoice_number}",
                                      f"{note.total_amount} {note.currency}"))
    if invoice.status == InvoiceStatus.OVERDUE and invoice.due_date:
        steps.append(TimelineStep(invoice.due_date + dt.timedelta(days=1), "Overdue"))
    if invoice.last_reminder_at:
        steps.append(TimelineStep(invoice.last_reminder_at, "Reminder emailed"))
    for row in unapplied or ():
        steps.append(TimelineStep(row.mined_at, f"Unapplied payment ({row.get_reason_display().lower()})",
                                  f"{row.amount} {row.asset}, tx {row.tx_hash}, {row.get_status_display().lower()}"))
    if invoice.paid_at:
        steps.append(TimelineStep(invoice.paid_at, "Paid"))
    if invoice.cancelled_at:
        steps.append(TimelineStep(invoice.cancelled_at, "Cancelled"))

    def moment(step):
        at = step.at
        return at if isinstance(at, dt.datetime) else dt.datetime.combine(at, dt.time.min, tzinfo=dt.timezone.utc)

    return sorted(steps, key=moment)


def credit_notes_of(invoice: Invoice) -> list[Invoice]:
    return list(Invoice.objects.for_organization(invoice.organization_id).filter(
        credit_note_of_id=invoice.pk, kind=InvoiceKind.CREDIT_NOTE).order_by("created_at"))


def invoice_payment_purposes(organization_id, transaction_ids) -> dict[str, str]:
    """wallets.signals purpose resolver: which of these transactions paid one of the organization's
    invoices (the classifier's certain rule "invoice payment")."""
    rows = InvoicePayment.objects.for_organization(organization_id).filter(
        transaction_id__in=list(transaction_ids)).values_list("transaction_id", flat=True)
    return {str(transaction_id): "invoice" for transaction_id in rows if transaction_id is not None}
