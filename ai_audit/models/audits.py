"""Models of audits: one Audit per static analysis of a contract's source (a registered, verified
contract or an uploaded file), its normalised findings, signals, risk score and optional model output."""

from django.db import models

from core.tenancy import OrganizationOwned

__all__ = ["Audit", "AuditSource", "AuditStatus"]


class AuditSource(models.TextChoices):
    CONTRACT = "CONTRACT", "Registered contract"
    UPLOAD_SOL = "UPLOAD_SOL", "Uploaded .sol file"
    UPLOAD_JSON = "UPLOAD_JSON", "Uploaded standard-JSON input"


class AuditStatus(models.TextChoices):
    QUEUED = "QUEUED", "Queued"
    RUNNING = "RUNNING", "Running"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"


class Audit(OrganizationOwned):
    source_kind = models.CharField(max_length=16, choices=AuditSource.choices)
    # The contract audited: set for CONTRACT audits and for uploads naming a registered contract.
    # Address and network are kept as text so the history per contract survives its registry row.
    contract_id = models.CharField(max_length=24, blank=True, default="")
    contract_address = models.CharField(max_length=42, blank=True, default="")
    network = models.CharField(max_length=32, blank=True, default="")
    contract_name = models.CharField(max_length=200, blank=True, default="")
    file_name = models.CharField(max_length=255, blank=True, default="")
    compiler_version = models.CharField(max_length=32, blank=True, default="")
    sources = models.JSONField(default=dict, blank=True)  # {path: Solidity text}, size-limited on input
    compiler_settings = models.JSONField(default=dict, blank=True)  # standard-JSON "settings" kept
    status = models.CharField(max_length=16, choices=AuditStatus.choices, default=AuditStatus.QUEUED)
    task_run = models.ForeignKey("core.TaskRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    findings = models.JSONField(default=list, blank=True)  # ai_audit.audits.findings.normalise() dicts
    signals = models.JSONField(default=list, blank=True)  # names of scoring.SIGNAL_POINTS
    analysed_contracts = models.JSONField(default=list, blank=True)
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    risk_label = models.CharField(max_length=16, blank=True, default="")
    score_breakdown = models.JSONField(default=list, blank=True)  # [{"reason", "points"}]
    analyzer_version = models.CharField(max_length=32, blank=True, default="")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    # Optional language-model output (LLM_BASE_URL): always shown as the model's, never as findings.
    llm_summary = models.TextField(blank=True, default="")
    llm_fixes = models.JSONField(default=list, blank=True)  # [{"detector", "suggestion"}]
    llm_model = models.CharField(max_length=120, blank=True, default="")
    llm_error = models.CharField(max_length=300, blank=True, default="")
    requested_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "contract_audits"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audits_org_created_idx"),
            models.Index(fields=["organization", "network", "contract_address"], name="audits_org_contract_idx"),
        ]

    def __str__(self):
        return f"Audit of {self.contract_name or self.file_name or self.contract_address} ({self.status})"
