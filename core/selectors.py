"""Reads of platform records."""

from django.db.models import QuerySet

from core.models import TaskRun


def task_run_list() -> QuerySet[TaskRun]:
    return TaskRun.objects.order_by("-created_at", "-id")
