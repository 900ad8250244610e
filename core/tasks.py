"""Platform tasks: collection statistics (the example tracked task), and the periodic pruning of the
realtime outbox and of old task runs of periodic jobs."""

import datetime as dt

from bson import ObjectId
from django.db import connection
from django.utils import timezone

from core.models import TaskRun
from core.realtime import realtime_events_prune
from core.scheduling import JOBS, cron, periodic_job
from core import time_indexed
from core.tasking import tracked_task

# The runs of scheduled jobs (several a minute) are kept this long; runs people started are kept.
PERIODIC_RUN_RETENTION = dt.timedelta(days=7)


@tracked_task("collection_stats")
def collection_stats(reporter, organization_id=None):
    """Count the documents of every collection, one log line per collection: those of one
    organization (its managers' view of their own data), or, with `organization_id=None`, of the
    whole installation (platform superusers only; core.services.task_run_create checks)."""
    names = sorted(connection.introspection.table_names())
    query = {} if organization_id is None else {"organization_id": ObjectId(str(organization_id))}
    counts = {}
    for index, name in enumerate(names, start=1):
        counts[name] = connection.get_collection(name).count_documents(query)
        reporter.log(f"{name}: {counts[name]} document(s)")
        reporter.progress(int(index * 100 / len(names)), f"{index}/{len(names)} collections")
    return {"collections": len(names), "documents": sum(counts.values()), "counts": counts,
            "organization_id": None if organization_id is None else str(organization_id)}


@periodic_job("outbox_prune", cron(minute="17"),
              description="Delete realtime events older than a day from the outbox.")
def realtime_outbox_prune():
    return realtime_events_prune()


@periodic_job("task_runs_prune", cron(minute="23", hour="3"),
              description="Delete finished runs of scheduled jobs older than 7 days (runs people started stay).")
def task_runs_prune():
    deleted, _ = TaskRun.objects.filter(
        name__in=sorted(JOBS), triggered_by__isnull=True, finished_at__lt=timezone.now() - PERIODIC_RUN_RETENTION,
    ).delete()
    return {"deleted": deleted}


@periodic_job("time_indexes_rebuild", cron(minute="20", hour="3"),
              description="Recount the rows per organization and day behind the lists' first pages (daily).")
def time_indexes_rebuild():
    """Every night: recount from the data, so a count a crash or a raw write left wrong costs at most a
    day of wider first-page reads (the counts never decide what a page holds)."""
    return time_indexed.time_indexes_rebuild()
