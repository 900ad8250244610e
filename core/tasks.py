"""Platform tasks: collection statistics (the example tracked task) and outbox pruning."""

from bson import ObjectId
from django.db import connection
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from core.realtime import realtime_events_prune
from core.tasking import tracked_task


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


@db_periodic_task(crontab(minute="17", hour="*"))
def realtime_outbox_prune():
    return realtime_events_prune()
