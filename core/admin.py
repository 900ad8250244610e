"""Admin for task runs: read-only (written only by core.tasking), newest first, with their log lines.

Scoped like every admin of an organization's rows (core.admin_base.OrganizationScopedAdmin): staff
see their organization's runs, never another's nor the installation-wide ones (no organization);
platform superusers see every run.
"""

from django.contrib import admin
from django.utils.html import format_html_join

from core import permissions
from core.admin_base import ExactValueFilter, OrganizationScopedAdmin
from core.models import TaskRun


@admin.register(TaskRun)
class TaskRunAdmin(OrganizationScopedAdmin):
    list_display = ("name", "status", "progress", "message", "created_at", "finished_at")
    list_filter = ("status", ("name", ExactValueFilter))
    search_fields = ("name",)
    ordering = ("-created_at",)
    fields = ("name", "status", "progress", "message", "triggered_by", "created_at", "started_at",
              "finished_at", "result", "error", "log")
    readonly_fields = (*fields, "organization")

    def get_queryset(self, request):
        # for_admin: a superuser sees all; anyone else their organization's runs, which leaves out
        # the installation-wide runs (organization None) as well.
        # Prefetched, not joined: the embedded server joins every row before it filters.
        return super().get_queryset(request).prefetch_related("organization", "triggered_by")

    def get_fields(self, request, obj=None):
        fields = tuple(super().get_fields(request, obj))
        if permissions.can_see_all_organizations(request.user):
            fields = ("organization", *fields)
        return fields

    def has_module_permission(self, request):
        return permissions.can_view_task_runs(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_task_runs(request.user)

    @admin.display(description="Log")
    def log(self, obj):
        return format_html_join(
            "\n", "<div><code>{}</code> {} {}</div>",
            ((line.at.strftime("%H:%M:%S"), line.level, line.message) for line in obj.log_lines),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
