"""Huey tasks of reporting: tax report generation (a tracked task: progress and logs in its TaskRun)."""

from core.tasking import tracked_task


@tracked_task("reporting.tax_report_generate")
def tax_report_generate_task(reporter, report_id: str):
    from reporting.services import tax_report_generate

    return tax_report_generate(report_id=report_id, reporter=reporter)
