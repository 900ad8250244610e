"""Admin for users, groups, invitations, sessions, notifications and the audit log (unfold).

Staff see only their own organization's rows (platform superusers see every organization): models
with an `organization` through core.admin_base.OrganizationScopedAdmin, the others (users, sessions,
notifications) by the same rule on their user's organization. Role changes go through
accounts.services.user_set_role (core.permissions decides); the platform flags (superuser, groups,
direct permissions) are only a platform superuser's to change; role groups are the platform's.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from accounts.employees import employee_get_for, employee_set_active, employee_verify
from accounts.invitations import invitation_revoke
from accounts.lockout import login_failures_unlock
from accounts.notifications import action_url_check, metadata_check
from accounts.models import AuditLogEntry, Invitation, InvitationStatus, Notification, User, UserSession
from accounts.organizations import member_remove
from accounts.services import role_change_keeps_an_admin, user_set_role
from core import permissions
from core.admin_base import BackofficeAdminViewsMixin, BackofficeModelAdmin, ExactValueFilter, OrganizationScopedAdmin
from core.errors import DomainError


def _users_of(request, queryset, field="organization_id"):
    """The same rule as core.tenancy's for_admin: a superuser sees all, staff their organization."""
    if permissions.can_see_all_organizations(request.user):
        return queryset
    if not permissions.can_use_backoffice(request.user):
        return queryset.none()
    return queryset.filter(**{field: request.user.organization_id})


def _message_of(exc: DomainError | ValidationError) -> str:
    return exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)


def _report_refusals(model_admin, request, refusals: set[str]) -> None:
    """An action skips the rows the service refuses and says why, once per reason."""
    for message in sorted(refusals):
        model_admin.message_user(request, f"Skipped: {message}", level=messages.WARNING)


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


class MemberChangeForm(UserChangeForm):
    def clean(self):
        cleaned = super().clean()
        role, previous = cleaned.get("role"), self.initial.get("role")
        if role and previous and role != previous and not role_change_keeps_an_admin(self.instance, previous, role):
            self.add_error("role", "This is the last admin of an organization with other members: make another "
                                   "member an admin first.")
        return cleaned


