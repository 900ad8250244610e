"""The invoice as a document: the A4 PDF (weasyprint; branding of the organization, the template's
layout, footer and terms, the items table whose header repeats on every page, totals, tax, the
crypto payment block with its EIP-681 QR code) and the email that sends it.

Sending is idempotent: the first send claims `sent_at` with a conditional write (two sends at once:
one mails), a second send does nothing unless `resend=True`; an email the server refused releases the
claim so a retry can send. Sending a draft issues it first (a manager's right)."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone

from core import permissions
from core.errors import ErrorCode, InvalidInput, Unavailable
from core.models import Organization
from invoicing.models import Invoice, InvoiceStatus
import invoicing.services.crypto as crypto
from invoicing.services.lifecycle import ISSUE_REFUSED, issue, transition_error
from invoicing.services.payments import crypto_due
from invoicing.services.templates import template_resolve

logger = logging.getLogger(__name__)


def payment_page_url(invoice: Invoice) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/pay/{invoice.payment_token}/" if invoice.payment_token else ""


def document_context(invoice: Invoice) -> dict:
    organization = Organization.objects.get(pk=invoice.organization_id)
    template = invoice.template or template_resolve(invoice.organization_id, None)
    uri = ""
    due = crypto_due(invoice)
    open_ = invoice.status not in (InvoiceStatus.PAID, InvoiceStatus.CANCELLED)
    expired = open_ and crypto.quote_expired(invoice)  # an expired quote is not offered (re-quote first)
    if invoice.crypto_amount is not None and open_ and not expired:
        asset = crypto.payment_asset_get(invoice.crypto_currency)
        uri = crypto.eip681_uri(address=invoice.crypto_payment_address, asset=asset, amount=due or invoice.crypto_amount)
    logo = ""
    if organization.logo:
        path = Path(settings.MEDIA_ROOT) / organization.logo.name
        logo = path.as_uri() if path.exists() else ""
    return {"invoice": invoice, "organization": organization, "template": template, "logo_url": logo,
            "payment_uri": uri, "qr_png": crypto.qr_png_data_uri(uri) if uri else "", "crypto_due": due,
            "payment_url": payment_page_url(invoice), "primary": organization.primary_color or "#1f3a5f",
            "secondary": organization.secondary_color or "#e8eef5",
            "title": "Credit note" if invoice.is_credit_note else "Invoice", "quote_expired": expired}


def invoice_pdf(invoice: Invoice) -> bytes:
    from weasyprint import HTML  # on use: ~1.3 s to import, paid by every process otherwise

    html = render_to_string("invoicing/invoice_pdf.html", document_context(invoice))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.invoice_number or f'draft-{invoice.pk}'}.pdf"


def invoice_send(*, actor, invoice: Invoice, resend: bool = False) -> tuple[Invoice, bool]:
    """Email the invoice's PDF to the client. Returns (invoice, whether an email went out now)."""
    permissions.acting_organization_id(actor, permissions.can_issue_invoices, invoice.organization_id,
                                       refused=ISSUE_REFUSED, system_allowed=False)
    if not invoice.client_email:
        raise InvalidInput(ErrorCode.CLIENT_EMAIL_REQUIRED, "The invoice has no client email to send it to.")
    if invoice.status == InvoiceStatus.DRAFT:
        invoice = issue(actor=actor, invoice=invoice)
    elif invoice.status == InvoiceStatus.CANCELLED:
        raise transition_error(invoice, InvoiceStatus.SENT)
    rows = Invoice.objects.for_organization(invoice.organization_id).filter(pk=invoice.pk)
    previous = invoice.sent_at
    now = timezone.now()
    claimed = rows.filter(sent_at__isnull=True).update(sent_at=now) if previous is None else 0
    if not claimed:
        if not resend:
            invoice.refresh_from_db()
            return invoice, False
        rows.update(sent_at=now)
    invoice.refresh_from_db()
    pdf = invoice_pdf(invoice)
    path = Path(settings.MEDIA_ROOT) / "invoices" / str(invoice.organization_id) / pdf_filename(invoice)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    organization = Organization.objects.get(pk=invoice.organization_id)
    kind = "Credit note" if invoice.is_credit_note else "Invoice"
    body = render_to_string("invoicing/invoice_email.txt", {
        **document_context(invoice), "kind": kind, "organization": organization})
    message = EmailMessage(subject=f"{kind} {invoice.invoice_number} from {organization.name}", body=body,
                           from_email=settings.DEFAULT_FROM_EMAIL, to=[invoice.client_email],
                           reply_to=[organization.email] if organization.email else None)
    message.attach(pdf_filename(invoice), pdf, "application/pdf")
    try:
        message.send()
    except Exception as exc:  # the mail server refused or is down: release the claim, say so
        rows.filter(sent_at=now).update(sent_at=previous)
        logger.warning("invoice %s: email failed: %s", invoice.pk, exc)
        raise Unavailable(ErrorCode.MAIL_UNAVAILABLE, "The mail server did not accept the invoice; try again.") from None
    rows.update(file_path=str(path.relative_to(settings.MEDIA_ROOT)))
    invoice.refresh_from_db()
    return invoice, True


REMINDER_INTERVAL_DAYS = getattr(settings, "INVOICE_REMINDER_INTERVAL_DAYS", 7)


def invoices_send_reminders() -> int:
    """The periodic reminder: every OVERDUE invoice with a client email gets a reminder (its PDF
    attached) at most once per REMINDER_INTERVAL_DAYS. The slot is claimed with a conditional write
    on `last_reminder_at` before mailing, so two workers never both remind; a refused email releases it."""
    import datetime as dt

    now = timezone.now()
    cutoff = now - dt.timedelta(days=REMINDER_INTERVAL_DAYS)
    sent = 0
    for invoice in Invoice.objects.filter(status=InvoiceStatus.OVERDUE).exclude(client_email=""):
        if invoice.last_reminder_at is not None and invoice.last_reminder_at > cutoff:
            continue
        rows = Invoice.objects.for_organization(invoice.organization_id).filter(
            pk=invoice.pk, status=InvoiceStatus.OVERDUE, last_reminder_at=invoice.last_reminder_at)
        if not rows.update(last_reminder_at=now):
            continue
        previous, invoice.last_reminder_at = invoice.last_reminder_at, now
        organization = Organization.objects.get(pk=invoice.organization_id)
        body = render_to_string("invoicing/invoice_reminder.txt", {**document_context(invoice),
                                                                   "organization": organization})
        message = EmailMessage(subject=f"Reminder: invoice {invoice.invoice_number} from {organization.name} is overdue",
                               body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[invoice.client_email],
                               reply_to=[organization.email] if organization.email else None)
        message.attach(pdf_filename(invoice), invoice_pdf(invoice), "application/pdf")
        try:
            message.send()
        except Exception as exc:
            Invoice.objects.filter(pk=invoice.pk, last_reminder_at=now).update(last_reminder_at=previous)
            logger.warning("invoice %s: reminder failed: %s", invoice.pk, exc)
            continue
        sent += 1
    return sent
