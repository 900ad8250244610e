"""Admin for task runs: read-only (written only by core.tasking), newest first, with their log lines."""

from django.contrib import admin
from django.utils.html import format_html_join

from core.admin_base import BackofficeModelAdmin
from core.models import TaskRun


@admin.register(TaskRun)
class TaskRunAdmin(BackofficeModelAdmin):
    list_display = ("name", "status", "progress", "message", "created_at", "finished_at")
    list_filter = ("status", "name")
    search_fields = ("name",)
    ordering = ("-created_at",)
    fields = ("name", "status", "progress", "message", "triggered_by", "created_at", "started_at",
              "finished_at", "result", "error", "log")
    readonly_fields = fields

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
