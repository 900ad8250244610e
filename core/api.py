"""System endpoints (/api/system/): health and task runs.

Who may call what (decided per endpoint; the rules are core.permissions predicates):
- `GET /health/`: public (load balancers and uptime checks call it without a login). It reports the
  state of shared components only (database, chain node, task queue, channel layer, mail server)
  and no organization's data, so it is not scoped.
- `GET /task-runs/` and `GET /task-runs/{id}/`: for the organization's staff
  (`can_view_task_runs`: its managers and admins; 403 for anyone else logged in). They act on the
  organization's data: its runs only. Platform superusers (`can_run_platform_tasks`) also read the
  installation-wide runs (no organization: the monitor, price refresh, whole-database statistics),
  which is the only installation-wide reach of these endpoints. Another organization's run id
  answers 404, like an unknown one (core.selectors.task_run_list).
- `POST /run-tasks/`: queue named periodic jobs now, each a tracked TaskRun. Platform superusers run
  them installation-wide; an organization's admin runs the organization form of a job (e.g.
  `journals_sync`) for their own organization only (`organization_only` makes a superuser do the
  same). Unknown names: 422 with the list of jobs.
- `POST /clear-cache/`: clear the named caches the app has (core.services.CACHES; all when none are
  named) for the caller's organization (its admins), or for every organization
  (`installation_wide`: platform superusers). Unknown names: 422 with the list.
- `GET /automation/status/`: the switch and every periodic job (schedule, next and last run, last
  outcome, paused): an organization's admins and platform superusers (read only).
- `POST /automation/start/` and `/stop/`: all jobs or one (`job`): platform superusers only, since the
  jobs work on every organization's data; audited and sent on the platform's task-logs feed.
"""

from datetime import datetime
from typing import Any

from django.http import JsonResponse
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from core import permissions, scheduling
from core.health import health_report
from core.jsonapi.auth import auth_requiring, client_ip
from core.jsonapi.schemas import StrictSchema
from core.services import caches_clear
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import NewestFirstWindow
from core.jsonapi.types import ObjectIdStr
from core.models import TaskRun
from core.selectors import task_run_list

router = Router(tags=["system"])
task_runs_auth = auth_requiring(permissions.can_view_task_runs)


class ComponentOut(Schema):
    status: str
    latency_ms: float
    detail: str


class HealthOut(Schema):
    status: str
    components: dict[str, ComponentOut]


@router.get("/health/", response={200: HealthOut, 503: HealthOut}, auth=None, summary="System health check")
def system_health(request):
    report = health_report()
    return JsonResponse(report, status=503 if report["status"] == "down" else 200)


class TaskRunOut(Schema):
    id: ObjectIdStr
    name: str
    status: str
    progress: int
    message: str
    # None: an installation-wide run (listed to platform superusers only).
    organization_id: ObjectIdStr | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class TaskLogLineOut(Schema):
    at: datetime
    level: str
    message: str


class TaskRunDetailOut(TaskRunOut):
    error: str
    result: Any = None
    log_lines: list[TaskLogLineOut]


@router.get("/task-runs/", response=list[TaskRunOut], auth=task_runs_auth, summary="List task runs")
@paginate(NewestFirstWindow, date_field="created_at", scope=TaskRun.time_index_scope)
def task_runs(request):
    return task_run_list(actor=request.user)


@router.get("/task-runs/{oid:task_run_id}/", response=TaskRunDetailOut, auth=task_runs_auth,
            summary="One task run with its log lines")
def task_run_detail(request, task_run_id: str):
    return get_object_or_404(task_run_list(actor=request.user), task_run_id)


# --- periodic jobs, caches, the automation switch -------------------------------------------------
admin_auth = auth_requiring(permissions.can_view_automation)


class RunTasksIn(StrictSchema):
    jobs: list[str]
    organization_only: bool = False


class RunTasksOut(Schema):
    task_runs: list[TaskRunOut]


@router.post("/run-tasks/", response={202: RunTasksOut}, auth=admin_auth, summary="Run periodic jobs now")
def run_tasks(request, payload: RunTasksIn):
    runs = scheduling.jobs_run(actor=request.user, names=payload.jobs, organization_only=payload.organization_only)
    return Status(202, {"task_runs": runs})


class ClearCacheIn(StrictSchema):
    caches: list[str] = []
    installation_wide: bool = False


class ClearedCacheOut(Schema):
    name: str
    description: str
    organization_id: ObjectIdStr | None


class ClearCacheOut(Schema):
    cleared: list[ClearedCacheOut]


@router.post("/clear-cache/", response=ClearCacheOut, auth=admin_auth, summary="Clear named caches")
def clear_cache(request, payload: ClearCacheIn):
    return {"cleared": caches_clear(actor=request.user, names=payload.caches,
                                    installation_wide=payload.installation_wide)}


class JobStatusOut(Schema):
    name: str
    description: str
    schedule: str  # crontab: minute hour day month day-of-week (UTC)
    enabled: bool  # the job's own switch
    paused: bool  # not running on its schedule (its own switch or the installation's is off)
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_outcome: str
    last_task_run_id: ObjectIdStr | None
    last_skipped_at: datetime | None
    runs: int
    skips: int
    organization_form: bool  # an organization's admin may run it for their organization


class AutomationStatusOut(Schema):
    enabled: bool
    changed_at: datetime | None
    jobs: list[JobStatusOut]


class AutomationSwitchIn(StrictSchema):
    job: str | None = None  # None: every job


@router.get("/automation/status/", response=AutomationStatusOut, auth=admin_auth, summary="Automation status")
def automation_status(request):
    return scheduling.automation_status_for(request.user)


@router.post("/automation/start/", response=AutomationStatusOut, auth=admin_auth, summary="Start automation")
def automation_start(request, payload: AutomationSwitchIn):
    return scheduling.automation_change(actor=request.user, enabled=True, job=payload.job, ip=client_ip(request))


@router.post("/automation/stop/", response=AutomationStatusOut, auth=admin_auth, summary="Stop automation")
def automation_stop(request, payload: AutomationSwitchIn):
    return scheduling.automation_change(actor=request.user, enabled=False, job=payload.job, ip=client_ip(request))
