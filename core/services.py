"""Writes of platform records: task runs (what progress bars and the task-logs feed read).

Every write is one conditional update of one document, so it is atomic without a transaction, and
a state change that lost a race fails instead of overwriting the winner.
"""

from __future__ import annotations

from bson import ObjectId
from bson.errors import InvalidId
from django.db import connection
from django.utils import timezone

from core.models import TaskRun, TaskStatus
from core.realtime import GROUP_LIVE, GROUP_TASK_LOGS, publish

MAX_LOG_LINES = 500
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FINISHED = (TaskStatus.SUCCEEDED, TaskStatus.FAILED)
# The live area is open to every logged-in user: it learns only that a run changed, not its logs.
LIVE_FIELDS = ("id", "name", "status", "progress")


class TaskRunStateError(Exception):
    """A transition the task-run lifecycle does not allow (e.g. out of a finished state)."""


def _task_run_oid(task_run_id) -> ObjectId:
    try:
        return ObjectId(str(task_run_id))
    except (InvalidId, TypeError):
        raise TaskRunStateError(f"task run {task_run_id!r} does not exist") from None


def _publish_update(task_run_id, **changes) -> None:
    payload = {"id": str(task_run_id), **{k: v for k, v in changes.items() if v is not None}}
    publish(GROUP_TASK_LOGS, "task_run.updated", payload)
    publish(GROUP_LIVE, "task_run.updated", {k: v for k, v in payload.items() if k in LIVE_FIELDS})


def _transition(task_run_id, allowed_from, **fields) -> None:
    oid = _task_run_oid(task_run_id)
    updated = TaskRun.objects.filter(pk=oid, status__in=allowed_from).update(**fields)
    if updated != 1:
        current = TaskRun.objects.filter(pk=oid).values_list("status", flat=True).first()
        raise TaskRunStateError(f"task run {task_run_id} is {current or 'missing'}; cannot set {sorted(fields)}")


def task_run_create(*, name: str, triggered_by=None) -> TaskRun:
    if not name or len(name) > 200:
        raise ValueError("a task run needs a name of 1-200 characters")
    task_run = TaskRun.objects.create(name=name, triggered_by=triggered_by)
    _publish_update(task_run.pk, name=name, status=TaskStatus.QUEUED, progress=0)
    return task_run


def task_run_start(*, task_run_id, huey_task_id: str = "") -> None:
    _transition(
        task_run_id, [TaskStatus.QUEUED],
        status=TaskStatus.RUNNING, started_at=timezone.now(), huey_task_id=huey_task_id[:64],
    )
    _publish_update(task_run_id, status=TaskStatus.RUNNING)


def task_run_log(*, task_run_id, message: str, level: str = "INFO") -> None:
    """Append a log line with one $push (no read-modify-write: concurrent lines are all kept)."""
    if level not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}")
    line = {"at": timezone.now(), "level": level, "message": message[:2000]}
    result = connection.get_collection(TaskRun._meta.db_table).update_one(
        {"_id": _task_run_oid(task_run_id)},
        {"$push": {"log_lines": {"$each": [line], "$slice": -MAX_LOG_LINES}}},
    )
    if result.matched_count != 1:
        raise TaskRunStateError(f"task run {task_run_id} does not exist")
    _publish_update(task_run_id, log_line=message[:500], level=level)


def task_run_set_progress(*, task_run_id, progress: int, message: str = "") -> None:
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        raise ValueError("progress is a whole percentage between 0 and 100")
    _transition(task_run_id, [TaskStatus.RUNNING], progress=progress, message=message[:500])
    _publish_update(task_run_id, progress=progress, message=message[:500] or None)


def task_run_succeed(*, task_run_id, result=None) -> None:
    _transition(
        task_run_id, [TaskStatus.RUNNING],
        status=TaskStatus.SUCCEEDED, progress=100, result=result, error="", finished_at=timezone.now(),
    )
    _publish_update(task_run_id, status=TaskStatus.SUCCEEDED, progress=100)


def task_run_requeue(*, task_run_id, error: str) -> None:
    """A failed attempt that the queue will retry: back to QUEUED, with the error until it succeeds."""
    _transition(task_run_id, [TaskStatus.RUNNING], status=TaskStatus.QUEUED, error=error[:5000])
    _publish_update(task_run_id, status=TaskStatus.QUEUED, error=error[:500])


def task_run_fail(*, task_run_id, error: str) -> None:
    _transition(
        task_run_id, [TaskStatus.QUEUED, TaskStatus.RUNNING],
        status=TaskStatus.FAILED, error=error[:5000], finished_at=timezone.now(),
    )
    _publish_update(task_run_id, status=TaskStatus.FAILED, error=error[:500])
