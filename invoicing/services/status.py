"""PUT /api/invoices/{id}/status/: the statuses a person sets (invoicing.services.lifecycle's table)."""

from __future__ import annotations

from core import permissions
from invoicing.models import Invoice, InvoiceStatus as S
from invoicing.services.lifecycle import ISSUE_REFUSED, MANUAL_TARGETS, TRANSITIONS, cancel, issue, transition_error
from invoicing.services.payments import payment_record_manual


def status_set(*, actor, invoice: Invoice, status: str, reference: str = "") -> Invoice:
    """PUT /status/: SENT issues, CANCELLED cancels, PAID records a bank payment of what is due."""
    permissions.acting_organization_id(actor, permissions.can_issue_invoices, invoice.organization_id,
                                       refused=ISSUE_REFUSED, system_allowed=False)
    if status not in MANUAL_TARGETS or status not in TRANSITIONS.get(invoice.status, ()):
        raise transition_error(invoice, status)
    if status == S.SENT:
        return issue(actor=actor, invoice=invoice)
    if status == S.CANCELLED:
        return cancel(actor=actor, invoice=invoice)
    payment_record_manual(actor=actor, invoice=invoice, amount=invoice.amount_due, method="BANK",
                          reference=reference or "marked paid")
    return Invoice.objects.get(pk=invoice.pk)
