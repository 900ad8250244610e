"""Admin for users and groups (unfold). Role changes go through accounts.services.user_set_role."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from accounts.models import User
from accounts.services import user_set_role

admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(DjangoUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    show_full_result_count = False
    list_display = ("username", "email", "first_name", "last_name", "role", "manager", "is_verified_by_manager",
                    "is_active")
    list_filter = ("role", "is_active", "is_staff", "is_verified_by_manager", "email_verified")
    search_fields = ("username", "email", "first_name", "last_name", "employee_id")
    ordering = ("username",)
    raw_id_fields = ("manager",)
    readonly_fields = ("last_login", "date_joined", "created_at", "updated_at", "last_login_ip",
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

    def save_model(self, request, obj, form, change):
        role_changed = "role" in form.changed_data
        new_role = obj.role
        if change and role_changed:
            obj.role = form.initial.get("role", obj.role)
        super().save_model(request, obj, form, change)
        if role_changed or not change:
            user_set_role(user=obj, role=new_role, actor=request.user)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin, ModelAdmin):
    search_fields = ("name",)
