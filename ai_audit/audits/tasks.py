"""Huey tasks of audits: one tracked run per audit (slither in its own virtualenv, time-limited)."""

from ai_audit.audits.execution import audit_execute
from core.tasking import tracked_task


@tracked_task("ai_audit.audit")
def audit_run(reporter, audit_id, organization_id=None):
    """Compile and analyse one queued audit; its TaskRun carries the progress and any error."""
    return audit_execute(audit_id=audit_id, reporter=reporter)
