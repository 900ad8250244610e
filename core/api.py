"""System endpoints: health (public) and task runs (staff)."""

from datetime import datetime

from django.http import JsonResponse
from ninja import Router, Schema
from ninja.pagination import paginate

from core.health import health_report
from core.jsonapi.auth import staff_auth
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.types import ObjectIdStr
from core.selectors import task_run_list

router = Router(tags=["system"])


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
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@router.get("/task-runs/", response=list[TaskRunOut], auth=staff_auth, summary="List task runs")
@paginate(LimitOffsetNoCount)
def task_runs(request):
    return task_run_list()
