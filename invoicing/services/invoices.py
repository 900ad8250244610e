"""Draft invoices: create, change, delete (those who work the books), and credit notes (a manager's:
a negative invoice linked to an issued one, issued at once). Amounts come from invoicing.totals,
never from the client; the invoice's currency is its organization's reporting fiat (its books')."""

from __future__ import annotations

from core import permissions
from core.errors import Conflict, ErrorCode, InvalidInput
from core.models import Organization
from invoicing.models import Invoice, InvoiceItem, InvoiceKind, InvoiceStatus, OPEN_STATUSES
import invoicing.services.crypto as crypto
from invoicing.services.lifecycle import issue
from invoicing.services.templates import template_resolve
from invoicing.totals import TotalsError, compute

EDIT_REFUSED = "Only those who work the books (accountants, managers, admins) edit invoices."
ISSUE_REFUSED = "Only managers and admins issue invoices, credit notes and payments."


def totals_of(items, *, tax_rate, fiat: str, credit: bool = False):
    try:
        return compute(items, tax_rate=tax_rate, fiat=fiat, credit=credit)
    except TotalsError as exc:
        raise InvalidInput(ErrorCode.INVALID_ITEMS, exc.message, exc.details) from None


def _apply_totals(invoice: Invoice, items, tax_rate, *, credit: bool = False) -> None:
    totals = totals_of(items, tax_rate=tax_rate, fiat=invoice.currency, credit=credit)
    invoice.items = [InvoiceItem(description=line.description, quantity=line.quantity, unit_price=line.unit_price,
                                 tax_rate=line.tax_rate, total=line.total) for line in totals.lines]
    invoice.tax_rate = tax_rate or 0
    invoice.subtotal, invoice.tax_amount, invoice.total_amount = totals.subtotal, totals.tax_amount, totals.total_amount


def _currency(organization_id, currency: str | None) -> str:
    fiat = Organization.objects.filter(pk=organization_id).values_list("reporting_fiat", flat=True).first() or "USD"
    if currency and currency.strip().upper() != fiat:
        raise InvalidInput(ErrorCode.INVALID_CURRENCY,
                           f"Invoices are in the organization's reporting currency, {fiat}.", {"currency": fiat})
    return fiat


def _dates(issue_date, due_date) -> None:
    if issue_date and due_date and due_date < issue_date:
        raise InvalidInput(ErrorCode.INVALID_DATE, "The due date cannot be before the issue date.",
                           {"issue_date": str(issue_date), "due_date": str(due_date)})


def _crypto_terms(invoice: Invoice, payment_wallet_id, crypto_currency) -> None:
    if not payment_wallet_id and not crypto_currency:
        invoice.payment_wallet, invoice.crypto_payment_address, invoice.crypto_currency = None, "", ""
        return
    if not payment_wallet_id or not crypto_currency:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "Crypto payment needs both a receiving wallet and an asset.",
                           {"fields": ["payment_wallet_id", "crypto_currency"]})
    wallet = crypto.payment_wallet_get(invoice.organization_id, payment_wallet_id)
    asset = crypto.payment_asset_get(crypto_currency)
    invoice.payment_wallet, invoice.crypto_payment_address, invoice.crypto_currency = wallet, wallet.address, asset.symbol


def invoice_create(*, actor, client_name: str, items, client_email: str = "", client_address: str = "",
                   issue_date=None, due_date=None, tax_rate=None, currency: str | None = None, notes: str = "",
                   template: str | None = None, payment_wallet_id=None, crypto_currency: str | None = None) -> Invoice:
    organization_id = permissions.acting_organization_id(actor, permissions.can_edit_invoices, refused=EDIT_REFUSED,
                                                         system_allowed=False)
    _dates(issue_date, due_date)
    invoice = Invoice(organization_id=organization_id, user=actor, client_name=client_name.strip(),
                      client_email=client_email or "", client_address=client_address or "", issue_date=issue_date,
                      due_date=due_date, notes=notes or "", currency=_currency(organization_id, currency),
                      template=template_resolve(organization_id, template))
    if not invoice.client_name:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "A client name is required.", {"field": "client_name"})
    _apply_totals(invoice, items, tax_rate)
    _crypto_terms(invoice, payment_wallet_id, crypto_currency)
    invoice.full_clean(exclude=["organization", "user", "template", "payment_wallet", "credit_note_of", "issue_entry"])
    invoice.save()
    return invoice


def _not_draft(invoice: Invoice) -> Conflict:
    return Conflict(ErrorCode.INVOICE_NOT_DRAFT,
                    f"The invoice is {invoice.status}: only drafts change; correct an issued invoice with a credit note.",
                    {"status": invoice.status, "invoice_number": invoice.invoice_number})


UPDATABLE = ("client_name", "client_email", "client_address", "issue_date", "due_date", "tax_rate", "notes",
             "template", "items", "currency", "payment_wallet_id", "crypto_currency")


