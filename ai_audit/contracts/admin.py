"""Admin of contracts: the registry, read-only (registering reads the chain and verifying compiles:
both go through the services, on the back-office pages or the API). Scoped by organization
(core.admin_base.OrganizationScopedAdmin); viewing asks core.permissions.can_view_contracts."""

from django.contrib import admin

from ai_audit.models import Contract
from core import permissions
from core.admin_base import OrganizationScopedAdmin


@admin.register(Contract)
class ContractAdmin(OrganizationScopedAdmin):
    list_display = ("name", "network", "address", "contract_type", "verification_status", "created_at")
    list_filter = ("network", "contract_type", "verification_status")
    search_fields = ("name", "address", "token_symbol")
    readonly_fields = ("address", "network", "chain_id", "code_hash", "creation_tx", "creation_block", "deployer",
                       "token_name", "token_symbol", "token_decimals", "is_verified", "verification_status",
                       "verification_summary", "verified_at", "compiler_version", "compiled_contract_name")
    exclude = ("runtime_bytecode", "source_standard_json", "verification_details", "abi")

    def has_module_permission(self, request):
        return permissions.can_view_contracts(request.user) and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_contracts(request.user) and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
