"""Periodic jobs: one registry, one automation switch, one TaskRun per run.

`@periodic_job(name, cron(...), description=...)` makes a huey periodic task (the consumer's scheduler
enqueues it when its schedule matches) and registers it in `JOBS`. Before each scheduled run the worker
reads the automation switch from the database (core.models.AutomationState: one document for the whole
installation and one per job), so stopping automation holds across restarts and for every worker
process: a stopped job is skipped (counted on its state document, no TaskRun), a running one records an
installation-wide TaskRun (status, result, error; the task-logs feed of platform superusers) and its
outcome on its state document.

A run asked for now (`job_enqueue`: the system's run-tasks endpoint, the system page) runs whatever
the switch says: the switch governs the schedule, not a person's explicit request. A job may also have
an organization-scoped form (`per_organization=fn(organization_id)`): an organization's admin runs it
for their own organization only; its TaskRun belongs to that organization.

Two runs of one job never overlap (a huey lock per job); the later one fails its TaskRun as "already
running". With several consumers (each with its own scheduler) a job runs once per schedule slot: the
first run to claim the slot on the job's state document does the work, the others return at once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from huey.contrib.djhuey import HUEY, db_periodic_task
from huey.exceptions import TaskLockedException

from core import services
from core import permissions
from core.admin_base import admin_change_recorded
from core.errors import ErrorCode, InvalidInput
from core.models import AutomationOutcome, AutomationState, TaskRun
from core.realtime import StaffFeed, publish, staff_feed_group

logger = logging.getLogger(__name__)

ALL_JOBS = AutomationState.ALL_JOBS


# --- schedules (pure) --------------------------------------------------------------------------------
class ScheduleError(ValueError):
    pass


_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("day_of_week", 0, 6))


def _values(spec: str, low: int, high: int) -> frozenset[int]:
    """Crontab field values: `*`, `*/n`, `a`, `a-b`, `a-b/n`, comma-separated."""
    found: set[int] = set()
    for part in str(spec).split(","):
        part = part.strip()
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(f"bad step in {spec!r}")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            if not (first.isdigit() and last.isdigit()):
                raise ScheduleError(f"bad range in {spec!r}")
            start, end = int(first), int(last)
        elif part.isdigit():
            start = end = int(part)
        else:
            raise ScheduleError(f"bad crontab field {spec!r}")
        if not low <= start <= end <= high:
            raise ScheduleError(f"{spec!r} is outside {low}-{high}")
        found.update(range(start, end + 1, step))
    return frozenset(found)


class cron:
    """A crontab schedule (as huey's `crontab`; day_of_week 0 = Sunday) that can also say when it next
    matches and print itself. Called with a datetime it answers whether a run is due that minute: huey's
    scheduler calls it every minute."""

    def __init__(self, minute="*", hour="*", day="*", month="*", day_of_week="*"):
        self.specs = {"minute": str(minute), "hour": str(hour), "day": str(day), "month": str(month),
                      "day_of_week": str(day_of_week)}
        self.sets = {name: _values(self.specs[name], low, high) for name, low, high in _FIELDS}

    def __call__(self, when: dt.datetime) -> bool:
        return (when.minute in self.sets["minute"] and when.hour in self.sets["hour"]
                and when.day in self.sets["day"] and when.month in self.sets["month"]
                and when.isoweekday() % 7 in self.sets["day_of_week"])

    def next_after(self, when: dt.datetime, *, horizon_days: int = 400) -> dt.datetime | None:
        """The first whole minute strictly after `when` that matches (None within the horizon)."""
        moment = when.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        limit = moment + dt.timedelta(days=horizon_days)
        while moment < limit:
            if not (moment.month in self.sets["month"] and moment.day in self.sets["day"]
                    and moment.isoweekday() % 7 in self.sets["day_of_week"]):
                moment = (moment + dt.timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if moment.hour not in self.sets["hour"]:
                moment = (moment + dt.timedelta(hours=1)).replace(minute=0)
                continue
            if moment.minute in self.sets["minute"]:
                return moment
            moment += dt.timedelta(minutes=1)
        return None

    def latest_at_or_before(self, when: dt.datetime, *, horizon_days: int = 31) -> dt.datetime | None:
        """The last whole minute at or before `when` that matches (None within the horizon): the
        schedule slot a run started at `when` belongs to."""
        moment = when.replace(second=0, microsecond=0)
        limit = moment - dt.timedelta(days=horizon_days)
        while moment > limit:
            if not (moment.month in self.sets["month"] and moment.day in self.sets["day"]
                    and moment.isoweekday() % 7 in self.sets["day_of_week"]):
                moment = moment.replace(hour=23, minute=59) - dt.timedelta(days=1)
                continue
            if moment.hour not in self.sets["hour"]:
                moment = moment.replace(minute=59) - dt.timedelta(hours=1)
                continue
            if moment.minute in self.sets["minute"]:
                return moment
            moment -= dt.timedelta(minutes=1)
        return None

    @property
    def text(self) -> str:
        return " ".join(self.specs[name] for name, _, _ in _FIELDS)

    def __repr__(self) -> str:
        return f"cron({self.text!r})"


# --- the registry ------------------------------------------------------------------------------------
@dataclass
class Job:
    name: str
    schedule: cron
    description: str
    task: object  # the huey periodic task
    per_organization: Callable | None = None


JOBS: dict[str, Job] = {}
_discovered = False


def jobs_discover() -> dict[str, Job]:
    """Every app's `tasks` module imported once (as huey's consumer does at start), so a web process
    knows every job too; core names no app (Django's autodiscovery, as the admin's)."""
    global _discovered
    if not _discovered:
        autodiscover_modules("tasks")
        _discovered = True
    return JOBS


class AlreadyRunning(Exception):
    pass


def automation_allows(name: str) -> bool:
    """Whether the switch lets job `name` run on its schedule now (one read, both documents)."""
    states = dict(AutomationState.objects.filter(job__in=[ALL_JOBS, name]).values_list("job", "enabled"))
    return states.get(ALL_JOBS, True) and states.get(name, True)


def _state_ensure(name: str) -> None:
    try:
        AutomationState.objects.create(job=name)
    except IntegrityError:  # created by another worker meanwhile (unique job)
        pass


def _state_update(name: str, **fields) -> None:
    updated = AutomationState.objects.filter(job=name).update(**fields)
    if not updated:
        _state_ensure(name)
        AutomationState.objects.filter(job=name).update(**fields)


def _slot_claim(name: str, schedule: cron, now: dt.datetime) -> bool:
    """Whether this scheduled run is the first of its schedule slot (the latest matching minute): with
    several consumers, each one's scheduler enqueues the job, and only one run per slot does the work.
    A conditional update on the job's state document decides, whichever process comes first."""
    slot = schedule.latest_at_or_before(now.astimezone(dt.timezone.utc).replace(tzinfo=None))
    if slot is None:
        return True
    slot = slot.replace(tzinfo=dt.timezone.utc)
    if not AutomationState.objects.filter(job=name).exists():
        _state_ensure(name)  # the document the claim updates
    claimed = AutomationState.objects.filter(job=name).filter(Q(last_slot__isnull=True) | Q(last_slot__lt=slot))
    if claimed.update(last_slot=slot):
        logger.info("periodic job %s: claimed the run of slot %s", name, slot.isoformat())
        return True
    logger.info("periodic job %s: the run of slot %s is another consumer's", name, slot.isoformat())
    return False


