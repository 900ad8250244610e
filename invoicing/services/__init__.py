"""Writes for invoices paid in crypto: `<entity>_<action>(*, actor, ...)`, validated and transactional.
Who may do what: core.permissions (`# --- invoicing ---`): those who work the books read invoices and
work drafts; managers and admins issue, cancel, credit and record payments. Another organization's
invoice is 404.

One module per part, re-exported here (callers use `invoicing.services.<name>`):
- `invoices`: drafts (create, change, delete) and credit notes;
- `lifecycle`: the status machine, issuing (number, crypto quote, books), re-quoting an expired quote,
  cancelling, overdue sweep;
- `payments`: manual payments, the settlement of chain transfers (the matching rule) and the
  unapplied payments staff apply or dismiss;
- `crypto`: payment terms, quote, EIP-681 request, QR code;
- `books`: the journal entries; `numbering`: INV-/CN- numbers; `templates`: stored templates;
- `documents`: the PDF and the email.
"""

from invoicing.services.invoices import credit_note_create, invoice_create, invoice_delete, invoice_update
from invoicing.services.lifecycle import (
    TRANSITIONS,
    allowed_from,
    cancel as invoice_cancel,
    invoices_mark_overdue,
    issue as invoice_issue,
    requote as invoice_requote,
)
from invoicing.services.payments import (
    invoices_settle_transfers,
    payment_record_manual,
    unapplied_payment_apply,
    unapplied_payment_dismiss,
)
from invoicing.services.status import status_set as invoice_status_set
from invoicing.services.templates import template_resolve, templates_ensure

__all__ = [
    "TRANSITIONS", "allowed_from", "credit_note_create", "invoice_cancel", "invoice_create", "invoice_delete",
    "invoice_issue", "invoice_requote", "invoice_status_set", "invoice_update", "invoices_mark_overdue", "invoices_settle_transfers",
    "payment_record_manual", "template_resolve", "templates_ensure", "unapplied_payment_apply",
    "unapplied_payment_dismiss",
]
