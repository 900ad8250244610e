"""The invoice lifecycle: which status may follow which, issuing (numbering, the crypto quote and the
books in one transaction), cancelling, the status endpoint, and the overdue sweep.

    DRAFT          -> SENT, CANCELLED
    SENT           -> PAID, PARTIALLY_PAID, OVERDUE, CANCELLED
    PARTIALLY_PAID -> PAID, OVERDUE            (extra state: part of the total is paid)
    OVERDUE        -> PAID, PARTIALLY_PAID     (paid late)
    PAID, CANCELLED: final.
A person sets SENT (issue without email), PAID (records a bank payment of what is due) or CANCELLED
(nothing paid yet); OVERDUE and PARTIALLY_PAID are set by the system (the overdue task, payments).
Anything else answers 409 invalid_transition with the statuses allowed from the current one.
A draft that is cancelled was never issued and gets no number; an issued one keeps its number and its
issue entry is reversed. An invoice fully credited by credit notes with nothing paid is CANCELLED.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import IntegrityError
from django.utils import timezone

from accounts.models import NotificationPriority, NotificationType
from accounts.notifications import notification_create
from core import organizations, permissions
from core.errors import Conflict, ErrorCode
from core.models import Organization
from core.realtime import Audience, organization_group, publish
from core.transactions import after_commit, in_transaction
from invoicing.events import pay_publish
from invoicing.models import Invoice, InvoiceStatus, OPEN_STATUSES
import invoicing.services.books as books
import invoicing.services.crypto as crypto
import invoicing.services.numbering as numbering

S = InvoiceStatus
TRANSITIONS = {
    S.DRAFT: (S.SENT, S.CANCELLED),
    S.SENT: (S.PAID, S.PARTIALLY_PAID, S.OVERDUE, S.CANCELLED),
    S.PARTIALLY_PAID: (S.PAID, S.OVERDUE),
    S.OVERDUE: (S.PAID, S.PARTIALLY_PAID),
    S.PAID: (),
    S.CANCELLED: (),
}
MANUAL_TARGETS = (S.SENT, S.PAID, S.CANCELLED)
DEFAULT_TERMS_DAYS = 30
ISSUE_REFUSED = "Only managers and admins issue, cancel or settle invoices."
SLOT_ATTEMPTS = 20


def allowed_from(status: str, *, manual: bool = True) -> list[str]:
    return [str(s) for s in TRANSITIONS.get(status, ()) if not manual or s in MANUAL_TARGETS]


def transition_error(invoice: Invoice, target: str) -> Conflict:
    allowed = allowed_from(invoice.status)
    return Conflict(ErrorCode.INVALID_TRANSITION,
                    f"An invoice that is {invoice.status} cannot become {target}"
                    + (f"; allowed: {', '.join(allowed)}." if allowed else "; it is final."),
                    {"status": str(invoice.status), "requested": str(target), "allowed": allowed})


def organization_today(organization_id) -> dt.date:
    return organizations.organization_today(Organization.objects.get(pk=organization_id))


def invoice_event(invoice: Invoice, event_type: str) -> None:
    """Live event to those who may read invoices (the books audience) and to the invoice's public
    payment page (invoicing.events), after the commit."""
    publish(organization_group(invoice.organization_id, Audience.BOOKS), event_type, {
        "id": invoice.pk, "invoice_number": invoice.invoice_number, "status": invoice.status,
        "total_amount": invoice.total_amount, "amount_due": invoice.amount_due, "currency": invoice.currency})
    pay_publish(invoice, event_type)


def _taken_slots(organization_id, exclude_pk) -> set[str]:
    return set(Invoice.objects.for_organization(organization_id).exclude(pk=exclude_pk)
               .filter(payment_slot__isnull=False).values_list("payment_slot", flat=True))


def _apply_credit(note: Invoice) -> None:
    """Inside the issuing transaction of a credit note: the credited invoice owes that much less."""
    original = Invoice.objects.for_organization(note.organization_id).get(pk=note.credit_note_of_id)
    original.credited_amount += -note.total_amount
    updates = {"credited_amount": original.credited_amount}
    if original.amount_due <= 0 and original.status in OPEN_STATUSES:
        updates["status"] = S.PAID if original.amount_paid > 0 else S.CANCELLED
        updates["payment_slot"] = None
        updates["paid_at" if original.amount_paid > 0 else "cancelled_at"] = timezone.now()
    Invoice.objects.for_organization(note.organization_id).filter(pk=original.pk).update(**updates)


def issue(*, actor, invoice: Invoice) -> Invoice:
    """DRAFT -> SENT: number, dates, the crypto quote (rate of this moment, its source, amount and
    validity) and the issue entry, all in one transaction (a failure leaves the draft as it was,
    with no number taken)."""
    organization_id = permissions.acting_organization_id(actor, permissions.can_issue_invoices, invoice.organization_id,
                                                         refused=ISSUE_REFUSED, system_allowed=False)
    if invoice.status != S.DRAFT:
        raise transition_error(invoice, S.SENT)
    issue_date = invoice.issue_date or organization_today(organization_id)
    due_date = invoice.due_date or (None if invoice.is_credit_note else issue_date + dt.timedelta(days=DEFAULT_TERMS_DAYS))
    quote = None
    if invoice.crypto_currency and invoice.crypto_payment_address and not invoice.is_credit_note \
            and invoice.total_amount > 0:
        quote = crypto.quote(organization_id=organization_id, symbol=invoice.crypto_currency,
                             fiat=invoice.currency, total=invoice.total_amount)
    series = numbering.CREDIT_NOTE_SERIES if invoice.is_credit_note else numbering.INVOICE_SERIES
    numbering.counter_ensure(organization_id, series, issue_date.year)
    books.prepare(organization_id, issue_date)
    token = None if invoice.is_credit_note else secrets.token_urlsafe(24)
    for _ in range(SLOT_ATTEMPTS):
        fields = {"status": S.SENT, "issue_date": issue_date, "due_date": due_date, "payment_token": token}
        if quote is not None:
            amount = crypto.free_amount(_taken_slots(organization_id, invoice.pk), invoice.crypto_payment_address,
                                        quote["asset"].symbol, quote["amount"])
            fields.update(crypto_amount=amount, crypto_rate=quote["rate"], crypto_rate_source=quote["source"],
                          crypto_rate_at=quote["at"], crypto_valid_until=quote["valid_until"],
                          payment_slot=crypto.slot_of(invoice.crypto_payment_address, quote["asset"].symbol, amount))

        def work():
            now = timezone.now()
            number = numbering.next_number(organization_id, series, issue_date.year)
            changed = Invoice.objects.for_organization(organization_id).filter(pk=invoice.pk, status=S.DRAFT).update(
                invoice_number=number, issued_at=now, updated_at=now, **fields)
            if not changed:
                raise transition_error(Invoice.objects.get(pk=invoice.pk), S.SENT)
            fresh = Invoice.objects.get(pk=invoice.pk)
            entry = books.post_issue(fresh, issue_date)
            if entry is not None:
                Invoice.objects.filter(pk=fresh.pk).update(issue_entry=entry)
            if fresh.is_credit_note:
                _apply_credit(fresh)
            fresh.refresh_from_db()
            invoice_event(fresh, "invoice.issued")
            return fresh

        try:
            return in_transaction(work)
        except IntegrityError:
            slot = fields.get("payment_slot")
            if slot and Invoice.objects.for_organization(organization_id).filter(payment_slot=slot).exclude(
                    pk=invoice.pk).exists():
                continue  # another invoice took that amount a moment ago: nudge and try again
            raise
    raise Conflict(ErrorCode.CONFLICT, "Could not reserve a distinct payment amount; try again.")


def requote(*, actor, invoice: Invoice) -> Invoice:
    """A new crypto quote for an open invoice whose quote expired: the rate of this moment, its
    source, a new validity window and the amount of the total at that rate (nudged like at issue, so
    open amounts on one address stay distinct). What is still due in crypto follows from it
    (invoicing.services.payments.crypto_due). Refused while the quote still holds (409
    quote_not_expired): a payer may be paying it. A compare-and-set on the old validity: of two
    re-quotes at once, one applies and the other answers 409."""
    organization_id = permissions.acting_organization_id(actor, permissions.can_issue_invoices, invoice.organization_id,
                                                         refused=ISSUE_REFUSED, system_allowed=False)
    if invoice.status not in OPEN_STATUSES or invoice.is_credit_note:
        raise Conflict(ErrorCode.INVOICE_NOT_OPEN, f"The invoice is {invoice.status}: there is nothing to quote.",
                       {"status": str(invoice.status)})
    if invoice.crypto_amount is None or not invoice.crypto_payment_address:
        raise Conflict(ErrorCode.NO_CRYPTO_TERMS, "The invoice has no crypto payment terms to re-quote.", {})
    if not crypto.quote_expired(invoice):
        raise Conflict(ErrorCode.QUOTE_NOT_EXPIRED, "The crypto quote still holds; re-quote once it has expired.",
                       {"valid_until": invoice.crypto_valid_until.isoformat()})
    quote = crypto.quote(organization_id=organization_id, symbol=invoice.crypto_currency, fiat=invoice.currency,
                         total=invoice.total_amount)
    symbol = quote["asset"].symbol
    for _ in range(SLOT_ATTEMPTS):
        amount = crypto.free_amount(_taken_slots(organization_id, invoice.pk), invoice.crypto_payment_address, symbol,
                                    quote["amount"])
        try:
            changed = Invoice.objects.for_organization(organization_id).filter(
                pk=invoice.pk, status__in=OPEN_STATUSES, crypto_valid_until=invoice.crypto_valid_until).update(
                crypto_amount=amount, crypto_rate=quote["rate"], crypto_rate_source=quote["source"],
                crypto_rate_at=quote["at"], crypto_valid_until=quote["valid_until"], updated_at=timezone.now(),
                payment_slot=crypto.slot_of(invoice.crypto_payment_address, symbol, amount))
        except IntegrityError:
            continue  # another invoice took that amount a moment ago: nudge and try again
        fresh = Invoice.objects.get(pk=invoice.pk)
        if not changed:
            raise Conflict(ErrorCode.CONFLICT, "The invoice changed meanwhile (paid, cancelled or re-quoted).",
                           {"status": str(fresh.status)})
        invoice_event(fresh, "invoice.requoted")
        return fresh
    raise Conflict(ErrorCode.CONFLICT, "Could not reserve a distinct payment amount; try again.")


def cancel(*, actor, invoice: Invoice) -> Invoice:
    """DRAFT or SENT (nothing paid) -> CANCELLED; an issued invoice's entry is reversed."""
    organization_id = permissions.acting_organization_id(actor, permissions.can_issue_invoices, invoice.organization_id,
                                                         refused=ISSUE_REFUSED, system_allowed=False)
    if S.CANCELLED not in TRANSITIONS.get(invoice.status, ()) or invoice.amount_paid > 0:
        raise transition_error(invoice, S.CANCELLED)
    was = invoice.status
    if was != S.DRAFT:
        books.prepare(organization_id, organization_today(organization_id))

    def work():
        now = timezone.now()
        changed = Invoice.objects.for_organization(organization_id).filter(
            pk=invoice.pk, status=was, amount_paid=0).update(status=S.CANCELLED, cancelled_at=now, updated_at=now,
                                                             payment_slot=None)
        if not changed:
            raise transition_error(Invoice.objects.get(pk=invoice.pk), S.CANCELLED)
        fresh = Invoice.objects.select_related("issue_entry").get(pk=invoice.pk)
        if was != S.DRAFT:
            books.reverse_issue(fresh)
        invoice_event(fresh, "invoice.cancelled")
        return fresh

    return in_transaction(work)


