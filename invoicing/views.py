"""HTMX pages of invoicing: the back-office invoice pages under /app/invoices/ and the public payment
page /pay/<token>/.

Back-office (core.permissions): every page needs `can_view_invoices` (accountants, managers, admins;
a plain member gets 403); creating and editing drafts `can_edit_invoices`; issuing, sending,
cancelling, credit notes, re-quotes and manual payments `can_issue_invoices` (managers, admins). The
services check again; their refusals (DomainError) are shown as messages. Rows are read through the
organization-scoped selectors: another organization's invoice is 404.
- the list: filters (status, client, overdue), totals of what is filtered, 25 rows a page (no count:
  one row more is read to know whether a next page exists); HTMX swaps only the table;
- the editor of a draft (new or existing), its lines and live totals (HTMX posts the form to
  /app/invoices/totals/, computed by invoicing.totals exactly as the service will);
- the detail: amounts, crypto terms, the status timeline, payments and credit notes, the actions
  allowed from the status, and the PDF (also a session-authenticated link, /app/invoices/<id>/pdf/).

The public payment page `/pay/<token>/` needs no login: the token is unguessable (192 random bits,
given when the invoice is issued) and the page shows only what the payer needs: the invoice number,
amounts, the address, the EIP-681 request with its QR code and the status. It listens on the
WebSocket /ws/pay/<token>/ (invoicing.consumers) and refreshes its status block when a payment is
seen or confirmed; if the socket cannot be opened it polls /pay/<token>/status/ every 10 s instead
(invoicing/static/invoicing/pay.js). A draft has no token; an unknown token is 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import permissions
from core.errors import DomainError, ErrorCode, InvalidInput
from core.organizations import organization_today
from core.windows import page_number
from invoicing import selectors, services
from invoicing.models import Invoice, InvoiceKind, InvoiceStatus, OPEN_STATUSES, PaymentMethod
import invoicing.services.crypto as crypto
import invoicing.services.documents as documents
from invoicing.services.payments import crypto_due
from invoicing.services.templates import templates_ensure
from invoicing.totals import TotalsError, compute
from wallets.models import Cryptocurrency, Wallet

POLL_SECONDS = 10
PAGE_ROWS = 25
BLANK_LINES = 3
LINE_FIELDS = ("description", "quantity", "unit_price", "tax_rate")


# --- the public payment page ----------------------------------------------------------------------------

def _pay_context(token: str) -> dict:
    invoice = selectors.invoice_by_payment_token(token)
    if invoice is None:
        raise Http404("No such payment request.")
    open_ = invoice.status not in (InvoiceStatus.PAID, InvoiceStatus.CANCELLED)
    expired = open_ and crypto.quote_expired(invoice)
    uri = crypto.invoice_payment_uri(invoice) if open_ and not expired else ""
    return {"invoice": invoice, "token": token, "payment_uri": uri, "qr_svg": crypto.qr_svg(uri) if uri else "",
            "crypto_due": crypto_due(invoice), "is_open": open_, "quote_expired": expired,
            "poll_seconds": POLL_SECONDS}


@require_GET
def pay_page(request, token: str):
    return render(request, "invoicing/pay.html", _pay_context(token))


@require_GET
def pay_status(request, token: str):
    return render(request, "invoicing/_pay_status.html", _pay_context(token))


# --- back-office: helpers -------------------------------------------------------------------------------

def _require_view(request) -> None:
    if not permissions.can_view_invoices(request.user):
        raise PermissionDenied("Invoices are for accountants, managers and admins.")


def _require_edit(request) -> None:
    _require_view(request)
    if not permissions.can_edit_invoices(request.user):
        raise PermissionDenied("Only those who work the books edit invoices.")


def _require_issue(request) -> None:
    _require_view(request)
    if not permissions.can_issue_invoices(request.user):
        raise PermissionDenied("Only managers and admins issue, send, cancel or settle invoices.")


def _invoice(request, invoice_id) -> Invoice:
    invoice = selectors.invoice_get_for(request.user, invoice_id)
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def _to_detail(invoice_id):
    return redirect("invoice-detail", invoice_id=invoice_id)


# --- the list ---------------------------------------------------------------------------------------------

@login_required
@require_GET
def invoice_list_page(request):
    _require_view(request)
    status = request.GET.get("status", "")
    status = status if status in InvoiceStatus.values else ""
    client = request.GET.get("client", "").strip()[:100]
    overdue = request.GET.get("overdue") == "1"
    page = page_number(request.GET.get("page"))
    today = organization_today(request.user.organization)
    rows = selectors.invoice_list_for(request.user, status=status or None, client=client or None,
                                      overdue_on=today if overdue else None)
    totals = rows.aggregate(total=Sum("total_amount"), paid=Sum("amount_paid"), credited=Sum("credited_amount"))
    total = totals["total"] or Decimal(0)
    outstanding = total - (totals["paid"] or 0) - (totals["credited"] or 0)
    start = (page - 1) * PAGE_ROWS
    invoices = list(rows.prefetch_related("template")[start:start + PAGE_ROWS + 1])
    has_next = len(invoices) > PAGE_ROWS
    invoices = invoices[:PAGE_ROWS]
    unapplied = selectors.unapplied_open_counts(request.user.organization_id, [i.pk for i in invoices])
    for invoice in invoices:
        invoice.is_late = (invoice.status in OPEN_STATUSES and invoice.due_date is not None
                           and invoice.due_date < today)
        invoice.unapplied_open = unapplied.get(invoice.pk, 0)
    query = {"status": status, "client": client, "overdue": "1" if overdue else ""}
    context = {"invoices": invoices, "statuses": InvoiceStatus.choices, "status": status, "client": client,
               "overdue": overdue, "page": page, "has_next": has_next, "has_previous": page > 1,
               "query": "&".join(f"{k}={v}" for k, v in query.items() if v), "total": total,
               "outstanding": outstanding if outstanding > 0 else Decimal(0),
               "currency": request.user.organization.reporting_fiat or "USD",
               "can_edit": permissions.can_edit_invoices(request.user)}
    template = "invoicing/_invoice_table.html" if request.htmx else "invoicing/invoice_list.html"
    return render(request, template, context)


# --- the editor -------------------------------------------------------------------------------------------

def _lines_from(post) -> list[dict]:
    columns = [post.getlist(f"line_{name}") for name in LINE_FIELDS]
    lines = []
    for values in zip(*columns):
        line = dict(zip(LINE_FIELDS, (v.strip() for v in values)))
        if not any(line.values()):
            continue  # a blank row of the form
        line["tax_rate"] = line["tax_rate"] or None
        lines.append(line)
    return lines


def _date(value: str):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _fields_from(post) -> dict:
    return {"client_name": post.get("client_name", "").strip(), "client_email": post.get("client_email", "").strip(),
            "client_address": post.get("client_address", "").strip(), "notes": post.get("notes", "").strip(),
            "issue_date": _date(post.get("issue_date", "")), "due_date": _date(post.get("due_date", "")),
            "tax_rate": post.get("tax_rate", "").strip() or None, "template": post.get("template", "") or None,
            "payment_wallet_id": post.get("payment_wallet_id", "") or None,
            "crypto_currency": post.get("crypto_currency", "") or None, "items": _lines_from(post)}


def _editor_context(request, *, invoice=None, values=None) -> dict:
    organization_id = request.user.organization_id
    templates_ensure(organization_id)
    if values is None and invoice is not None:
        values = {"client_name": invoice.client_name, "client_email": invoice.client_email,
                  "client_address": invoice.client_address, "notes": invoice.notes,
                  "issue_date": invoice.issue_date, "due_date": invoice.due_date,
                  "tax_rate": invoice.tax_rate if invoice.tax_rate else "",
                  "template": invoice.template.key if invoice.template_id else "",
                  "payment_wallet_id": str(invoice.payment_wallet_id or ""), "crypto_currency": invoice.crypto_currency,
                  "items": [{"description": i.description, "quantity": i.quantity, "unit_price": i.unit_price,
                             "tax_rate": i.tax_rate if i.tax_rate is not None else ""} for i in invoice.items]}
    values = values or {"items": []}
    lines = list(values.get("items") or []) + [{} for _ in range(BLANK_LINES)]
    assets = [a.symbol for a in Cryptocurrency.objects.filter(is_active=True).order_by("symbol")
              if a.symbol == "ETH" or a.contract_address]
    return {"invoice": invoice, "values": values, "lines": lines,
            "templates": list(selectors.template_list_for(request.user)),
            "wallets": list(Wallet.objects.for_organization(organization_id).filter(is_active=True).order_by("name")),
            "assets": assets, "totals": _preview_totals(values.get("items") or [], values.get("tax_rate"),
                                                        request.user.organization.reporting_fiat or "USD")}


def _preview_totals(items, tax_rate, fiat: str) -> dict:
    try:
        totals = compute(items, tax_rate=tax_rate, fiat=fiat)
    except TotalsError as exc:
        return {"error": exc.message if items else "", "fiat": fiat}
    return {"subtotal": totals.subtotal, "tax_amount": totals.tax_amount, "total_amount": totals.total_amount,
            "fiat": fiat}


@login_required
@require_http_methods(["GET", "POST"])
def invoice_new_page(request):
    _require_edit(request)
    if request.method == "POST":
        fields = _fields_from(request.POST)
        try:
            invoice = services.invoice_create(actor=request.user, **fields)
        except DomainError as exc:
            messages.error(request, exc.message)
            return render(request, "invoicing/invoice_edit.html", _editor_context(request, values=fields), status=422)
        messages.success(request, "Draft saved.")
        return _to_detail(invoice.pk)
    return render(request, "invoicing/invoice_edit.html", _editor_context(request))


@login_required
@require_http_methods(["GET", "POST"])
def invoice_edit_page(request, invoice_id):
    _require_edit(request)
    invoice = _invoice(request, invoice_id)
    if invoice.status != InvoiceStatus.DRAFT:
        messages.error(request, "Only drafts are edited; correct an issued invoice with a credit note.")
        return _to_detail(invoice.pk)
    if request.method == "POST":
        fields = _fields_from(request.POST)
        try:
            services.invoice_update(actor=request.user, invoice=invoice, **fields)
        except DomainError as exc:
            messages.error(request, exc.message)
            return render(request, "invoicing/invoice_edit.html",
                          _editor_context(request, invoice=invoice, values=fields), status=422)
        messages.success(request, "Draft saved.")
        return _to_detail(invoice.pk)
    return render(request, "invoicing/invoice_edit.html", _editor_context(request, invoice=invoice))


@login_required
@require_POST
def invoice_totals_preview(request):
    """HTMX: the totals of the editor's lines as they are typed (nothing is saved)."""
    _require_edit(request)
    fields = _fields_from(request.POST)
    totals = _preview_totals(fields["items"], fields["tax_rate"], request.user.organization.reporting_fiat or "USD")
    return render(request, "invoicing/_totals.html", {"totals": totals})


