"""`@tracked_task`: a huey task that records its run (status, progress, log lines) in a TaskRun."""

from __future__ import annotations

import functools
import logging
import traceback

from huey.contrib.djhuey import db_task

from core import services

logger = logging.getLogger(__name__)


class TaskReporter:
    """Handed to a tracked task's function: progress and log lines go to its TaskRun."""

    def __init__(self, task_run_id):
        self.task_run_id = task_run_id

    def progress(self, percent: int, message: str = "") -> None:
        services.task_run_set_progress(task_run_id=self.task_run_id, progress=percent, message=message)

    def log(self, message: str, level: str = "INFO") -> None:
        services.task_run_log(task_run_id=self.task_run_id, message=message, level=level)


def tracked_task(name: str, **huey_options):
    """Decorate `fn(reporter, *args, **kwargs)`; call `fn.enqueue(*args, triggered_by=user)` to
    create the TaskRun and queue the work. Returns the TaskRun."""

    def decorator(fn):
        @db_task(name=name, **huey_options)
        @functools.wraps(fn)
        def run(task_run_id, *args, **kwargs):
            services.task_run_start(task_run_id=task_run_id)
            try:
                result = fn(TaskReporter(task_run_id), *args, **kwargs)
            except Exception as exc:
                logger.exception("task %s failed", name)
                services.task_run_log(task_run_id=task_run_id, message=f"{type(exc).__name__}: {exc}", level="ERROR")
                services.task_run_fail(task_run_id=task_run_id, error="".join(traceback.format_exception_only(exc)))
                raise
            services.task_run_succeed(task_run_id=task_run_id, result=result)
            return result

        def enqueue(*args, triggered_by=None, **kwargs):
            task_run = services.task_run_create(name=name, triggered_by=triggered_by)
            try:
                run(task_run.pk, *args, **kwargs)
            except Exception:
                # Immediate mode runs inline and re-raises: the failure is already on the TaskRun.
                pass
            task_run.refresh_from_db()
            return task_run

        run.enqueue = enqueue
        run.tracked_name = name
        return run

    return decorator
