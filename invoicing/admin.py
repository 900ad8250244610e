"""Admin of invoicing: invoices (read-only here, each with its PDF link and the back-office page;
actions issue, email, cancel, re-quote and credit through the services), their payments and the
stored templates (read-only; the stock ones are made by invoicing.services.templates).

Scoped by organization (core.admin_base.OrganizationScopedAdmin) and asking core.permissions: view =
can_view_invoices, the actions = can_issue_invoices; the services check the same rules again and a
refusal is shown as a message for that invoice."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from core import permissions
from core.admin_base import OrganizationScopedAdmin, fiat_column, quantity_column
from core.errors import DomainError
from invoicing import services
from invoicing.models import Invoice, InvoicePayment, InvoiceTemplate
import invoicing.services.documents as documents


class InvoicingAdmin(OrganizationScopedAdmin):
    def has_module_permission(self, request):
        return permissions.can_view_invoices(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_invoices(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _run_each(model_admin, request, queryset, work, done: str) -> None:
    """Call the service for each selected invoice; report how many went through and each refusal."""
    succeeded = 0
    for invoice in queryset:
        try:
            work(invoice)
        except DomainError as exc:
            model_admin.message_user(request, f"{invoice}: {exc.message}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        model_admin.message_user(request, f"{succeeded} invoice(s) {done}.", messages.SUCCESS)


@admin.register(Invoice)
class InvoiceAdmin(InvoicingAdmin):
    list_display = ("number", "kind", "client_name", "status", "issue_date", "due_date",
                    fiat_column("total_amount", currency_field="currency", description="total"),
                    fiat_column("amount_paid", currency_field="currency", description="paid"),
                    "crypto", "pdf_link")
    list_filter = ("status", "kind", "crypto_currency")
    search_fields = ("invoice_number", "client_name", "client_email")
    ordering = ("-created_at",)
    readonly_fields = ("pdf_link", "page_link")
    actions = ("issue_invoices", "send_invoices", "cancel_invoices", "requote_invoices", "credit_invoices")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # drafts are deleted through the service's rules
        return actions

    def has_issue_permission(self, request):
        return permissions.can_issue_invoices(request.user)

    @admin.display(description="number", ordering="invoice_number")
    def number(self, obj):
        return obj.invoice_number or "draft"

    @admin.display(description="crypto")
    def crypto(self, obj):
        if obj.crypto_amount is None:
            return obj.crypto_currency or "—"
        return f"{quantity_column('crypto_amount')(obj)} {obj.crypto_currency}"

    @admin.display(description="PDF")
    def pdf_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>',
                           reverse("invoice-pdf", args=[obj.pk]), documents.pdf_filename(obj))

    @admin.display(description="back-office page")
    def page_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a href="{}">open</a>', reverse("invoice-detail", args=[obj.pk]))

    @admin.action(description="Issue selected drafts", permissions=["issue"])
    def issue_invoices(self, request, queryset):
        _run_each(self, request, queryset, lambda i: services.invoice_issue(actor=request.user, invoice=i), "issued")

    @admin.action(description="Email selected invoices (issues drafts; not again if sent)", permissions=["issue"])
    def send_invoices(self, request, queryset):
        _run_each(self, request, queryset, lambda i: documents.invoice_send(actor=request.user, invoice=i), "emailed")

    @admin.action(description="Cancel selected invoices (nothing paid)", permissions=["issue"])
    def cancel_invoices(self, request, queryset):
        _run_each(self, request, queryset, lambda i: services.invoice_cancel(actor=request.user, invoice=i),
                  "cancelled")

    @admin.action(description="Re-quote the crypto amount of selected open invoices", permissions=["issue"])
    def requote_invoices(self, request, queryset):
        _run_each(self, request, queryset, lambda i: services.invoice_requote(actor=request.user, invoice=i),
                  "re-quoted")

    @admin.action(description="Credit selected invoices in full (credit notes)", permissions=["issue"])
    def credit_invoices(self, request, queryset):
        _run_each(self, request, queryset, lambda i: services.credit_note_create(actor=request.user, invoice=i),
                  "credited")


@admin.register(InvoicePayment)
class InvoicePaymentAdmin(InvoicingAdmin):
    list_display = ("invoice", "method", "received_at", fiat_column("fiat_amount", description="settled"),
                    quantity_column("crypto_amount"), "asset", fiat_column("fx_difference"), "tx_hash")
    list_filter = ("method", "asset")
    search_fields = ("tx_hash", "external_id", "reference")
    ordering = ("-received_at",)
    list_select_related = ("invoice",)


@admin.register(InvoiceTemplate)
class InvoiceTemplateAdmin(InvoicingAdmin):
    list_display = ("key", "name", "layout", "is_default")
    list_filter = ("layout",)