def invoice_update(*, actor, invoice: Invoice, **changes) -> Invoice:
    """Change a draft (only the given fields; items and rate recompute the totals). A conditional
    write: an issue that lands first wins and this answers 409."""
    permissions.acting_organization_id(actor, permissions.can_edit_invoices, invoice.organization_id,
                                       refused=EDIT_REFUSED, system_allowed=False)
    if invoice.status != InvoiceStatus.DRAFT:
        raise _not_draft(invoice)
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    for name in ("client_name", "client_email", "client_address", "issue_date", "due_date", "notes"):
        if name in changes and changes[name] is not None:
            setattr(invoice, name, changes[name].strip() if isinstance(changes[name], str) else changes[name])
    if not invoice.client_name:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "A client name is required.", {"field": "client_name"})
    _dates(invoice.issue_date, invoice.due_date)
    if changes.get("currency") is not None:
        _currency(invoice.organization_id, changes["currency"])
    if changes.get("template") is not None:
        invoice.template = template_resolve(invoice.organization_id, changes["template"])
    if changes.get("items") is not None or changes.get("tax_rate") is not None:
        items = changes.get("items")
        if items is None:
            items = [{"description": i.description, "quantity": i.quantity, "unit_price": i.unit_price,
                      "tax_rate": i.tax_rate} for i in invoice.items]
        _apply_totals(invoice, items, changes["tax_rate"] if changes.get("tax_rate") is not None else invoice.tax_rate)
    if "payment_wallet_id" in changes or "crypto_currency" in changes:
        _crypto_terms(invoice, changes.get("payment_wallet_id", invoice.payment_wallet_id),
                      changes.get("crypto_currency", invoice.crypto_currency))
    invoice.full_clean(exclude=["organization", "user", "template", "payment_wallet", "credit_note_of", "issue_entry"])
    fields = {name: getattr(invoice, name) for name in (
        "client_name", "client_email", "client_address", "issue_date", "due_date", "notes", "template", "items",
        "tax_rate", "subtotal", "tax_amount", "total_amount", "payment_wallet", "crypto_payment_address",
        "crypto_currency")}
    changed = Invoice.objects.for_organization(invoice.organization_id).filter(
        pk=invoice.pk, status=InvoiceStatus.DRAFT).update(**fields)
    if not changed:
        invoice.refresh_from_db()
        raise _not_draft(invoice)
    invoice.refresh_from_db()
    return invoice


def invoice_delete(*, actor, invoice: Invoice) -> None:
    permissions.acting_organization_id(actor, permissions.can_edit_invoices, invoice.organization_id,
                                       refused=EDIT_REFUSED, system_allowed=False)
    deleted, _ = Invoice.objects.for_organization(invoice.organization_id).filter(
        pk=invoice.pk, status=InvoiceStatus.DRAFT).delete()
    if not deleted:
        invoice.refresh_from_db()
        raise Conflict(ErrorCode.INVOICE_NOT_DRAFT,
                       f"The invoice is {invoice.status}: only drafts are deleted; cancel it or credit it instead.",
                       {"status": invoice.status})


def credit_note_create(*, actor, invoice: Invoice, items=None, reason: str = "") -> Invoice:
    """A credit note for an issued invoice: by default every item back (when nothing was credited
    yet), or the given items (positive; the note negates them). Issued at once (number CN-<year>-<n>, entry
    reversing revenue, tax and receivables); it reduces the invoice's amount due. Crediting more
    than is still due (total - paid - credited) is refused."""
    permissions.acting_organization_id(actor, permissions.can_issue_invoices, invoice.organization_id,
                                       refused=ISSUE_REFUSED, system_allowed=False)
    if invoice.is_credit_note or invoice.status not in (*OPEN_STATUSES, InvoiceStatus.PAID):
        raise Conflict(ErrorCode.NOTHING_TO_CREDIT, "Only an issued invoice is credited.", {"status": invoice.status})
    if items is None:
        if invoice.credited_amount:
            raise Conflict(ErrorCode.NOTHING_TO_CREDIT, "Part of the invoice is credited already: name the items to credit.",
                           {"credited_amount": str(invoice.credited_amount)})
        items = [{"description": i.description, "quantity": i.quantity, "unit_price": i.unit_price,
                  "tax_rate": i.tax_rate} for i in invoice.items]
    note = Invoice(organization_id=invoice.organization_id, user=actor, kind=InvoiceKind.CREDIT_NOTE,
                   credit_note_of=invoice, client_name=invoice.client_name, client_email=invoice.client_email,
                   client_address=invoice.client_address, currency=invoice.currency, template=invoice.template,
                   notes=(reason or f"Credit note for {invoice.invoice_number}").strip())
    _apply_totals(note, items, invoice.tax_rate, credit=True)
    if -note.total_amount > invoice.total_amount - invoice.credited_amount:
        raise Conflict(ErrorCode.NOTHING_TO_CREDIT, "A credit note cannot take back more than was invoiced.",
                       {"creditable": str(invoice.total_amount - invoice.credited_amount)})
    note.save()
    try:
        return issue(actor=actor, invoice=note)
    except BaseException:
        Invoice.objects.filter(pk=note.pk, status=InvoiceStatus.DRAFT).delete()  # never a stray draft note
        raise
