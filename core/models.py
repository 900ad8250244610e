"""Platform records shared by every domain app: organizations (the tenants), task runs and the
realtime event outbox."""

from django.db import models
from django_mongodb_backend.fields import EmbeddedModelArrayField
from django_mongodb_backend.models import EmbeddedModel

from core.time_indexed import TimeIndexed, TimeIndexedQuerySet


class CostBasisMethod(models.TextChoices):
    FIFO = "fifo", "FIFO (first in, first out)"
    LIFO = "lifo", "LIFO (last in, first out)"
    HIFO = "hifo", "HIFO (highest cost first)"
    ACB = "acb", "ACB (average cost)"
    UK = "uk", "UK (HMRC pooling)"


class LotScope(models.TextChoices):
    ALL = "all", "Across all wallets"
    WALLET = "wallet", "Per wallet"


class Organization(models.Model):
    """Whose books: a business (or one person) with its own people, wallets, ledger and reports.

    The tax settings live here, not on the user, because the books they drive are the
    organization's: one reporting fiat (fixed once transactions exist), one cost-basis method and lot
    scope. The branding fields are what invoices and payslips print.
    """

    name = models.CharField(max_length=200)
    # Made for one person at registration or on leaving a company: their own books.
    is_personal = models.BooleanField(default=False)
    reporting_fiat = models.CharField(max_length=3, default="USD")
    cost_basis_method = models.CharField(max_length=8, choices=CostBasisMethod.choices, default=CostBasisMethod.FIFO)
    cost_basis_lot_scope = models.CharField(max_length=8, choices=LotScope.choices, default=LotScope.ALL)
    fiscal_year_start_month = models.PositiveSmallIntegerField(default=1)
    fiscal_year_start_day = models.PositiveSmallIntegerField(default=1)
    time_zone = models.CharField(max_length=64, default="UTC")
    # Entries dated on or before this day cannot be created, posted or reversed (closed periods).
    lock_date = models.DateField(null=True, blank=True)
    # Branding, printed on invoices and payslips.
    logo = models.FileField(upload_to="organizations/logos/", blank=True, default="")
    primary_color = models.CharField(max_length=7, blank=True, default="")
    secondary_color = models.CharField(max_length=7, blank=True, default="")
    address = models.TextField(blank=True, default="")
    tax_id = models.CharField(max_length=64, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "organizations"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TaskStatus(models.TextChoices):
    QUEUED = "QUEUED", "Queued"
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"


class TaskLogLine(EmbeddedModel):
    at = models.DateTimeField()
    level = models.CharField(max_length=10, default="INFO")
    message = models.TextField()


class TaskRun(TimeIndexed, models.Model):
    """One execution of a long task: what progress bars and the task-logs feed read."""

    # Runs per organization and day, for the list's first-page window (core.time_indexed).
    time_index_scope, time_index_field = "task_runs", "created_at"

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, 0-100
    message = models.CharField(max_length=500, blank=True, default="")
    log_lines = EmbeddedModelArrayField(TaskLogLine, default=list, blank=True)
    # None for installation-wide work (the chain monitor, price refresh): platform superusers only.
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    triggered_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="task_runs"
    )
    huey_task_id = models.CharField(max_length=64, blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TimeIndexedQuerySet.as_manager()

    class Meta:
        db_table = "task_runs"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="task_runs_org_created_idx"),
            models.Index(fields=["-created_at"], name="task_runs_created_idx"),
            models.Index(fields=["status"], name="task_runs_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class RealtimeEvent(models.Model):
    """Outbox of websocket events.

    Written only after the business write commits; every ASGI process tails this collection and
    forwards new events to its websocket clients, so events raised in the task worker reach
    browsers connected to the web server.
    """

    group = models.CharField(max_length=200)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the one process that forwards the event when the channel layer is shared (Redis).
    relayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "realtime_events"
        indexes = [models.Index(fields=["created_at"], name="realtime_events_created_idx")]


class AutomationOutcome(models.TextChoices):
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"
    SKIPPED = "SKIPPED", "Skipped (automation stopped)"


class AutomationState(models.Model):
    """The automation switch, stored so every worker process sees it and it holds across restarts
    (core.scheduling): one document for the whole installation (`job` = ALL_JOBS) and one per periodic
    job. A job runs on its schedule when both the installation's and its own are enabled. The job
    documents also keep what the status page shows: the last run and its outcome, the last skip."""

    ALL_JOBS = "*"

    job = models.CharField(max_length=200, unique=True)
    enabled = models.BooleanField(default=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=16, choices=AutomationOutcome.choices, blank=True, default="")
    last_task_run = models.ForeignKey(TaskRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_skipped_at = models.DateTimeField(null=True, blank=True)
    # The schedule slot (a matching minute) of the last scheduled run: one run per slot across consumers.
    last_slot = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0)
    skips = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "automation_states"
        indexes = [models.Index(fields=["job"], name="automation_states_job_idx")]

    def __str__(self) -> str:
        return f"{self.job} ({'on' if self.enabled else 'off'})"
