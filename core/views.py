"""Back-office pages of the platform: the live-operations page (login and logout are accounts').

Who sees what (core.permissions):
- /app/: the organization's staff (`can_view_task_runs`) get live operations: their organization's
  task runs (and, for platform superusers, the installation-wide ones); everyone else their account
  page.
- /app/task-runs/ (the fragment) and /app/task-runs/start/: the organization's staff (403 otherwise).
  Starting counts the documents of the staff member's organization; `scope=platform` counts the whole
  installation and is for platform superusers only (`can_run_platform_tasks`, 403 otherwise).
- /app/system/ and its forms: admins of the organization and platform superusers (see the section).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core import permissions, scheduling
from core.errors import DomainError
from core.http_status import http_status_of
from core.selectors import task_run_list
from core.services import caches_clear, caches_discover
from core.tasks import collection_stats

RECENT_TASK_RUNS = 20


PLATFORM_SCOPE = "platform"


def _task_run_staff_only(request):
    if not permissions.can_view_task_runs(request.user):
        raise PermissionDenied("Task runs are for the managers and admins of your organization.")


def _task_runs_context(request):
    return {
        "task_runs": list(task_run_list(actor=request.user)[:RECENT_TASK_RUNS]),
        "can_run_platform_tasks": permissions.can_run_platform_tasks(request.user),
    }


@login_required
@require_GET
def live_operations(request):
    if not permissions.can_view_task_runs(request.user):
        # Employees, accountants and other users land on their own account page.
        return render(request, "core/account_home.html", {"account": request.user})
    return render(request, "core/live_operations.html", _task_runs_context(request))


@login_required
@require_GET
def task_runs_fragment(request):
    _task_run_staff_only(request)
    return render(request, "core/_task_runs.html", _task_runs_context(request))


@login_required
@require_POST
def task_run_start(request):
    _task_run_staff_only(request)
    if request.POST.get("scope") == PLATFORM_SCOPE:
        if not permissions.can_run_platform_tasks(request.user):
            raise PermissionDenied("Installation-wide tasks are for platform superusers.")
        collection_stats.enqueue(organization_id=None, triggered_by=request.user)
    else:
        collection_stats.enqueue(organization_id=str(request.user.organization_id), triggered_by=request.user)
    if request.htmx:
        return render(request, "core/_task_runs.html", _task_runs_context(request))
    return redirect("backoffice-home")


# --- the system page (/app/system/): automation, periodic jobs, caches (issue 16) ----------------------
# Who: an organization's admins (read the switch, run the organization form of a job, clear their
# organization's cached figures) and platform superusers (start and stop automation, run any job,
# clear every organization's caches); the same rules as /api/system/ (core.scheduling, core.services).
RECENT_JOB_RUNS = 20


def _system_context(request, error: str = ""):
    status = scheduling.automation_status_for(request.user)
    return {
        "status": status,
        "job_runs": list(task_run_list(actor=request.user).filter(name__in=sorted(scheduling.JOBS))[:RECENT_JOB_RUNS]),
        "can_control": permissions.can_control_automation(request.user),
        "caches": sorted(caches_discover()),
        "error": error,
    }


def _system_admins_only(request) -> None:
    if not permissions.can_view_automation(request.user):
        raise PermissionDenied("The system page is for admins.")


def _system_answer(request, error: str = "", status: int = 200):
    template = "core/_system.html" if request.htmx else "core/system.html"
    try:
        context = _system_context(request, error)
    except DomainError as refused:  # the caller lost the right meanwhile (role changed, left)
        raise PermissionDenied(refused.message) from None
    return render(request, template, context, status=status)


@login_required
@require_GET
def system_page(request):
    _system_admins_only(request)
    return _system_answer(request)


@login_required
@require_POST
def system_automation(request):
    job = request.POST.get("job") or None
    try:
        scheduling.automation_change(actor=request.user, enabled=request.POST.get("action") == "start", job=job,
                                     ip=request.META.get("REMOTE_ADDR"))
    except DomainError as error:
        return _system_answer(request, error.message, http_status_of(error))
    return _system_answer(request) if request.htmx else redirect("backoffice-system")


@login_required
@require_POST
def system_run_job(request):
    _system_admins_only(request)
    try:
        scheduling.jobs_run(actor=request.user, names=[request.POST.get("job", "")],
                            organization_only=request.POST.get("scope") == "organization")
    except DomainError as error:
        return _system_answer(request, error.message, http_status_of(error))
    return _system_answer(request) if request.htmx else redirect("backoffice-system")


@login_required
@require_POST
def system_clear_cache(request):
    _system_admins_only(request)
    try:
        caches_clear(actor=request.user, installation_wide=request.POST.get("scope") == PLATFORM_SCOPE)
    except DomainError as error:
        return _system_answer(request, error.message, http_status_of(error))
    return _system_answer(request) if request.htmx else redirect("backoffice-system")
