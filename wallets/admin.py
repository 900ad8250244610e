"""Admin for wallets, cryptocurrencies, transactions, sends, prices and price alerts. A wallet's
encrypted private key is never shown, searched or exported here, nor a send's signed bytes.

Wallets, transactions and price alerts belong to an organization: their admins are
OrganizationScopedAdmin (staff see their own organization's rows, platform superusers every one).
Price quotes: staff see the shared market data and their organization's own. Cryptocurrencies are
platform data (chain facts every organization shares): staff may look, only superusers edit."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.models import User
from core import permissions
from core.admin_base import BackofficeModelAdmin, OrganizationScopedAdmin, fiat_column, quantity_column
from core.errors import DomainError
from core.http_status import http_status_of
from wallets.imports import ImportRejected, transactions_import_universal
from wallets.models import Cryptocurrency, OutgoingTransfer, PriceAlert, PriceQuote, Transaction, Wallet
from wallets.services import price_alert_update, transfer_fee_bump_request


@admin.register(Cryptocurrency)
class CryptocurrencyAdmin(BackofficeModelAdmin):
    list_display = ("symbol", "name", "contract_address", "decimals", fiat_column("current_price"), "is_active")
    list_filter = ("is_active", "network")
    search_fields = ("symbol", "name", "contract_address")

    # Shared by every organization: any staff member may look, only platform superusers change it.
    def has_module_permission(self, request):
        return permissions.can_open_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_open_admin(request.user)

    def has_add_permission(self, request):
        return permissions.can_edit_platform_assets(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_edit_platform_assets(request.user)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_edit_platform_assets(request.user)


class _OrganizationColumnForSuperusers:
    """Explicit `fields` leave the organization out: superusers (who see every organization) get
    it read-only on the change page."""

    def get_fields(self, request, obj=None):
        fields = tuple(super().get_fields(request, obj))
        if permissions.can_see_all_organizations(request.user) and "organization" not in fields:
            fields = (*fields, "organization")
        return fields

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if permissions.can_see_all_organizations(request.user) and "organization" not in fields:
            fields = (*fields, "organization")
        return fields


@admin.register(Wallet)
class WalletAdmin(_OrganizationColumnForSuperusers, OrganizationScopedAdmin):
    list_display = ("name", "address", "user", "wallet_type", quantity_column("balance"), "monitoring_enabled", "is_active",
                    "transactions_link")
    list_filter = ("wallet_type", "monitoring_enabled", "is_active")
    search_fields = ("name", "address")
    fields = ("name", "address", "user", "wallet_type", "is_active", "balance", "monitoring_enabled",
              "last_authenticated", "has_private_key", "created_at", "updated_at")
    # Only name and is_active are edited here. The owner is fixed (moving a wallet would bypass the new
    # owner's wallet limit); monitoring is switched by wallets.services, which records the start block.
    readonly_fields = ("address", "user", "wallet_type", "balance", "monitoring_enabled", "last_authenticated",
                       "has_private_key", "created_at", "updated_at")

    def has_add_permission(self, request):
        # Wallets are created by wallets.services, which generates and encrypts the key and
        # enforces the owner's limit; a bare admin form would do neither.
        return False

    @admin.display(boolean=True, description="Key held")
    def has_private_key(self, obj):
        return obj.has_private_key

    @admin.display(description="Transactions")
    def transactions_link(self, obj):
        url = reverse("admin:wallets_transaction_changelist") + f"?wallet__id__exact={obj.pk}"
        return format_html('<a href="{}">view</a>', url)


class UniversalImportForm(forms.Form):
    user = forms.ModelChoiceField(queryset=None, help_text="owner of the imported transactions")
    file = forms.FileField(help_text="Koinly universal CSV")

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The members of the staff member's organization (a platform superuser: anyone's); the rows
        # go into the chosen member's organization.
        members = User.objects.filter(is_active=True, organization__isnull=False)
        if not permissions.can_see_all_organizations(actor):
            members = members.filter(organization_id=getattr(actor, "organization_id", None))
        self.fields["user"].queryset = members.order_by("username")


@admin.register(Transaction)
class TransactionAdmin(OrganizationScopedAdmin):
    change_list_template = "wallets/admin/transaction_changelist.html"

    def get_urls(self):
        return [path("import/", self.admin_site.admin_view(self.import_view), name="wallets_transaction_import"),
                *super().get_urls()]

    def import_view(self, request):
        """Upload a Koinly universal CSV: all rows or none; each bad row listed."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UniversalImportForm(request.POST or None, request.FILES or None, actor=request.user)
        errors, status = [], 200
        if request.method == "POST" and form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8-sig")
                report = transactions_import_universal(user=form.cleaned_data["user"], text=text)
            except UnicodeDecodeError:
                errors, status = ["The file is not UTF-8 text."], 400
            except ImportRejected as exc:
                errors, status = [f"row {e.row}, {e.column}: {e.reason}" for e in exc.errors], http_status_of(exc)
            except DomainError as exc:
                errors, status = [exc.message], http_status_of(exc)
            else:
                self.message_user(request, f"Imported {report.created} transaction(s); "
                                           f"{report.duplicates_skipped} duplicate(s) skipped.", messages.SUCCESS)
                return redirect("admin:wallets_transaction_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "errors": errors,
                   "title": "Import transactions (Koinly universal CSV)", "opts": self.model._meta}
        return TemplateResponse(request, "wallets/admin/transaction_import.html", context, status=status)

    list_display = ("transaction_date", "transaction_type", "wallet", "cryptocurrency", quantity_column("amount"),
                    fiat_column("usd_value", description="fiat value"),
                    "status", "source")
    list_filter = ("transaction_type", "status", "source", "cryptocurrency")
    search_fields = ("hash", "description", "from_address", "to_address")
    raw_id_fields = ("wallet",)
    ordering = ("-transaction_date",)
    date_hierarchy = None


