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
"""

from datetime import datetime
from typing import Any

from django.http import JsonResponse
from ninja import Router, Schema
from ninja.pagination import paginate

from core import permissions
from core.health import health_report
from core.jsonapi.auth import auth_requiring
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.types import ObjectIdStr
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
@paginate(LimitOffsetNoCount)
def task_runs(request):
    return task_run_list(actor=request.user)


@router.get("/task-runs/{oid:task_run_id}/", response=TaskRunDetailOut, auth=task_runs_auth,
            summary="One task run with its log lines")
def task_run_detail(request, task_run_id: str):
    return get_object_or_404(task_run_list(actor=request.user), task_run_id)
