"""Tax reports (one document each: totals, analysis, comparison; the full disposal list in its files)
and stored financial statements. Both belong to an organization (core.tenancy): a tax report covers
the organization's transactions, a statement its books; `user` / `created_by` is who asked for it."""

from django.conf import settings
from django.db import models

from core.money import FIAT_AMOUNT
from core.tenancy import OrganizationOwned
from ledger.cost_basis import format_fiat


class TaxReportType(models.TextChoices):
    DAILY = "DAILY", "Daily"
    WEEKLY = "WEEKLY", "Weekly"
    MONTHLY = "MONTHLY", "Monthly"
    QUARTERLY = "QUARTERLY", "Quarterly"
    ANNUAL = "ANNUAL", "Annual"
    CUSTOM = "CUSTOM", "Custom"


class TaxReportStatus(models.TextChoices):
    GENERATING = "GENERATING", "Generating"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"


def report_file_path(report, filename: str) -> str:
    return f"tax_reports/{report.organization_id}/{report.pk}/{filename}"


class TaxReport(OrganizationOwned):
    # Who requested it (and is notified when it is ready); the figures are the organization's.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tax_reports")
    report_type = models.CharField(max_length=10, choices=TaxReportType.choices)
    start_date = models.DateField()
    end_date = models.DateField()
    tax_year = models.PositiveIntegerField(null=True, blank=True)
    method = models.CharField(max_length=8)
    lot_scope = models.CharField(max_length=8, default="all")
    fiat = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=10, choices=TaxReportStatus.choices, default=TaxReportStatus.GENERATING)
    error = models.TextField(blank=True, default="")
    task_run = models.ForeignKey("core.TaskRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    total_proceeds = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    total_cost_basis = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    total_gains = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    total_losses = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    net_gain_loss = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    short_term_net = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    long_term_net = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    total_income = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    total_fees = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    taxable_events = models.PositiveIntegerField(default=0)
    # Plain JSON (amounts as strings, exact): the first disposals of each part, yearly totals of the
    # whole history, and the analysis figures behind `ai_analysis`.
    disposals_preview = models.JSONField(default=dict, blank=True)
    comparison = models.JSONField(default=list, blank=True)
    analysis = models.JSONField(default=dict, blank=True)
    ai_analysis = models.TextField(blank=True, default="")
    warnings = models.JSONField(default=list, blank=True)

    file_path = models.FileField(upload_to=report_file_path, max_length=300, blank=True)  # the PDF
    xlsx_file = models.FileField(upload_to=report_file_path, max_length=300, blank=True)
    csv_file = models.FileField(upload_to=report_file_path, max_length=300, blank=True)

    generated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "tax_reports"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="tax_reports_org_created_idx")]

    @property
    def net_gain_loss_display(self) -> str:
        """Rounded half-even to cents, like every printed figure."""
        return "" if self.net_gain_loss is None else format_fiat(self.net_gain_loss)

    def __str__(self) -> str:
        return f"{self.get_report_type_display()} tax report {self.start_date} – {self.end_date} ({self.status})"


# A tax report's files by the name the API and the admin download them as: (field, content type, extension).
TAX_REPORT_FILES = {
    "pdf": ("file_path", "application/pdf", "pdf"),
    "xlsx": ("xlsx_file", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "csv": ("csv_file", "text/csv", "csv"),
}


# --- financial statements ----------------------------------------------------------------------------

class StatementKind(models.TextChoices):
    BALANCE_SHEET = "BALANCE_SHEET", "Balance sheet"
    INCOME_STATEMENT = "INCOME_STATEMENT", "Income statement"
    CASH_FLOW = "CASH_FLOW", "Cash-flow statement"


class FinancialStatement(OrganizationOwned):
    """A stored balance sheet (`as_of`), income statement or cash-flow statement (`start_date` to
    `end_date`), with its comparison columns, as computed when it was generated: `statement` is the
    engine's plain JSON (reporting.statements.statement_as_json, amounts as exact strings) and the
    files are drawn from it, so a stored statement never changes when later entries are posted."""

    kind = models.CharField(max_length=20, choices=StatementKind.choices)
    as_of = models.DateField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    # [{"as_of": day}] or [{"start": day, "end": day}], in column order after the main one.
    comparison = models.JSONField(default=list, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    include_fair_value = models.BooleanField(default=True)
    statement = models.JSONField(default=dict)
    totals = models.JSONField(default=dict)  # the main column's totals, amounts as strings
    unpriced = models.JSONField(default=list, blank=True)  # the main column's assets left at cost
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "financial_statements"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "kind", "-created_at"], name="fin_statements_org_kind_idx")]

    @property
    def period_label(self) -> str:
        if self.kind == StatementKind.BALANCE_SHEET:
            return f"at {self.as_of.isoformat()}" if self.as_of else ""
        return f"{self.start_date.isoformat()} – {self.end_date.isoformat()}" if self.start_date else ""

    @property
    def file_stem(self) -> str:
        name = self.kind.lower().replace("_", "-")
        if self.kind == StatementKind.BALANCE_SHEET:
            return f"{name}-{self.as_of.isoformat()}"
        return f"{name}-{self.start_date.isoformat()}-{self.end_date.isoformat()}"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_label}"