@admin.register(PriceQuote)
class PriceQuoteAdmin(OrganizationScopedAdmin):
    """The local price store: read-only here (prices come from the API, imports, trades or
    wallets.prices.price_record, which also updates the asset's current price). Staff see the
    shared market data and their organization's own quotes (PriceQuoteQuerySet.for_actor)."""

    list_display = ("symbol", "fiat", "day", fiat_column("price", currency_field="fiat"), "source", "shared",
                    "fetched_at")
    list_filter = ("source", "fiat")
    search_fields = ("symbol",)
    ordering = ("-fetched_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="Shared")
    def shared(self, obj):
        return obj.organization_id is None


@admin.register(PriceAlert)
class PriceAlertAdmin(OrganizationScopedAdmin):
    list_display = ("user", "symbol", "direction", fiat_column("threshold", currency_field="fiat"), "is_active",
                    "triggered_at", fiat_column("last_price", currency_field="fiat"))
    list_filter = ("direction", "is_active", "fiat")
    search_fields = ("symbol", "user__username")
    ordering = ("-created_at",)
    # Owners manage their alerts through the API; staff can look, pause or re-arm, not rewrite them.
    readonly_fields = ("user", "symbol", "direction", "threshold", "fiat", "triggered_at", "last_price",
                       "created_at", "updated_at")
    actions = ("rearm",)

    def has_add_permission(self, request):
        return False

    @admin.action(description="Re-arm (fire again on the next crossing)", permissions=["change"])
    def rearm(self, request, queryset):
        rearmed = refused = 0
        for alert in queryset:
            try:
                price_alert_update(actor=request.user, alert=alert, rearm=True)
                rearmed += 1
            except DomainError:
                refused += 1  # e.g. a superuser's selection spanning another organization
        self.message_user(request, f"Re-armed {rearmed} alert(s).", messages.SUCCESS)
        if refused:
            self.message_user(request, f"{refused} alert(s) of another organization were left as they are.",
                              messages.WARNING)


@admin.register(OutgoingTransfer)
class OutgoingTransferAdmin(_OrganizationColumnForSuperusers, OrganizationScopedAdmin):
    """Sends, read-only: what was asked, its nonce, hash, status and fee. Never the signed raw
    transaction (it is the payment itself) nor anything of the key. Sends are made by
    wallets.transfers; the one change here is the fee bump of an open send (the same payment and
    nonce re-signed with a higher fee, so only one of the two can be mined), through
    wallets.services.transfer_fee_bump_request, which checks the member may send from the wallet."""

    list_display = ("created_at", "wallet", "user", "asset", quantity_column("amount"), "to_address", "status",
                    "nonce", "tx_hash", "kind")
    list_filter = ("status", "kind")
    search_fields = ("tx_hash", "to_address")
    ordering = ("-created_at",)
    fields = ("wallet", "user", "kind", "asset", "amount", "to_address", "status", "error", "chain_id", "nonce",
              "gas_limit", "max_fee_per_gas", "max_priority_fee_per_gas", "tx_hash", "replaced_hashes",
              "block_number", "fee", "transaction", "broadcast_at", "created_at", "updated_at")
    readonly_fields = fields
    actions = ("fee_bump",)

    def get_queryset(self, request):
        # Prefetched, not joined: the embedded server joins every row before it filters.
        return super().get_queryset(request).prefetch_related("cryptocurrency", "wallet", "user")

    # Managers and admins of the organization (core.permissions), not a model permission of a role.
    def has_module_permission(self, request):
        return permissions.is_org_manager(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.is_org_manager(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_fee_bump_permission(self, request):
        return permissions.is_org_manager(request.user)

    @admin.display(description="Asset")
    def asset(self, obj):
        return obj.cryptocurrency.symbol

    @admin.action(description="Raise the fee of the selected open sends (same payment, same nonce)",
                  permissions=["fee_bump"])
    def fee_bump(self, request, queryset):
        bumped = 0
        for transfer in queryset:
            try:
                transfer_fee_bump_request(actor=request.user, transfer=transfer)
            except DomainError as exc:
                self.message_user(request, f"{transfer.tx_hash[:12]}…: {exc.message}", messages.ERROR)
            else:
                bumped += 1
        if bumped:
            self.message_user(request, f"Raised the fee of {bumped} send(s).", messages.SUCCESS)
