"""Writes of platform records: task runs (what progress bars and the task-logs feed read).

Every write is one conditional update of one document, so it is atomic without a transaction, and
a state change that lost a race fails instead of overwriting the winner.

A run belongs to an organization (the work is on its data) or to none (installation-wide work: the
monitor, price refresh, whole-database statistics). Its events reach only those who may read it
(core.selectors.task_run_readable):
- the task-logs feed of its organization, `staff_feed_group(org, TASK_LOGS)`, gets every change with
  the log lines; an installation-wide run goes to the platform feed `staff_feed_group(None, ...)`
  (superusers) only;
- the live area of the organization's staff, `organization_group(org, Audience.STAFF)`, and the user
  who started it, `user_group(triggered_by)`, learn only that it changed (LIVE_FIELDS), not its logs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from bson import ObjectId
from bson.errors import InvalidId
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from core import permissions
from core.errors import ErrorCode, InvalidInput
from core.models import TaskRun, TaskStatus
from core.realtime import Audience, StaffFeed, organization_group, publish, staff_feed_group, user_group
from core.selectors import task_run_readable

MAX_LOG_LINES = 500
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FINISHED = (TaskStatus.SUCCEEDED, TaskStatus.FAILED)
# The live area learns only that a run changed, not its logs.
LIVE_FIELDS = ("id", "name", "status", "progress")
# `task_run_create(organization_id=...)` not given: the organization of the user who started it.
OF_TRIGGER = object()


class TaskRunStateError(Exception):
    """A transition the task-run lifecycle does not allow (e.g. out of a finished state)."""


def _task_run_oid(task_run_id) -> ObjectId:
    try:
        return ObjectId(str(task_run_id))
    except (InvalidId, TypeError):
        raise TaskRunStateError(f"task run {task_run_id!r} does not exist") from None


@dataclass(frozen=True)
class _Audience:
    feed_groups: tuple[str, ...]  # the whole change, log lines included
    live_groups: tuple[str, ...]  # LIVE_FIELDS only


_AUDIENCES: OrderedDict[str, _Audience] = OrderedDict()
_REMEMBERED_AUDIENCES = 2048


def _audience_for(organization_id, triggered_by) -> _Audience:
    if organization_id is None:
        feed_groups = (staff_feed_group(None, StaffFeed.TASK_LOGS),)
        live_groups: tuple[str, ...] = ()
        starter_hears = triggered_by is not None and task_run_readable(triggered_by, organization_id=None)
    else:
        feed_groups = (staff_feed_group(organization_id, StaffFeed.TASK_LOGS),)
        live_groups = (organization_group(organization_id, Audience.STAFF),)
        # A member who started work on their organization's data (e.g. their tax report) follows its
        # progress; staff already hear it through their organization's staff audience.
        starter_hears = (triggered_by is not None and permissions.in_organization(triggered_by, organization_id)
                         and Audience.STAFF not in permissions.live_audiences(triggered_by))
    if starter_hears:
        live_groups = (*live_groups, user_group(triggered_by.pk))
    return _Audience(feed_groups, live_groups)


def _remember_audience(task_run_id, audience: _Audience) -> _Audience:
    _AUDIENCES[str(task_run_id)] = audience
    if len(_AUDIENCES) > _REMEMBERED_AUDIENCES:
        _AUDIENCES.popitem(last=False)
    return audience


def _audience_of(task_run_id) -> _Audience:
    """Who hears about a run (its organization and starter never change, so this is remembered)."""
    audience = _AUDIENCES.get(str(task_run_id))
    if audience is None:
        run = TaskRun.objects.filter(pk=_task_run_oid(task_run_id)).select_related("triggered_by").first()
        if run is None:
            return _Audience((), ())
        audience = _remember_audience(task_run_id, _audience_for(run.organization_id, run.triggered_by))
    return audience


def _publish_update(task_run_id, **changes) -> None:
    payload = {"id": str(task_run_id), **{k: v for k, v in changes.items() if v is not None}}
    audience = _audience_of(task_run_id)
    for group in audience.feed_groups:
        publish(group, "task_run.updated", payload)
    live_payload = {k: v for k, v in payload.items() if k in LIVE_FIELDS}
    for group in audience.live_groups:
        publish(group, "task_run.updated", live_payload)


def _transition(task_run_id, allowed_from, **fields) -> None:
    oid = _task_run_oid(task_run_id)
    updated = TaskRun.objects.filter(pk=oid, status__in=allowed_from).update(**fields)
    if updated != 1:
        current = TaskRun.objects.filter(pk=oid).values_list("status", flat=True).first()
        raise TaskRunStateError(f"task run {task_run_id} is {current or 'missing'}; cannot set {sorted(fields)}")


def task_run_create(*, name: str, triggered_by=None, organization_id=OF_TRIGGER) -> TaskRun:
    """Record a run of `name` for `organization_id` (None: installation-wide work; not given: the
    organization of `triggered_by`, or none without a user).

    A user starts work only for their own organization, and installation-wide work only as a platform
    superuser (PermissionDenied otherwise); work without a user (periodic tasks, commands) names the
    organization it acts for.
    """
    if not name or len(name) > 200:
        raise ValueError("a task run needs a name of 1-200 characters")
    if organization_id is OF_TRIGGER:
        organization_id = getattr(triggered_by, "organization_id", None)
    # The inactive system user (automatic work) starts nothing on anyone's behalf: no check for it.
    if triggered_by is not None and triggered_by.is_active:
        if organization_id is None and not permissions.can_run_platform_tasks(triggered_by):
            raise PermissionDenied("Installation-wide tasks are for platform superusers.")
        if organization_id is not None and not permissions.in_organization(triggered_by, organization_id):
            raise PermissionDenied("A task runs for your own organization only.")
    task_run = TaskRun.objects.create(name=name, triggered_by=triggered_by, organization_id=organization_id)
    _remember_audience(task_run.pk, _audience_for(task_run.organization_id, triggered_by))
    _publish_update(task_run.pk, name=name, status=TaskStatus.QUEUED, progress=0)
    return task_run


def task_run_start(*, task_run_id, huey_task_id: str = "") -> None:
    _transition(
        task_run_id, [TaskStatus.QUEUED],
        status=TaskStatus.RUNNING, started_at=timezone.now(), huey_task_id=huey_task_id[:64],
    )
    _publish_update(task_run_id, status=TaskStatus.RUNNING)


def task_run_log(*, task_run_id, message: str, level: str = "INFO") -> None:
    """Append a log line with one $push (no read-modify-write: concurrent lines are all kept)."""
    if level not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}")
    line = {"at": timezone.now(), "level": level, "message": message[:2000]}
    result = connection.get_collection(TaskRun._meta.db_table).update_one(
        {"_id": _task_run_oid(task_run_id)},
        {"$push": {"log_lines": {"$each": [line], "$slice": -MAX_LOG_LINES}}},
    )
    if result.matched_count != 1:
        raise TaskRunStateError(f"task run {task_run_id} does not exist")
    _publish_update(task_run_id, log_line=message[:500], level=level)


def task_run_set_progress(*, task_run_id, progress: int, message: str = "") -> None:
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        raise ValueError("progress is a whole percentage between 0 and 100")
    _transition(task_run_id, [TaskStatus.RUNNING], progress=progress, message=message[:500])
    _publish_update(task_run_id, progress=progress, message=message[:500] or None)


def task_run_succeed(*, task_run_id, result=None) -> None:
    _transition(
        task_run_id, [TaskStatus.RUNNING],
        status=TaskStatus.SUCCEEDED, progress=100, result=result, error="", finished_at=timezone.now(),
    )
    _publish_update(task_run_id, status=TaskStatus.SUCCEEDED, progress=100)


def task_run_requeue(*, task_run_id, error: str) -> None:
    """A failed attempt that the queue will retry: back to QUEUED, with the error until it succeeds."""
    _transition(task_run_id, [TaskStatus.RUNNING], status=TaskStatus.QUEUED, error=error[:5000])
    _publish_update(task_run_id, status=TaskStatus.QUEUED, error=error[:500])


def task_run_fail(*, task_run_id, error: str) -> None:
    _transition(
        task_run_id, [TaskStatus.QUEUED, TaskStatus.RUNNING],
        status=TaskStatus.FAILED, error=error[:5000], finished_at=timezone.now(),
    )
    _publish_update(task_run_id, status=TaskStatus.FAILED, error=error[:500])


# --- named caches (the system's clear-cache endpoint) ---------------------------------------------------
# The caches the app really has register here (core imports no app): `name` -> a description and
# `clear(organization_id)` (None: every organization's entries). The dashboard's figures register
# from reporting.dashboard.

class CacheRegistration:
    def __init__(self, name: str, description: str, clear):
        self.name, self.description, self.clear = name, description, clear


CACHES: dict[str, CacheRegistration] = {}
_caches_discovered = False


def caches_discover() -> dict[str, CacheRegistration]:
    """The apps' `dashboard` modules register their caches when imported: import them once."""
    global _caches_discovered
    if not _caches_discovered:
        autodiscover_modules("dashboard")
        _caches_discovered = True
    return CACHES


def cache_register(name: str, description: str, clear) -> None:
    CACHES[name] = CacheRegistration(name, description, clear)


def caches_clear(*, actor, names: list[str] | None = None, installation_wide: bool = False) -> list[dict]:
    """Clear the named caches (all registered ones when `names` is empty) of the actor's organization
    (its admins), or of every organization (`installation_wide`: platform superusers)."""
    if installation_wide:
        permissions.require(permissions.can_control_automation(actor),
                            "Clearing every organization's caches is for platform superusers.")
    else:
        permissions.require(permissions.can_run_organization_jobs(actor),
                            "Clearing caches is for your organization's admins.")
    caches_discover()
    names = list(dict.fromkeys(names or sorted(CACHES)))
    unknown = sorted(set(names) - set(CACHES))
    if unknown:
        raise InvalidInput(ErrorCode.UNKNOWN_CACHE, f"Unknown cache(s): {', '.join(unknown)}.",
                           {"unknown": unknown, "caches": sorted(CACHES)})
    organization_id = None if installation_wide else actor.organization_id
    cleared = []
    for name in names:
        CACHES[name].clear(organization_id)
        cleared.append({"name": name, "description": CACHES[name].description,
                        "organization_id": None if organization_id is None else str(organization_id)})
    return cleared