def _record_skip(name: str) -> None:
    _state_update(name, last_skipped_at=timezone.now(), skips=F("skips") + 1)
    logger.info("periodic job %s skipped: automation is stopped", name)


def _run(name: str, fn: Callable, task_run_id, args: tuple, *, huey_task_id: str) -> object:
    services.task_run_start(task_run_id=task_run_id, huey_task_id=huey_task_id)
    try:
        with HUEY.lock_task(f"periodic-job:{name}"):
            result = fn(*args)
    except TaskLockedException:
        services.task_run_fail(task_run_id=task_run_id, error=f"{name} is already running")
        return None
    except Exception as exc:
        error = "".join(traceback.format_exception_only(exc)).strip()
        logger.exception("periodic job %s (run %s) failed", name, task_run_id)
        services.task_run_log(task_run_id=task_run_id, message=error, level="ERROR")
        services.task_run_fail(task_run_id=task_run_id, error=error)
        return AutomationOutcome.FAILED
    services.task_run_succeed(task_run_id=task_run_id, result=_plain(result))
    return AutomationOutcome.SUCCEEDED


def _plain(result):
    """A job's result as JSON-able data for the TaskRun (Decimals and dates as strings)."""
    try:
        return json.loads(json.dumps(result, cls=DjangoJSONEncoder))
    except (TypeError, ValueError):
        return {"result": str(result)}


