"""Huey tasks for users, roles, sessions, employees, notifications and the audit log."""

from accounts.ratelimits import rate_limit_counters_prune
from core.scheduling import cron, periodic_job


@periodic_job("rate_limits_prune", cron(minute="41"),
              description="Delete the auth rate-limit counters whose window has ended.")
def rate_limit_counters_prune_hourly():
    """Every hour: delete the auth rate-limit counters whose window has ended (one document per
    scope, subject and minute: without this the collection grows with every request)."""
    return {"deleted": rate_limit_counters_prune()}
