"""Tax reports (one document each: totals, analysis, comparison; the full disposal list in its files)."""

from django.conf import settings
from django.db import models

FIAT_AMOUNT = {"max_digits": 34, "decimal_places": 8}


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
    return f"tax_reports/{report.user_id}/{report.pk}/{filename}"


class TaxReport(models.Model):
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
        indexes = [models.Index(fields=["user", "-created_at"], name="tax_reports_user_created_idx")]

    @property
    def net_gain_loss_display(self) -> str:
        """Rounded half-even to cents, like every printed figure."""
        from ledger.cost_basis import format_fiat

        return "" if self.net_gain_loss is None else format_fiat(self.net_gain_loss)

    def __str__(self) -> str:
        return f"{self.get_report_type_display()} tax report {self.start_date} – {self.end_date} ({self.status})"
