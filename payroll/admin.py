"""Admin of payroll: periods, payslips, recurring payments and their occurrences (read-only here: they move through the
API and the services), pay profiles (set through payroll.services.pay_profile_set) and withholding
table versions (added through payroll.services.withholding_table_create; a version is never edited,
a new one takes effect instead).

Scoped by organization (core.admin_base.OrganizationScopedAdmin) and asking core.permissions: view =
can_view_payroll, write = can_manage_payroll; the services check the same rules again."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from accounts.membership import organization_members
from core import permissions
from core.admin_base import OrganizationScopedAdmin, fiat_column
from core.errors import DomainError
from payroll import services
from payroll.models import (PayProfile, PayrollPeriod, Payslip, RecurringOccurrence, RecurringPayment,
                            WithholdingTable)


class PayrollAdmin(OrganizationScopedAdmin):
    def has_module_permission(self, request):
        return permissions.can_view_payroll(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_payroll(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _changeform_view(self, request, object_id, form_url, extra_context):
        try:
            return super()._changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(PayrollPeriod)
class PayrollPeriodAdmin(PayrollAdmin):
    list_display = ("period_id", "start_date", "end_date", "pay_date", "status", "payslip_count",
                    fiat_column("total_gross", currency_field="currency", description="gross"),
                    fiat_column("total_amount", currency_field="currency", description="net"))
    list_filter = ("status",)
    search_fields = ("period_id", "description")
    ordering = ("-start_date",)


@admin.register(Payslip)
class PayslipAdmin(PayrollAdmin):
    list_display = ("payslip_id", "employee_name", "approval_status", "payment_method", "payment_status",
                    fiat_column("gross_salary", currency_field="currency", description="gross"),
                    fiat_column("net_salary", currency_field="currency", description="net"),
                    "payout_amount", "gas_fee_charged", "payout_asset", "payment_transaction_hash")
    list_filter = ("approval_status", "payment_status", "payment_method")
    search_fields = ("payslip_id", "employee_name")
    ordering = ("-created_at",)


@admin.register(RecurringPayment)
class RecurringPaymentAdmin(PayrollAdmin):
    list_display = ("payment_name", "recipient_name", "amount", "cryptocurrency", "frequency", "next_payment_date",
                    "total_payments_made", "is_active")
    list_filter = ("frequency", "is_active")


@admin.register(RecurringOccurrence)
class RecurringOccurrenceAdmin(PayrollAdmin):
    """Each claimed occurrence of a recurring payment and its payout (read-only: the task moves them)."""
    list_display = ("payment", "index", "due_date", "amount", "cryptocurrency", "status", "transfer")
    list_filter = ("status",)
    list_select_related = ("payment", "transfer")


@admin.register(PayProfile)
class PayProfileAdmin(PayrollAdmin):
    list_display = ("employee", "pay_type", fiat_column("basic_salary"), fiat_column("hourly_rate"), "payment_method",
                    "is_active")
    list_filter = ("pay_type", "payment_method", "is_active")
    fields = ("employee", "pay_type", "basic_salary", "housing_allowance", "transport_allowance", "other_allowances",
              "hourly_rate", "standard_hours", "payment_method", "wallet_address", "payout_asset", "bank_details",
              "department", "position", "start_date", "end_date", "is_active")

    def has_add_permission(self, request):
        return permissions.can_manage_payroll(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_payroll(request.user) and (obj is None or obj.employee_id != request.user.pk)

    def get_readonly_fields(self, request, obj=None):
        return ("employee",) if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "employee":
            kwargs["queryset"] = organization_members(request.user.organization_id).filter(is_active=True).exclude(
                pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in self.fields if name != "employee" and name in form.cleaned_data}
        saved = services.pay_profile_set(actor=request.user, employee=obj.employee, **fields)
        obj.pk = saved.pk


@admin.register(WithholdingTable)
class WithholdingTableAdmin(PayrollAdmin):
    list_display = ("name", "effective_from", "flat_rate", "employee_insurance_rate", "employer_insurance_rate")
    fields = ("name", "effective_from", "brackets", "flat_rate", "employee_insurance_rate", "employer_insurance_rate",
              "description")
    ordering = ("-effective_from",)

    def has_add_permission(self, request):
        return permissions.can_manage_payroll(request.user)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.withholding_table_create(
            actor=request.user, name=data["name"], effective_from=data["effective_from"], brackets=data["brackets"],
            flat_rate=data.get("flat_rate"), employee_insurance_rate=data.get("employee_insurance_rate") or 0,
            employer_insurance_rate=data.get("employer_insurance_rate") or 0, description=data.get("description", ""))
        obj.pk = saved.pk