# --- the detail and its actions ---------------------------------------------------------------------------

@login_required
@require_GET
def invoice_detail_page(request, invoice_id):
    _require_view(request)
    invoice = _invoice(request, invoice_id)
    payments = selectors.payments_of(invoice)
    notes = selectors.credit_notes_of(invoice)
    unapplied = selectors.unapplied_payments_of(invoice)
    can_issue = permissions.can_issue_invoices(request.user)
    status = invoice.status
    is_invoice = invoice.kind == InvoiceKind.INVOICE
    actions = {
        "edit": status == InvoiceStatus.DRAFT and permissions.can_edit_invoices(request.user),
        "delete": status == InvoiceStatus.DRAFT and permissions.can_edit_invoices(request.user),
        "issue": can_issue and status == InvoiceStatus.DRAFT,
        "send": can_issue and status != InvoiceStatus.CANCELLED and bool(invoice.client_email),
        "cancel": can_issue and InvoiceStatus.CANCELLED in services.TRANSITIONS.get(status, ())
        and invoice.amount_paid == 0,
        "credit_note": can_issue and is_invoice and status in (*OPEN_STATUSES, InvoiceStatus.PAID),
        "requote": can_issue and is_invoice and status in OPEN_STATUSES and invoice.crypto_amount is not None,
        "payment": can_issue and is_invoice and status in OPEN_STATUSES,
        "unapplied_apply": can_issue and is_invoice and status in OPEN_STATUSES,
        "unapplied_dismiss": can_issue,
    }
    return render(request, "invoicing/invoice_detail.html", {
        "invoice": invoice, "payments": payments, "credit_notes": notes, "actions": actions, "unapplied": unapplied,
        "timeline": selectors.invoice_timeline(invoice, payments, notes, unapplied), "crypto_due": crypto_due(invoice),
        "quote_expired": crypto.quote_expired(invoice) if status in OPEN_STATUSES else False,
        "payment_url": documents.payment_page_url(invoice), "methods": [PaymentMethod.BANK, PaymentMethod.CASH]})


