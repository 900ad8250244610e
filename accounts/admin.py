"""Admin for users and groups (unfold). Role changes go through accounts.services.user_set_role."""

from django import forms
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from unfold.admin import ModelAdmin

from core.admin_base import BackofficeAdminViewsMixin, BackofficeModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from accounts.models import AuditLogEntry, Notification, User, UserSession
from accounts.services import user_set_role

admin.site.unregister(Group)


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    """Labels permissions through the content-type cache: on the embedded server
    select_related("content_type") on Permission yields None, so Permission.__str__ fails."""

    def label_from_instance(self, obj):
        content_type = ContentType.objects.get_for_id(obj.content_type_id)
        return f"{content_type.app_label} | {content_type.name} | {obj.name}"


class PermissionFieldMixin:
    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name in ("permissions", "user_permissions"):
            kwargs["form_class"] = PermissionChoiceField
        return super().formfield_for_manytomany(db_field, request=request, **kwargs)


@admin.register(User)
class UserAdmin(PermissionFieldMixin, BackofficeAdminViewsMixin, DjangoUserAdmin, ModelAdmin):
    show_full_result_count = False
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "email", "first_name", "last_name", "role", "manager", "is_verified_by_manager",
                    "is_active")
    list_filter = ("role", "is_active", "is_staff", "is_verified_by_manager", "email_verified")
    search_fields = ("username", "email", "first_name", "last_name", "employee_id")
    ordering = ("username",)
    raw_id_fields = ("manager",)
    # is_staff follows the role (accounts.services.user_set_role); lockout fields are the login's.
    readonly_fields = ("is_staff", "last_login", "date_joined", "created_at", "updated_at", "last_login_ip",
                       "failed_login_attempts", "account_locked_until", "email_verified")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "phone_number")}),
        ("Organisation", {"fields": ("role", "company", "department", "employee_id", "manager",
                                     "is_verified_by_manager", "max_wallets", "wallet_address")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Security", {"fields": ("email_verified", "last_login", "last_login_ip", "failed_login_attempts",
                                 "account_locked_until")}),
        ("Dates", {"fields": ("date_joined", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "first_name", "last_name", "role",
                                                 "password1", "password2")}),
    )

    @method_decorator(sensitive_post_parameters())
    def add_view(self, request, form_url="", extra_context=None):
        return self._add_view(request, form_url, extra_context)  # without Django's atomic: see core.admin_base

    MANAGER_READONLY = ("role", "is_staff", "is_superuser", "groups", "user_permissions", "manager", "max_wallets",
                        "is_active", "is_verified_by_manager")
    actions = ("verify_employees", "activate_employees", "deactivate_employees", "remove_from_team")

    def _for_each_employee(self, request, queryset, change, done: str):
        from accounts import employees

        count = 0
        for employee in queryset:
            if employee.pk == request.user.pk:
                continue
            try:
                employee = employees.employee_get_for(request.user, employee.pk)
            except Exception:
                continue
            change(employee)
            count += 1
        self.message_user(request, f"{count} employee(s) {done}.")

    @admin.action(description="Verify selected employees", permissions=["change"])
    def verify_employees(self, request, queryset):
        from accounts.employees import employee_verify

        self._for_each_employee(request, queryset, lambda e: employee_verify(
            actor=request.user, employee=e, approve=True, ip=request.META.get("REMOTE_ADDR")), "verified")

    @admin.action(description="Activate selected employees", permissions=["change"])
    def activate_employees(self, request, queryset):
        from accounts.employees import employee_set_active

        self._for_each_employee(request, queryset, lambda e: employee_set_active(
            actor=request.user, employee=e, is_active=True, ip=request.META.get("REMOTE_ADDR")), "activated")

    @admin.action(description="Deactivate selected employees (ends their sessions)", permissions=["change"])
    def deactivate_employees(self, request, queryset):
        from accounts.employees import employee_set_active

        self._for_each_employee(request, queryset, lambda e: employee_set_active(
            actor=request.user, employee=e, is_active=False, ip=request.META.get("REMOTE_ADDR")), "deactivated")

    @admin.action(description="Remove selected employees from the team", permissions=["change"])
    def remove_from_team(self, request, queryset):
        from accounts.employees import employee_remove

        self._for_each_employee(request, queryset, lambda e: employee_remove(
            actor=request.user, employee=e, ip=request.META.get("REMOTE_ADDR")), "removed from the team")

    def _is_admin(self, request) -> bool:
        return request.user.is_superuser or request.user.role == "ADMIN"

    def get_queryset(self, request):
        # A manager sees only their team (and themselves); admins everyone.
        queryset = super().get_queryset(request)
        if self._is_admin(request):
            return queryset
        return queryset.filter(Q(manager=request.user) | Q(pk=request.user.pk))

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not self._is_admin(request):
            readonly += [name for name in self.MANAGER_READONLY if name not in readonly]
        return readonly

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # After the form's many-to-many save, which may have dropped the role group; on every save, so
        # role, role group and staff flag agree whatever was edited (role, groups, superuser flag).
        user_set_role(user=form.instance, role=form.instance.role, actor=request.user,
                      previous_role=form.initial.get("role") if change else None,
                      ip=request.META.get("REMOTE_ADDR"))


@admin.register(Group)
class GroupAdmin(PermissionFieldMixin, DjangoGroupAdmin, BackofficeModelAdmin):
    search_fields = ("name",)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdminMixin, BackofficeModelAdmin):
    """Append-only: nobody adds, edits or deletes entries, not even superusers."""

    list_display = ("created_at", "action", "actor_username", "target_type", "target_repr", "ip_address")
    list_filter = ("action", "target_type", "created_at")
    search_fields = ("actor_username", "target_repr", "target_id", "ip_address")
    ordering = ("-created_at",)
    fields = ("created_at", "action", "actor", "actor_username", "target_type", "target_id", "target_repr",
              "ip_address", "details")
    readonly_fields = fields


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdminMixin, BackofficeModelAdmin):
    list_display = ("user", "kind", "ip_address", "device_info", "is_active", "is_approved", "created_at",
                    "expires_at", "revoke_reason")
    list_filter = ("kind", "is_active", "is_approved", "revoke_reason")
    search_fields = ("ip_address", "device_info")
    raw_id_fields = ("user",)
    # Never the token hash.
    fields = ("user", "kind", "ip_address", "device_info", "is_active", "is_approved", "approved_until",
              "last_activity", "created_at", "expires_at", "revoked_at", "revoke_reason")
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(BackofficeModelAdmin):
    list_display = ("created_at", "user", "type", "priority", "title", "is_read")
    list_filter = ("type", "priority", "is_read")
    search_fields = ("title", "message")
    raw_id_fields = ("user",)