def periodic_job(name: str, schedule: cron, *, description: str, per_organization: Callable | None = None):
    """Decorate a function of no arguments (the installation-wide work) as a periodic job."""
    if not isinstance(schedule, cron):
        raise TypeError("a periodic job's schedule is a core.scheduling.cron")

    def decorator(fn):
        def job(task_run_id=None, organization_id=None, task=None):
            scheduled = task_run_id is None
            if scheduled and not automation_allows(name):
                _record_skip(name)
                return None
            if scheduled and not _slot_claim(name, schedule, timezone.now()):
                return None
            if scheduled:
                task_run_id = services.task_run_create(name=name, organization_id=None).pk
            work, args = (fn, ()) if organization_id is None else (per_organization, (organization_id,))
            outcome = _run(name, work, task_run_id, args, huey_task_id=task.id if task else "")
            if outcome is not None and organization_id is None:
                _state_update(name, last_run_at=timezone.now(), last_outcome=outcome,
                              last_task_run_id=task_run_id, runs=F("runs") + 1)
            return outcome

        job.__name__ = fn.__name__
        job.__doc__ = fn.__doc__
        task = db_periodic_task(schedule, name=name, context=True)(job)
        task.job_name = name
        task.call_local = fn  # the work itself, now, in this process (no switch, no TaskRun)
        JOBS[name] = Job(name, schedule, description, task, per_organization)
        return task

    return decorator


# --- asked for now -----------------------------------------------------------------------------------
def job_enqueue(name: str, *, triggered_by=None, organization_id=None) -> TaskRun:
    """Queue job `name` now as a tracked run (installation-wide, or for `organization_id` when the job
    has an organization form). Who may do which is decided by the caller (core.services.jobs_run)."""
    job = JOBS[name]
    task_run = services.task_run_create(name=name, triggered_by=triggered_by, organization_id=organization_id)
    try:
        job.task(task_run_id=str(task_run.pk), organization_id=None if organization_id is None else str(organization_id))
    except Exception as exc:
        services.task_run_fail(task_run_id=task_run.pk, error=f"could not be queued: {exc}")
        raise
    if HUEY.immediate:
        task_run.refresh_from_db()
    return task_run


def job_status(name: str, states: dict[str, AutomationState], *, now: dt.datetime) -> dict:
    job = JOBS[name]
    state = states.get(name)
    installation_on = states[ALL_JOBS].enabled if ALL_JOBS in states else True
    own_on = state.enabled if state is not None else True
    return {
        "name": name,
        "description": job.description,
        "schedule": job.schedule.text,
        "enabled": own_on,
        "paused": not (own_on and installation_on),
        "next_run_at": job.schedule.next_after(now.astimezone(dt.UTC)) if own_on and installation_on else None,
        "last_run_at": state.last_run_at if state else None,
        "last_outcome": state.last_outcome if state else "",
        "last_task_run_id": state.last_task_run_id if state else None,
        "last_skipped_at": state.last_skipped_at if state else None,
        "runs": state.runs if state else 0,
        "skips": state.skips if state else 0,
        "organization_form": job.per_organization is not None,
    }