@login_required
@require_GET
def invoice_pdf_page(request, invoice_id):
    _require_view(request)
    invoice = _invoice(request, invoice_id)
    response = HttpResponse(documents.invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{documents.pdf_filename(invoice)}"'
    return response


def _invoice_action(request, invoice_id, work, success: str, *, require=_require_issue, after=None):
    """The one shape of the detail page's actions: check the page rule (403), load the invoice
    through the scoped selector (another organization's: 404), run `work(invoice)` (a service call),
    show its refusal (DomainError) or `success`, and go back to the detail page; `after(result)`
    may add a message or answer another page once the work went through. Actions are plain POST
    forms, or HTMX posts that swap the page's <main> with the page this answers."""
    require(request)
    invoice = _invoice(request, invoice_id)
    try:
        result = work(invoice)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _to_detail(invoice.pk)
    messages.success(request, success)
    response = after(result) if after is not None else None
    return response or _to_detail(invoice.pk)


@login_required
@require_POST
def invoice_issue_action(request, invoice_id):
    return _invoice_action(request, invoice_id, lambda invoice: services.invoice_issue(actor=request.user, invoice=invoice),
                           "Invoice issued.")


@login_required
@require_POST
def invoice_send_action(request, invoice_id):
    resend = request.POST.get("resend") == "1"

    def emailed_before(emailed: bool):
        if not emailed:
            messages.info(request, "It was emailed before; tick \u201csend again\u201d to resend.")

    return _invoice_action(
        request, invoice_id,
        lambda invoice: documents.invoice_send(actor=request.user, invoice=invoice, resend=resend)[1],
        "Invoice emailed.", after=emailed_before)


@login_required
@require_POST
def invoice_cancel_action(request, invoice_id):
    return _invoice_action(request, invoice_id, lambda invoice: services.invoice_cancel(actor=request.user, invoice=invoice),
                           "Invoice cancelled.")


@login_required
@require_POST
def invoice_credit_note_action(request, invoice_id):
    reason = request.POST.get("reason", "").strip()[:500]
    return _invoice_action(
        request, invoice_id, lambda invoice: services.credit_note_create(actor=request.user, invoice=invoice, reason=reason),
        "Credit note issued.", after=lambda note: _to_detail(note.pk))


@login_required
@require_POST
def invoice_requote_action(request, invoice_id):
    return _invoice_action(request, invoice_id,
                           lambda invoice: services.invoice_requote(actor=request.user, invoice=invoice),
                           "Crypto amount re-quoted at the current rate.")


def _amount_from(value: str) -> Decimal:
    try:
        amount = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, "The amount is not a number.")
    return amount


