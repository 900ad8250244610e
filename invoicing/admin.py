"""Admin of invoicing: invoices (read-only here, each with its PDF link and the back-office page;
actions issue, email, cancel, re-quote and credit through the services), their payments, the
unapplied payments (apply, or dismiss with the reason asked on an intermediate page, through the services) and the stored templates (read-only; the stock ones are made by invoicing.services.templates).

Scoped by organization (core.admin_base.OrganizationScopedAdmin) and asking core.permissions: view =
can_view_invoices, the actions = can_issue_invoices; the services check the same rules again and a
refusal is shown as a message for that invoice."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from core import permissions
from core.admin_base import OrganizationScopedAdmin, fiat_column, quantity_column
from core.errors import DomainError
from invoicing import services
from invoicing.models import Invoice, InvoicePayment, InvoiceTemplate, UnappliedPayment, UnappliedStatus
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
    """Call the service for each selected row; report how many went through and each refusal."""
    succeeded = 0
    for row in queryset:
        try:
            work(row)
        except DomainError as exc:
            model_admin.message_user(request, f"{row}: {exc.message}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        noun = model_admin.model._meta.verbose_name
        model_admin.message_user(request, f"{succeeded} {noun}(s) {done}.", messages.SUCCESS)


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


DISMISS_CONFIRMED = "dismiss_confirmed"
DISMISS_REASON_REQUIRED = "Say why the payments are dismissed (e.g. refunded)."


class DismissReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                             help_text="Recorded with each payment, e.g. \"refunded to the client on 2026-03-02\".")


@admin.register(UnappliedPayment)
class UnappliedPaymentAdmin(InvoicingAdmin):
    """Transfers settlement recorded against an invoice without applying them. Apply here calls the
    same service as the invoice page (a normal payment at the market rate of the day it was mined);
    Dismiss asks for the reason on an intermediate page (`DismissReasonForm`), then calls the same
    service as the invoice page and the API for each selected payment; an empty reason dismisses
    nothing and says so."""

    list_display = ("invoice", "status", "reason", "mined_at", quantity_column("amount"), "asset", "tx_hash",
                    "invoice_page")
    list_filter = ("status", "reason", "asset")
    search_fields = ("tx_hash", "external_id", "dismiss_reason")
    ordering = ("-mined_at",)
    list_select_related = ("invoice",)
    readonly_fields = ("invoice_page",)
    actions = ("apply_payments", "dismiss_payments")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_issue_permission(self, request):
        return permissions.can_issue_invoices(request.user)

    @admin.display(description="invoice page")
    def invoice_page(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a href="{}#unapplied-{}">open</a>', reverse("invoice-detail", args=[obj.invoice_id]), obj.pk)

    @admin.action(description="Apply selected payments to their invoices (market rate of the day paid)",
                  permissions=["issue"])
    def apply_payments(self, request, queryset):
        _run_each(self, request, queryset,
                  lambda row: services.unapplied_payment_apply(actor=request.user, unapplied=row), "applied")

    @admin.action(description="Dismiss selected payments (asks for the reason)", permissions=["issue"])
    def dismiss_payments(self, request, queryset):
        """First call: the page asking for the reason. Its post (DISMISS_CONFIRMED): the service for each
        row with that reason, then back to the list; an empty or too long reason shows the page again."""
        form = DismissReasonForm(request.POST if DISMISS_CONFIRMED in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            if reason:
                _run_each(self, request, queryset, lambda row: services.unapplied_payment_dismiss(
                    actor=request.user, unapplied=row, reason=reason), "dismissed")
                return None  # the admin redirects to the list, with the messages
            form.add_error("reason", DISMISS_REASON_REQUIRED)
            self.message_user(request, f"{DISMISS_REASON_REQUIRED} Nothing was dismissed.", messages.ERROR)
        context = {
            **self.admin_site.each_context(request), "title": "Dismiss unapplied payments", "opts": self.model._meta,
            "form": form, "rows": list(queryset.select_related("invoice")), "action": "dismiss_payments",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME, "confirm_field": DISMISS_CONFIRMED,
            "open_status": UnappliedStatus.OPEN, "media": self.media,
            "changelist_url": reverse(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_changelist"),
        }
        return TemplateResponse(request, "invoicing/admin/unapplied_dismiss.html", context)


@admin.register(InvoiceTemplate)
class InvoiceTemplateAdmin(InvoicingAdmin):
    list_display = ("key", "name", "layout", "is_default")
    list_filter = ("layout",)