def automation_status(*, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    jobs_discover()
    states = {state.job: state for state in AutomationState.objects.all()}
    installation = states.get(ALL_JOBS)
    return {
        "enabled": installation.enabled if installation else True,
        "changed_at": installation.changed_at if installation else None,
        "jobs": [job_status(name, states, now=now) for name in sorted(JOBS)],
    }


def automation_set(*, enabled: bool, job: str | None = None, actor=None) -> AutomationState:
    """Turn automation on or off for every job (`job` None) or one job. Stored; the caller checks who."""
    name = ALL_JOBS if job is None else job
    _state_update(name, enabled=enabled, changed_at=timezone.now(),
                  changed_by_id=getattr(actor, "pk", None))
    return AutomationState.objects.get(job=name)


# --- the system endpoints' services (who may do what: core.permissions, "system") --------------------
ONLY_SUPERUSERS = "Automation and installation-wide jobs are for platform superusers."


def _job_names_check(names: list[str]) -> None:
    jobs_discover()
    unknown = sorted(set(names) - set(JOBS))
    if unknown or not names:
        raise InvalidInput(ErrorCode.UNKNOWN_JOB,
                           f"Unknown job(s): {', '.join(unknown)}." if unknown else "Name at least one job.",
                           {"unknown": unknown, "jobs": sorted(JOBS)})


def jobs_run(*, actor, names: list[str], organization_only: bool = False) -> list[TaskRun]:
    """Queue the named jobs now. A platform superuser runs them installation-wide (or, with
    `organization_only`, for their own organization); an organization's admin runs the organization
    form of each, for their own organization (a job without one: 422)."""
    permissions.require(permissions.can_control_automation(actor) or permissions.can_run_organization_jobs(actor),
                        "Running jobs is for your organization's admins.")
    names = list(dict.fromkeys(names))
    _job_names_check(names)
    installation_wide = permissions.can_control_automation(actor) and not organization_only
    if not installation_wide:
        permissions.require(permissions.can_run_organization_jobs(actor),
                            "Running jobs is for your organization's admins.")
        without = [name for name in names if JOBS[name].per_organization is None]
        if without:
            raise InvalidInput(ErrorCode.JOB_HAS_NO_ORGANIZATION_FORM,
                               "These jobs work on every organization at once; only a platform superuser runs "
                               f"them: {', '.join(without)}.",
                               {"jobs": without, "organization_jobs": sorted(n for n, j in JOBS.items()
                                                                              if j.per_organization)})
    organization_id = None if installation_wide else actor.organization_id
    return [job_enqueue(name, triggered_by=actor, organization_id=organization_id) for name in names]


def automation_change(*, actor, enabled: bool, job: str | None = None, ip: str | None = None) -> dict:
    """Start or stop automation (every job, or one): platform superusers; in the audit log and on the
    platform's task-logs feed."""
    permissions.require(permissions.can_control_automation(actor), ONLY_SUPERUSERS)
    if job is not None:
        _job_names_check([job])
    state = automation_set(enabled=enabled, job=job, actor=actor)
    action = "automation_start" if enabled else "automation_stop"
    admin_change_recorded.send(sender=AutomationState, action=action, actor=actor, target=state, ip=ip,
                               change=f"{'started' if enabled else 'stopped'} {job or 'all jobs'}")
    publish(staff_feed_group(None, StaffFeed.TASK_LOGS), "automation.changed",
            {"job": job, "enabled": enabled, "by": actor.username, "at": state.changed_at})
    return automation_status()


def automation_status_for(actor) -> dict:
    permissions.require(permissions.can_view_automation(actor), "Automation status is for admins.")
    return automation_status()