@admin.register(User)
class UserAdmin(PermissionFieldMixin, BackofficeAdminViewsMixin, DjangoUserAdmin, ModelAdmin):
    show_full_result_count = False
    form = MemberChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "email", "first_name", "last_name", "role", "is_accountant", "manager",
                    "is_verified_by_manager", "is_active")
    list_filter = ("role", "is_accountant", "is_active", "is_staff", "is_verified_by_manager", "email_verified")
    search_fields = ("username", "email", "first_name", "last_name", "employee_id")
    ordering = ("username",)
    raw_id_fields = ("manager",)
    # is_staff follows the role (accounts.services.user_set_role); lockout fields are the login's.
    # Membership moves only through invitations, leaving and removal (accounts.invitations, .organizations).
    readonly_fields = ("organization", "is_staff", "last_login", "date_joined", "created_at", "updated_at", "last_login_ip",
                       "failed_login_attempts", "account_locked_until", "email_verified")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "phone_number")}),
        ("Organisation", {"fields": ("organization", "role", "is_accountant", "company", "department",
                                     "employee_id", "manager",
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

    MANAGER_READONLY = ("role", "is_accountant", "is_staff", "is_superuser", "groups", "user_permissions", "manager",
                        "max_wallets", "is_active", "is_verified_by_manager")
    # Platform-wide powers: only a platform superuser (core.permissions.can_manage_platform) grants them.
    PLATFORM_FIELDS = ("is_superuser", "groups", "user_permissions")
    actions = ("verify_employees", "activate_employees", "deactivate_employees", "remove_from_team", "unlock_logins")

    def _for_each_employee(self, request, queryset, change, done: str):
        count, refusals = 0, set()
        for employee in queryset:
            try:
                employee = employee_get_for(request.user, employee.pk)
                if not permissions.can_manage_member(request.user, employee):
                    continue
                change(employee)
            except (DomainError, ValidationError) as exc:
                refusals.add(_message_of(exc))
                continue
            count += 1
        self.message_user(request, f"{count} employee(s) {done}.")
        _report_refusals(self, request, refusals)

    @admin.action(description="Verify selected employees", permissions=["change"])
    def verify_employees(self, request, queryset):
        self._for_each_employee(request, queryset, lambda e: employee_verify(
            actor=request.user, employee=e, approve=True, ip=request.META.get("REMOTE_ADDR")), "verified")

    @admin.action(description="Activate selected employees", permissions=["change"])
    def activate_employees(self, request, queryset):
        self._for_each_employee(request, queryset, lambda e: employee_set_active(
            actor=request.user, employee=e, is_active=True, ip=request.META.get("REMOTE_ADDR")), "activated")

    @admin.action(description="Deactivate selected employees (ends their sessions)", permissions=["change"])
    def deactivate_employees(self, request, queryset):
        self._for_each_employee(request, queryset, lambda e: employee_set_active(
            actor=request.user, employee=e, is_active=False, ip=request.META.get("REMOTE_ADDR")), "deactivated")

    @admin.action(description="Remove selected members from the organization (each gets an organization of "
                              "their own; nothing is deleted)", permissions=["change"])
    def remove_from_team(self, request, queryset):
        self._for_each_employee(request, queryset, lambda e: member_remove(
            actor=request.user, member=e, ip=request.META.get("REMOTE_ADDR")), "removed from the organization")

    @admin.action(description="Unlock logins of selected members (every source; admins only)",
                  permissions=["unlock"])
    def unlock_logins(self, request, queryset):
        count, refusals = 0, set()
        for member in queryset:
            try:
                login_failures_unlock(actor=request.user, member=member, ip=request.META.get("REMOTE_ADDR"))
            except DomainError as exc:
                refusals.add(_message_of(exc))
                continue
            count += 1
        self.message_user(request, f"Logins unlocked for {count} member(s).")
        _report_refusals(self, request, refusals)

    def has_unlock_permission(self, request):
        return permissions.is_org_admin(request.user) or permissions.can_see_all_organizations(request.user)

    def get_queryset(self, request):
        # Staff see the members of their organization; platform superusers everyone.
        return _users_of(request, super().get_queryset(request))

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or obj.pk == request.user.pk or permissions.can_see_all_organizations(request.user):
            return True
        return permissions.can_manage_member(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        # Nobody's account is deleted from an organization's admin: deactivate or remove them.
        return permissions.can_see_all_organizations(request.user) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not permissions.can_change_roles(request.user):
            readonly += [name for name in self.MANAGER_READONLY if name not in readonly]
        if not permissions.can_manage_platform(request.user):
            readonly += [name for name in self.PLATFORM_FIELDS if name not in readonly]
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "manager":
            kwargs["queryset"] = _users_of(request, User.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change and obj.organization_id is None:
            obj.organization_id = request.user.organization_id  # a new member of the staff's organization
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # After the form's many-to-many save, which may have dropped the role group; on every save, so
        # role, role group and staff flag agree whatever was edited (role, groups, superuser flag).
        try:
            user_set_role(user=form.instance, role=form.instance.role, actor=request.user,
                          previous_role=form.initial.get("role") if change else None,
                          ip=request.META.get("REMOTE_ADDR"))
        except DomainError as exc:  # the role field is read-only to those who may not change it
            raise PermissionDenied(exc.message) from None


@admin.register(Group)
class GroupAdmin(PermissionFieldMixin, DjangoGroupAdmin, BackofficeModelAdmin):
    """The role groups are shared by every organization: only platform superusers change them."""

    search_fields = ("name",)

    def has_module_permission(self, request):
        return permissions.can_manage_platform(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_manage_platform(request.user)

    def has_add_permission(self, request):
        return permissions.can_manage_platform(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_platform(request.user)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_platform(request.user)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Append-only: nobody adds, edits or deletes entries, not even superusers. Staff see their
    organization's entries; installation-wide ones (no organization) only superusers."""

    list_display = ("created_at", "action", "actor_username", "target_type", "target_repr", "ip_address")
    list_filter = (("action", ExactValueFilter), ("target_type", ExactValueFilter), "created_at")
    search_fields = ("actor_username", "target_repr", "target_id", "ip_address")
    ordering = ("-created_at",)
    fields = ("created_at", "action", "actor", "actor_username", "target_type", "target_id", "target_repr",
              "ip_address", "details")
    readonly_fields = fields


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Invitations are sent from the team page or the API (the email carries the only copy of the
    token); here staff follow them and revoke pending ones."""

    list_display = ("created_at", "email", "role", "status", "invited_by", "expires_at", "responded_at")
    list_filter = ("status", "role")
    search_fields = ("email",)
    ordering = ("-created_at",)
    fields = ("email", "role", "status", "invited_by", "accepted_by", "expires_at", "responded_at", "created_at")
    readonly_fields = fields
    actions = ("revoke_invitations",)

    def has_revoke_permission(self, request):
        return permissions.can_manage_team(request.user)

    @admin.action(description="Revoke selected pending invitations", permissions=["revoke"])
    def revoke_invitations(self, request, queryset):
        count, refusals = 0, set()
        for invitation in queryset.filter(status=InvitationStatus.PENDING):
            try:
                invitation_revoke(invitation=invitation, actor=request.user, ip=request.META.get("REMOTE_ADDR"))
            except DomainError as exc:
                refusals.add(exc.message)
                continue
            count += 1
        self.message_user(request, f"{count} invitation(s) revoked.")
        _report_refusals(self, request, refusals)


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

    def get_queryset(self, request):
        return _users_of(request, super().get_queryset(request), "user__organization_id")


class NotificationForm(forms.ModelForm):
    """The same bounds as accounts.notifications.notification_create (issue 19): the action URL is a
    path on this site or http(s), the metadata small and shallow."""

    def clean(self):
        cleaned = super().clean()
        try:
            action_url_check(cleaned.get("action_url") or "")
            metadata_check(cleaned.get("metadata") or {})
        except DomainError as exc:
            raise ValidationError(exc.message) from None
        return cleaned


@admin.register(Notification)
class NotificationAdmin(BackofficeModelAdmin):
    form = NotificationForm
    list_display = ("created_at", "user", "type", "priority", "title", "is_read")
    list_filter = ("type", "priority", "is_read")
    search_fields = ("title", "message")
    raw_id_fields = ("user",)

    def get_queryset(self, request):
        return _users_of(request, super().get_queryset(request), "user__organization_id")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = _users_of(request, User.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
