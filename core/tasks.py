"""Platform tasks: collection statistics (the example tracked task) and outbox pruning."""

from django.db import connection
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from core.realtime import realtime_events_prune
from core.tasking import tracked_task


@tracked_task("collection_stats")
def collection_stats(reporter):
    """Count the documents of every collection of the database, one log line per collection."""
    names = sorted(connection.introspection.table_names())
    counts = {}
    for index, name in enumerate(names, start=1):
        counts[name] = connection.get_collection(name).count_documents({})
        reporter.log(f"{name}: {counts[name]} document(s)")
        reporter.progress(int(index * 100 / len(names)), f"{index}/{len(names)} collections")
    return {"collections": len(names), "documents": sum(counts.values()), "counts": counts}


@db_periodic_task(crontab(minute="17", hour="*"))
def realtime_outbox_prune():
    return realtime_events_prune()
