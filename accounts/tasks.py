"""Huey tasks for users, roles, sessions, employees, notifications and the audit log."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from accounts.ratelimits import rate_limit_counters_prune


@db_periodic_task(crontab(minute="41"))
@lock_task("rate-limit-counters-prune")
def rate_limit_counters_prune_hourly():
    """Every hour: delete the auth rate-limit counters whose window has ended (one document per
    scope, subject and minute: without this the collection grows with every request)."""
    return {"deleted": rate_limit_counters_prune()}
