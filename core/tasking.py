"""`@tracked_task`: a huey task that records its run (status, progress, log lines) in a TaskRun."""

from __future__ import annotations

import functools
import inspect
import logging
import traceback

from huey.contrib.djhuey import HUEY, db_task

from core import services
from core.models import TaskRun

logger = logging.getLogger(__name__)


class TaskReporter:
    """Handed to a tracked task's function: progress and log lines go to its TaskRun."""

    def __init__(self, task_run_id):
        self.task_run_id = task_run_id

    def progress(self, percent: int, message: str = "") -> None:
        services.task_run_set_progress(task_run_id=self.task_run_id, progress=percent, message=message)

    def log(self, message: str, level: str = "INFO") -> None:
        services.task_run_log(task_run_id=self.task_run_id, message=message, level=level)


def tracked_task(name: str, *, platform: bool = False, **huey_options):
    """Decorate `fn(reporter, *args, **kwargs)` (args must pickle); `fn.enqueue(*args,
    triggered_by=user)` creates the TaskRun, queues the work and returns the TaskRun.

    The run belongs to the organization the work is for: an explicit `organization_id=` keyword of
    the call (passed on to `fn`; None means installation-wide), else the organization of
    `triggered_by` (handed to `fn` as `organization_id` when it takes one), else none.
    `platform=True` marks installation-wide work (the chain monitor, price refresh): its runs never
    belong to an organization. Who may start what is checked by `core.services.task_run_create`.

    A failed attempt that huey will retry (`retries=N`) goes back to QUEUED; the last one is FAILED.
    """

    def decorator(fn):
        takes_organization = "organization_id" in inspect.signature(fn).parameters

        @db_task(name=name, context=True, **huey_options)
        @functools.wraps(fn)
        def run(task_run_id, *args, task=None, **kwargs):
            services.task_run_start(task_run_id=task_run_id, huey_task_id=task.id if task else "")
            try:
                result = fn(TaskReporter(task_run_id), *args, **kwargs)
            except Exception as exc:
                error = "".join(traceback.format_exception_only(exc)).strip()
                retrying = task is not None and task.retries > 0
                logger.exception("task %s (run %s) failed%s", name, task_run_id, "; retrying" if retrying else "")
                services.task_run_log(task_run_id=task_run_id, message=error, level="ERROR")
                if retrying:
                    services.task_run_requeue(task_run_id=task_run_id, error=error)
                else:
                    services.task_run_fail(task_run_id=task_run_id, error=error)
                raise  # huey records the error and schedules the retry
            services.task_run_succeed(task_run_id=task_run_id, result=result)
            return result

        def enqueue(*args, triggered_by=None, **kwargs) -> TaskRun:
            if platform:
                organization_id = None
            elif "organization_id" in kwargs:
                organization_id = kwargs["organization_id"]
            else:
                organization_id = getattr(triggered_by, "organization_id", None)
                if takes_organization:  # the work is for the organization its run belongs to
                    kwargs["organization_id"] = None if organization_id is None else str(organization_id)
            task_run = services.task_run_create(name=name, triggered_by=triggered_by, organization_id=organization_id)
            try:
                # Immediate mode runs the task here; huey logs its exceptions, the TaskRun has them.
                run(task_run.pk, *args, **kwargs)
            except Exception as exc:
                # Not queued (storage down, unpicklable argument): the run would stay QUEUED forever.
                services.task_run_fail(task_run_id=task_run.pk, error=f"could not be queued: {exc}")
                raise
            if HUEY.immediate:
                task_run.refresh_from_db()
            return task_run

        run.enqueue = enqueue
        run.tracked_name = name
        return run

    return decorator
