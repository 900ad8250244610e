"""The base ModelAdmin of every admin in the project.

Django's admin wraps its add/change/delete views in `django.db.transaction.atomic`. On this backend
that block is not a transaction, but it marks the connection as inside one, and then any real
MongoDB transaction a service opens (`django_mongodb_backend.transaction.atomic`) fails at commit
with TransactionManagementError. So these views run without Django's atomic; the services they call
provide the real transactions.
"""

from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect
from unfold.admin import ModelAdmin

csrf_protect_m = method_decorator(csrf_protect)


class BackofficeAdminViewsMixin:
    """Admin views without Django's atomic, and every admin change in the audit log."""

    def _audit(self, request, action: str, obj, message) -> None:
        from accounts.audit import audit_record

        audit_record(action=action, actor=request.user, target=obj, ip=request.META.get("REMOTE_ADDR"),
                     change=str(message)[:500] if message else "")

    def log_addition(self, request, obj, message):
        self._audit(request, "admin_add", obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, "admin_change", obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, "admin_delete", obj, "")
        return super().log_deletions(request, queryset)

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._changeform_view(request, object_id, form_url, extra_context)

    @csrf_protect_m
    def delete_view(self, request, object_id, extra_context=None):
        return self._delete_view(request, object_id, extra_context)


class BackofficeModelAdmin(BackofficeAdminViewsMixin, ModelAdmin):
    show_full_result_count = False  # a count is a full scan on the embedded server (stack.md, defect 4)
