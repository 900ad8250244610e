"""Admin for tax reports and stored financial statements: read-only (written only by
reporting.services), with their files; deleting one goes through the service (a report's files go
too).

Who: both are the organization's books. Staff who open the admin (core.permissions.can_open_admin)
see and download them when core.permissions.can_view_books holds, and delete them when
can_work_books holds, whatever their Django model permissions. Rows are scoped by
core.admin_base.OrganizationScopedAdmin: another organization's id is "not found" (a platform
superuser sees every organization)."""

from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html_join

from core import permissions
from core.admin_base import OrganizationScopedAdmin
from ledger.cost_basis import format_fiat
from reporting.models import TAX_REPORT_FILES, FinancialStatement, StatementKind, TaxReport, TaxReportStatus
from reporting.services import financial_statement_delete, tax_report_delete
from reporting.statement_exports import XLSX_CONTENT_TYPE, statement_pdf, statement_xlsx


class BooksAdmin(OrganizationScopedAdmin):
    """Read-only, readable with can_view_books, deletable with can_work_books."""

    def has_module_permission(self, request):
        return permissions.can_open_admin(request.user) and permissions.can_view_books(request.user)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request) and permissions.can_work_books(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TaxReport)
class TaxReportAdmin(BooksAdmin):
    list_display = ("user", "report_type", "start_date", "end_date", "method", "status", "net_gain_loss_display",
                    "taxable_events", "generated_at")
    list_filter = ("status", "report_type", "method")
    search_fields = ("user__username",)
    ordering = ("-created_at",)
    show_full_result_count = False
    list_select_related = ("user",)
    fields = ("user", "report_type", "start_date", "end_date", "tax_year", "method", "lot_scope", "fiat", "status",
              "error", "task_run", "total_proceeds", "total_cost_basis", "total_gains", "total_losses",
              "net_gain_loss", "short_term_net", "long_term_net", "total_income", "total_fees", "taxable_events",
              "ai_analysis", "files", "warnings", "generated_at", "created_at")
    readonly_fields = fields

    @admin.display(description="Net gain")
    def net_gain_loss_display(self, obj):
        return obj.net_gain_loss_display

    @admin.display(description="Files")
    def files(self, obj):
        if obj.status != TaxReportStatus.COMPLETED:
            return "-"
        return format_html_join(" · ", '<a href="{}">{}</a>', (
            (reverse("admin:reporting_taxreport_download", args=[obj.pk, kind]), label)
            for kind, label in (("pdf", "PDF"), ("xlsx", "Excel"), ("csv", "CSV"))))

    def get_urls(self):
        return [path("<str:object_id>/download/<str:kind>/", self.admin_site.admin_view(self.download_view),
                     name="reporting_taxreport_download"), *super().get_urls()]

    def download_view(self, request, object_id, kind):
        if not self.has_view_permission(request):
            raise PermissionDenied
        report = self.get_object(request, object_id)
        if report is None or kind not in TAX_REPORT_FILES or not getattr(report, TAX_REPORT_FILES[kind][0]):
            raise Http404
        field, content_type, extension = TAX_REPORT_FILES[kind]
        return FileResponse(getattr(report, field).open("rb"), as_attachment=True, content_type=content_type,
                            filename=f"tax-report-{report.user.username}-{report.start_date}-{report.end_date}.{extension}")

    def delete_model(self, request, obj):
        tax_report_delete(actor=request.user, report=obj)

    def delete_queryset(self, request, queryset):
        for report in queryset:
            tax_report_delete(actor=request.user, report=report)


# --- financial statements ----------------------------------------------------------------------------

HEADLINE_TOTALS = {StatementKind.BALANCE_SHEET: "total_assets", StatementKind.INCOME_STATEMENT: "net_income",
                   StatementKind.CASH_FLOW: "net_change_in_cash"}


@admin.register(FinancialStatement)
class FinancialStatementAdmin(BooksAdmin):
    """Read-only: statements are written by reporting.services (API or the statement pages)."""

    list_display = ("kind", "period_label", "currency", "headline", "created_by", "created_at", "files")
    list_filter = ("kind",)
    ordering = ("-created_at",)
    show_full_result_count = False
    list_select_related = ("created_by",)
    fields = ("kind", "as_of", "start_date", "end_date", "comparison", "currency", "include_fair_value", "totals",
              "unpriced", "created_by", "created_at", "files")
    readonly_fields = fields

    @admin.display(description="Period")
    def period_label(self, obj):
        return obj.period_label

    @admin.display(description="Headline figure")
    def headline(self, obj):
        value = obj.totals.get(HEADLINE_TOTALS[obj.kind])
        return "" if value is None else format_fiat(Decimal(value))

    @admin.display(description="Files")
    def files(self, obj):
        if obj.pk is None:
            return "-"
        return format_html_join(" · ", '<a href="{}">{}</a>', (
            (reverse("admin:reporting_financialstatement_download", args=[obj.pk, kind]), label)
            for kind, label in (("excel", "Excel"), ("pdf", "PDF"))))

    def get_urls(self):
        return [path("<str:object_id>/download/<str:kind>/", self.admin_site.admin_view(self.download_view),
                     name="reporting_financialstatement_download"), *super().get_urls()]

    def download_view(self, request, object_id, kind):
        if not self.has_view_permission(request):
            raise PermissionDenied
        stored = self.get_object(request, object_id)
        if stored is None or kind not in ("excel", "pdf"):
            raise Http404
        if kind == "excel":
            response = HttpResponse(statement_xlsx(stored), content_type=XLSX_CONTENT_TYPE)
            extension = "xlsx"
        else:
            response = HttpResponse(statement_pdf(stored), content_type="application/pdf")
            extension = "pdf"
        response["Content-Disposition"] = f'attachment; filename="{stored.file_stem}.{extension}"'
        return response

    def delete_model(self, request, obj):
        financial_statement_delete(actor=request.user, statement=obj)

    def delete_queryset(self, request, queryset):
        for statement in queryset:
            self.delete_model(request, statement)
