"""Reads for invoices paid in crypto. Who may read: core.permissions.can_view_invoices (those who
may view the books); rows through core.tenancy (another organization's invoice is not found)."""

from __future__ import annotations

from django.db.models import QuerySet

from core import permissions
from invoicing.models import Invoice, InvoicePayment, InvoiceTemplate
from invoicing.services.templates import templates_ensure

VIEW_REFUSED = "Invoices are for accountants, managers and admins of the organization."


def invoice_list_for(actor, *, status: str | None = None, kind: str | None = None,
                     client: str | None = None) -> QuerySet:
    permissions.require(permissions.can_view_invoices(actor), VIEW_REFUSED)
    rows = Invoice.objects.for_actor(actor).order_by("-created_at")
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    if client:
        rows = rows.filter(client_name__icontains=client)
    return rows


def invoice_get_for(actor, invoice_id):
    """One invoice of the actor's organization (None when missing or another organization's)."""
    permissions.require(permissions.can_view_invoices(actor), VIEW_REFUSED)
    return Invoice.objects.for_actor(actor).filter(pk=invoice_id).first()


def payments_of(invoice: Invoice) -> list[InvoicePayment]:
    return list(InvoicePayment.objects.for_organization(invoice.organization_id).filter(invoice_id=invoice.pk))


def template_list_for(actor) -> QuerySet:
    permissions.require(permissions.can_view_invoices(actor), VIEW_REFUSED)
    templates_ensure(actor.organization_id)
    return InvoiceTemplate.objects.for_actor(actor).order_by("key")


def invoice_by_payment_token(token: str) -> Invoice | None:
    """The public payment page: an issued invoice by its unguessable token (no actor)."""
    if not token or len(token) < 20:
        return None
    return Invoice.objects.filter(payment_token=token).first()
