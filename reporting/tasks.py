"""Huey tasks of reporting: tax report generation (a tracked task: progress and logs in its TaskRun,
which belongs to the report's organization). The work itself is reporting.generation, which never
imports reporting.services (the module that queues this task): no import loop."""

from core.tasking import tracked_task
from reporting.generation import tax_report_generate


@tracked_task("reporting.tax_report_generate")
def tax_report_generate_task(reporter, report_id: str, organization_id: str | None = None):
    return tax_report_generate(report_id=report_id, organization_id=organization_id, reporter=reporter)
