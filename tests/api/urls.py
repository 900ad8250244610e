"""Test-only routes that raise each kind of error, mounted beside the real API."""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.urls import path
from ninja import NinjaAPI, Schema

from config.urls import urlpatterns as real_urlpatterns
from core.jsonapi.auth import api_auth
from core.jsonapi.errors import install_exception_handlers
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.types import ObjectIdStr
from core.models import TaskRun
from core.errors import Conflict, ErrorCode, RateLimited

probe_api = NinjaAPI(title="probe", urls_namespace="probe-api", docs_url=None)
install_exception_handlers(probe_api)


class EchoIn(Schema):
    name: str
    amount: int


@probe_api.post("/echo/", auth=api_auth)
def echo(request, payload: EchoIn):
    return {"name": payload.name, "amount": payload.amount, "user": request.user.username}


@probe_api.get("/boom/")
def boom(request):
    raise RuntimeError("secret-internal-detail-5c1e")


@probe_api.get("/conflict/")
def conflict(request):
    raise IntegrityError("E11000 duplicate key")


@probe_api.get("/forbidden/")
def forbidden(request):
    raise PermissionDenied


@probe_api.get("/limited/")
def limited(request):
    raise RateLimited(retry_after_seconds=42)


@probe_api.get("/domain/")
def domain(request):
    raise Conflict(ErrorCode.SESSION_NOT_APPROVED, "Confirm your password first.", {"approve_at": "/api/auth/confirm-password/"})


class TaskRunRef(Schema):
    id: ObjectIdStr
    name: str


@probe_api.get("/task-runs/{oid:task_run_id}/", response=TaskRunRef, auth=api_auth)
def task_run_detail(request, task_run_id: str):
    return get_object_or_404(TaskRun.objects.filter(triggered_by=request.user), task_run_id)


urlpatterns = [path("api/probe/", probe_api.urls), *real_urlpatterns]
