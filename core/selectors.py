"""Reads of platform records.

Task runs: the managers and admins of an organization (core.permissions.can_view_task_runs) read
their organization's runs; platform superusers (can_run_platform_tasks) also read the
installation-wide runs (organization None: the monitor, price refresh, whole-database statistics).
Nobody reads another organization's runs: their ids are simply not found.
"""

from django.db.models import QuerySet

from core import permissions
from core.models import TaskRun


def task_run_list(*, actor) -> QuerySet[TaskRun]:
    """The task runs `actor` may read, newest first (empty for anyone without the right)."""
    if not permissions.can_view_task_runs(actor):
        return TaskRun.objects.none()
    runs = TaskRun.objects.for_actor(actor)
    if permissions.can_run_platform_tasks(actor):
        runs = runs | TaskRun.objects.filter(organization__isnull=True)
    return runs.order_by("-created_at", "-id")


def task_run_readable(actor, *, organization_id) -> bool:
    """Whether `actor` may read a run of `organization_id` (None: an installation-wide run): the same
    rule as `task_run_list`, for one run already in hand."""
    if organization_id is None:
        return permissions.can_run_platform_tasks(actor)
    return permissions.can_view_task_runs(actor) and permissions.in_organization(actor, organization_id)
