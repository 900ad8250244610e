"""Writes of platform records: task runs (what progress bars and the task-logs feed read)."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from core.models import TaskRun, TaskStatus
from core.realtime import GROUP_LIVE, GROUP_TASK_LOGS, publish

MAX_LOG_LINES = 500
FINISHED = (TaskStatus.SUCCEEDED, TaskStatus.FAILED)


class TaskRunStateError(Exception):
    """A transition the task-run lifecycle does not allow (e.g. out of a finished state)."""


def _publish_update(task_run_id, **changes) -> None:
    payload = {"id": str(task_run_id), **{k: v for k, v in changes.items() if v is not None}}
    publish(GROUP_TASK_LOGS, "task_run.updated", payload)
    publish(GROUP_LIVE, "task_run.updated", payload)


def _transition(task_run_id, allowed_from, **fields) -> None:
    updated = TaskRun.objects.filter(pk=task_run_id, status__in=allowed_from).update(**fields)
    if updated != 1:
        current = TaskRun.objects.filter(pk=task_run_id).values_list("status", flat=True).first()
        raise TaskRunStateError(f"task run {task_run_id} is {current or 'missing'}; cannot set {fields}")


def task_run_create(*, name: str, triggered_by=None) -> TaskRun:
    if not name or len(name) > 200:
        raise ValueError("a task run needs a name of 1-200 characters")
    task_run = TaskRun.objects.create(name=name, triggered_by=triggered_by)
    _publish_update(task_run.pk, name=name, status=TaskStatus.QUEUED, progress=0)
    return task_run


def task_run_start(*, task_run_id) -> None:
    _transition(task_run_id, [TaskStatus.QUEUED], status=TaskStatus.RUNNING, started_at=timezone.now())
    _publish_update(task_run_id, status=TaskStatus.RUNNING)


def task_run_log(*, task_run_id, message: str, level: str = "INFO") -> None:
    """Append a log line with one $push (no read-modify-write: concurrent lines are all kept)."""
    line = {"at": timezone.now(), "level": level[:10], "message": message[:2000]}
    collection = connection.get_collection(TaskRun._meta.db_table)
    result = collection.update_one(
        {"_id": task_run_id if not isinstance(task_run_id, str) else _oid(task_run_id)},
        {"$push": {"log_lines": {"$each": [line], "$slice": -MAX_LOG_LINES}}},
    )
    if result.matched_count != 1:
        raise TaskRunStateError(f"task run {task_run_id} does not exist")
    _publish_update(task_run_id, log_line=message[:500], level=level)


def task_run_set_progress(*, task_run_id, progress: int, message: str = "") -> None:
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        raise ValueError("progress is a whole percentage between 0 and 100")
    _transition(task_run_id, [TaskStatus.RUNNING], progress=progress, message=message[:500])
    _publish_update(task_run_id, progress=progress, message=message[:500] or None)


def task_run_succeed(*, task_run_id, result=None) -> None:
    _transition(
        task_run_id, [TaskStatus.RUNNING],
        status=TaskStatus.SUCCEEDED, progress=100, result=result, finished_at=timezone.now(),
    )
    _publish_update(task_run_id, status=TaskStatus.SUCCEEDED, progress=100)


def task_run_fail(*, task_run_id, error: str) -> None:
    _transition(
        task_run_id, [TaskStatus.QUEUED, TaskStatus.RUNNING],
        status=TaskStatus.FAILED, error=error[:5000], finished_at=timezone.now(),
    )
    _publish_update(task_run_id, status=TaskStatus.FAILED, error=error[:500])


def _oid(value: str):
    from bson import ObjectId

    return ObjectId(value)