def invoices_mark_overdue() -> int:
    """The periodic sweep: open invoices (SENT, PARTIALLY_PAID) past their due date (in their
    organization's calendar) become OVERDUE, once each (a conditional write); their creator is told."""
    marked = 0
    horizon = timezone.now().date() + dt.timedelta(days=1)
    candidates = Invoice.objects.filter(status__in=(S.SENT, S.PARTIALLY_PAID), due_date__lt=horizon,
                                        kind="INVOICE").select_related("user")
    today_of: dict = {}
    for invoice in candidates:
        org = invoice.organization_id
        if org not in today_of:
            today_of[org] = organization_today(org)
        if invoice.due_date >= today_of[org]:
            continue
        changed = Invoice.objects.for_organization(org).filter(pk=invoice.pk, status=invoice.status).update(
            status=S.OVERDUE, updated_at=timezone.now())
        if not changed:
            continue
        marked += 1
        invoice.status = S.OVERDUE
        after_commit(lambda invoice=invoice: _overdue_notice(invoice), robust=True)
    return marked


def _overdue_notice(invoice: Invoice) -> None:
    notification_create(user=invoice.user, type=NotificationType.INVOICE, priority=NotificationPriority.HIGH,
                        title=f"Invoice {invoice.invoice_number} is overdue",
                        message=f"{invoice.client_name} owes {invoice.amount_due} {invoice.currency}; "
                                f"it was due on {invoice.due_date}.",
                        metadata={"invoice_id": str(invoice.pk)})
    invoice_event(invoice, "invoice.overdue")
