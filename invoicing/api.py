"""/api/invoices/: the nine Invoice Management endpoints of the spec (thin: parses, calls services and
selectors, serialises). Mounted at /api/invoices/ in config/api.py. Who may do what
(core.permissions, `# --- invoicing ---`): those who may view the books read invoices and work
drafts; managers and admins send, change the status (issue, cancel, mark paid). Another
organization's invoice id is 404."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from core.errors import ErrorCode, NotFound
from core.jsonapi.auth import api_auth
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import NewestFirstWindow
from core.jsonapi.schemas import MessageOut, StrictSchema
from core.jsonapi.types import Amount, FiatAmount, ObjectIdStr
from invoicing import selectors, services
from invoicing.models import Invoice, InvoiceKind, InvoiceStatus
import invoicing.services.documents as documents
from invoicing.services.payments import crypto_due

router = Router(tags=["invoices"])

StatusIn = Literal[tuple(InvoiceStatus.values)]
KindIn = Literal[tuple(InvoiceKind.values)]


class ItemIn(StrictSchema):
    description: str = Field(min_length=1, max_length=500)
    quantity: Decimal = Field(description="more than zero")
    unit_price: Decimal = Field(description="zero or more, in the invoice's currency")
    tax_rate: Decimal | None = Field(None, description="percent; set on any item: tax is computed per item")


class InvoiceIn(StrictSchema):
    client_name: str = Field(min_length=1, max_length=200)
    client_email: str = Field("", max_length=254)
    client_address: str = Field("", max_length=2000)
    issue_date: dt.date | None = Field(None, description="default: the day it is issued")
    due_date: dt.date | None = Field(None, description="default: 30 days after the issue date")
    tax_rate: Decimal | None = Field(None, description="percent, for the whole invoice")
    currency: str | None = Field(None, max_length=3, description="the organization's reporting currency")
    notes: str = Field("", max_length=5000)
    template: str | None = Field(None, max_length=40, description="a key of GET /api/invoices/templates/")
    items: list[ItemIn] = Field(min_length=1)
    payment_wallet_id: ObjectIdStr | None = Field(None, description="receiving wallet of the organization")
    crypto_currency: str | None = Field(None, max_length=20, description="ETH or a tracked ERC-20 symbol")


class InvoiceUpdateIn(StrictSchema):
    client_name: str | None = Field(None, min_length=1, max_length=200)
    client_email: str | None = Field(None, max_length=254)
    client_address: str | None = Field(None, max_length=2000)
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    tax_rate: Decimal | None = None
    currency: str | None = Field(None, max_length=3)
    notes: str | None = Field(None, max_length=5000)
    template: str | None = Field(None, max_length=40)
    items: list[ItemIn] | None = Field(None, min_length=1)
    payment_wallet_id: ObjectIdStr | None = None
    crypto_currency: str | None = Field(None, max_length=20)


class StatusChangeIn(StrictSchema):
    status: StatusIn
    reference: str = Field("", max_length=200, description="for PAID: the bank reference")


class DismissIn(StrictSchema):
    reason: str = Field(min_length=1, max_length=500, description="why it is not applied, e.g. refunded to the payer")


class SendIn(StrictSchema):
    resend: bool = Field(False, description="email it again even if it was sent already")


class ItemOut(Schema):
    description: str
    quantity: Amount
    unit_price: FiatAmount
    tax_rate: Decimal | None
    total: FiatAmount


class PaymentOut(Schema):
    id: ObjectIdStr
    method: str
    external_id: str
    tx_hash: str
    asset: str
    crypto_amount: Amount | None
    fiat_amount: FiatAmount
    fair_value: FiatAmount
    overpaid_amount: FiatAmount
    fx_difference: FiatAmount
    received_at: dt.datetime
    reference: str
    journal_entry_id: ObjectIdStr | None


class UnappliedPaymentOut(Schema):
    id: ObjectIdStr
    transaction_id: ObjectIdStr
    external_id: str
    tx_hash: str
    asset: str
    amount: Amount
    mined_at: dt.datetime
    seen_at: dt.datetime
    reason: str = Field(description="QUOTE_EXPIRED, INVOICE_PAID or INVOICE_CANCELLED")
    status: str = Field(description="OPEN (staff decide), APPLIED or DISMISSED")
    decided_by_id: ObjectIdStr | None
    decided_at: dt.datetime | None
    applied_rate: FiatAmount | None = Field(description="fiat per unit it was applied at (the day it was mined)")
    payment_id: ObjectIdStr | None
    dismiss_reason: str


class InvoiceOut(Schema):
    id: ObjectIdStr
    kind: str
    invoice_number: str | None = Field(description="INV-<year>-<number> (CN- for credit notes), given at issue")
    credit_note_of_id: ObjectIdStr | None
    user_id: ObjectIdStr
    template: str | None
    client_name: str
    client_email: str
    client_address: str
    issue_date: dt.date | None
    due_date: dt.date | None
    status: str
    subtotal: FiatAmount
    tax_rate: Decimal
    tax_amount: FiatAmount
    total_amount: FiatAmount
    amount_paid: FiatAmount
    credited_amount: FiatAmount
    overpaid_amount: FiatAmount
    amount_due: FiatAmount
    currency: str
    items: list[ItemOut]
    notes: str
    payment_wallet_id: ObjectIdStr | None
    crypto_payment_address: str
    crypto_currency: str
    crypto_amount: Amount | None
    crypto_due: Amount | None
    crypto_received: Amount
    crypto_rate: FiatAmount | None
    crypto_rate_source: str
    crypto_rate_at: dt.datetime | None
    crypto_valid_until: dt.datetime | None
    payment_url: str = Field(description="the public payment page (no login)")
    file_path: str
    issue_entry_id: ObjectIdStr | None
    issued_at: dt.datetime | None
    sent_at: dt.datetime | None
    paid_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_template(obj):
        return obj.template.key if obj.template_id else None

    @staticmethod
    def resolve_crypto_due(obj):
        return crypto_due(obj)

    @staticmethod
    def resolve_payment_url(obj):
        return documents.payment_page_url(obj)


class InvoiceDetailOut(InvoiceOut):
    payments: list[PaymentOut]
    unapplied_payments: list[UnappliedPaymentOut] = Field(
        description="transfers into the invoice's address that settlement could not apply (paid after the quote "
                    "expired, or to a paid or cancelled invoice); OPEN ones are applied or dismissed by staff")
    allowed_statuses: list[str] = Field(description="statuses PUT /status/ accepts from the current one")

    @staticmethod
    def resolve_payments(obj):
        return selectors.payments_of(obj)

    @staticmethod
    def resolve_unapplied_payments(obj):
        return selectors.unapplied_payments_of(obj)

    @staticmethod
    def resolve_allowed_statuses(obj):
        return services.allowed_from(obj.status)


class SendOut(Schema):
    invoice: InvoiceDetailOut
    emailed: bool = Field(description="false: it was sent before and resend was not asked")


class TemplateOut(Schema):
    key: str
    name: str
    layout: str
    footer_text: str
    payment_terms: str
    is_default: bool


def _invoice(request, invoice_id):
    return get_object_or_404(selectors.invoice_list_for(request.user), invoice_id)


def _detail(invoice):
    return invoice


@router.get("/templates/", response=list[TemplateOut], auth=api_auth,
            summary="Get invoice templates (those who may view the books)")
def template_list(request):
    return list(selectors.template_list_for(request.user))


@router.get("/", response=list[InvoiceOut], auth=api_auth,
            summary="List the organization's invoices (filter by status, kind, client)")
@paginate(NewestFirstWindow, date_field="created_at", scope=Invoice.time_index_scope)
def invoice_list(request, status: StatusIn | None = None, kind: KindIn | None = None, client: str | None = None):
    # prefetch, not select_related: the backend puts a join's $lookup before the $match
    return selectors.invoice_list_for(request.user, status=status, kind=kind, client=client).prefetch_related("template")


@router.post("/", response={201: InvoiceDetailOut}, auth=api_auth,
             summary="Create a draft invoice (accountants, managers, admins); totals are computed")
def invoice_create(request, payload: InvoiceIn):
    data = payload.dict()
    invoice = services.invoice_create(actor=request.user, **data)
    return Status(201, _detail(invoice))


@router.get("/{oid:invoice_id}/", response=InvoiceDetailOut, auth=api_auth, summary="Get invoice details")
def invoice_detail(request, invoice_id: str):
    return _detail(_invoice(request, invoice_id))


@router.put("/{oid:invoice_id}/", response=InvoiceDetailOut, auth=api_auth,
            summary="Update a draft invoice (issued ones are corrected by a credit note)")
def invoice_update(request, invoice_id: str, payload: InvoiceUpdateIn):
    invoice = _invoice(request, invoice_id)
    changes = payload.dict(exclude_unset=True)
    return _detail(services.invoice_update(actor=request.user, invoice=invoice, **changes))


@router.delete("/{oid:invoice_id}/", response=MessageOut, auth=api_auth, summary="Delete a draft invoice")
def invoice_delete(request, invoice_id: str):
    services.invoice_delete(actor=request.user, invoice=_invoice(request, invoice_id))
    return {"message": "Deleted."}


@router.post("/{oid:invoice_id}/send/", response=SendOut, auth=api_auth,
             summary="Send the invoice email with its PDF (issues a draft; managers, admins); idempotent")
def invoice_send(request, invoice_id: str, payload: SendIn | None = None):
    invoice, emailed = documents.invoice_send(actor=request.user, invoice=_invoice(request, invoice_id),
                                              resend=bool(payload and payload.resend))
    return {"invoice": _detail(invoice), "emailed": emailed}


@router.get("/{oid:invoice_id}/pdf/", auth=api_auth, summary="Get the invoice PDF (A4)",
            openapi_extra={"responses": {200: {"description": "the PDF",
                                               "content": {"application/pdf": {"schema": {"type": "string",
                                                                                          "format": "binary"}}}}}})
def invoice_pdf(request, invoice_id: str):
    invoice = _invoice(request, invoice_id)
    response = HttpResponse(documents.invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{documents.pdf_filename(invoice)}"'
    return response


@router.put("/{oid:invoice_id}/status/", response=InvoiceDetailOut, auth=api_auth,
            summary="Update invoice status: SENT (issue), PAID (bank payment of what is due), CANCELLED")
def invoice_status(request, invoice_id: str, payload: StatusChangeIn):
    invoice = _invoice(request, invoice_id)
    return _detail(services.invoice_status_set(actor=request.user, invoice=invoice, status=payload.status,
                                               reference=payload.reference))


def _unapplied(invoice, unapplied_id):
    row = selectors.unapplied_payment_get(invoice, unapplied_id)
    if row is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such unapplied payment on this invoice.")
    return row


@router.post("/{oid:invoice_id}/unapplied-payments/{oid:unapplied_id}/apply/", response=InvoiceDetailOut,
             auth=api_auth, summary="Apply an unapplied payment to its open invoice at the market rate of the day it "
                                    "was mined (managers, admins); 409 once decided or when the invoice is closed")
def unapplied_payment_apply(request, invoice_id: str, unapplied_id: str):
    invoice = _invoice(request, invoice_id)
    services.unapplied_payment_apply(actor=request.user, unapplied=_unapplied(invoice, unapplied_id))
    return _detail(_invoice(request, invoice_id))


@router.post("/{oid:invoice_id}/unapplied-payments/{oid:unapplied_id}/dismiss/", response=InvoiceDetailOut,
             auth=api_auth, summary="Dismiss an unapplied payment with a reason, e.g. refunded outside (managers, "
                                    "admins); 409 once decided")
def unapplied_payment_dismiss(request, invoice_id: str, unapplied_id: str, payload: DismissIn):
    invoice = _invoice(request, invoice_id)
    services.unapplied_payment_dismiss(actor=request.user, unapplied=_unapplied(invoice, unapplied_id),
                                       reason=payload.reason)
    return _detail(_invoice(request, invoice_id))
