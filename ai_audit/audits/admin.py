"""Admin of audits: read-only list and detail (the findings are the analyser's; audits are requested
through the API or the back-office). Scoped by organization; core.permissions.can_view_audits."""

from django.contrib import admin

from ai_audit.models import Audit
from core import permissions
from core.admin_base import OrganizationScopedAdmin


@admin.register(Audit)
class AuditAdmin(OrganizationScopedAdmin):
    list_display = ("__str__", "network", "contract_address", "status", "risk_score", "risk_label", "created_at")
    list_filter = ("status", "risk_label", "source_kind")
    search_fields = ("contract_name", "contract_address", "file_name")
    exclude = ("sources",)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name != "sources"]

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_audits(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return permissions.can_run_audits(request.user) and permissions.is_org_manager(request.user)
