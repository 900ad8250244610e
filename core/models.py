"""Platform records shared by every domain app: task runs and the realtime event outbox."""

from django.db import models
from django_mongodb_backend.fields import EmbeddedModelArrayField
from django_mongodb_backend.models import EmbeddedModel


class TaskStatus(models.TextChoices):
    QUEUED = "QUEUED", "Queued"
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"


class TaskLogLine(EmbeddedModel):
    at = models.DateTimeField()
    level = models.CharField(max_length=10, default="INFO")
    message = models.TextField()


class TaskRun(models.Model):
    """One execution of a long task: what progress bars and the task-logs feed read."""

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, 0-100
    message = models.CharField(max_length=500, blank=True, default="")
    log_lines = EmbeddedModelArrayField(TaskLogLine, default=list, blank=True)
    triggered_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="task_runs"
    )
    huey_task_id = models.CharField(max_length=64, blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "task_runs"
        ordering = ["-created_at"]
        indexes = [
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