@login_required
@require_POST
def invoice_payment_action(request, invoice_id):
    post = request.POST
    return _invoice_action(request, invoice_id, lambda invoice: services.payment_record_manual(
        actor=request.user, invoice=invoice, amount=_amount_from(post.get("amount", "")),
        method=post.get("method", PaymentMethod.BANK), reference=post.get("reference", "").strip()[:200]),
        "Payment recorded.")


@login_required
@require_POST
def invoice_delete_action(request, invoice_id):
    return _invoice_action(request, invoice_id, lambda invoice: services.invoice_delete(actor=request.user, invoice=invoice),
                           "Draft deleted.", require=_require_edit, after=lambda _: redirect(reverse("invoice-list")))


def _unapplied_of(invoice, unapplied_id):
    row = selectors.unapplied_payment_get(invoice, unapplied_id)
    if row is None:
        raise Http404("No such unapplied payment on this invoice.")
    return row


@login_required
@require_POST
def unapplied_apply_action(request, invoice_id, unapplied_id):
    return _invoice_action(request, invoice_id, lambda invoice: services.unapplied_payment_apply(
        actor=request.user, unapplied=_unapplied_of(invoice, unapplied_id)),
        "Payment applied at the market rate of the day it was paid.")


@login_required
@require_POST
def unapplied_dismiss_action(request, invoice_id, unapplied_id):
    reason = request.POST.get("reason", "")
    return _invoice_action(request, invoice_id, lambda invoice: services.unapplied_payment_dismiss(
        actor=request.user, unapplied=_unapplied_of(invoice, unapplied_id), reason=reason), "Payment dismissed.")
