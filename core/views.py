"""Back-office pages of the platform: the live-operations page (login and logout are accounts').

Who sees what (core.permissions):
- /app/: the organization's staff (`can_view_task_runs`) get live operations: their organization's
  task runs (and, for platform superusers, the installation-wide ones); everyone else their account
  page.
- /app/task-runs/ (the fragment) and /app/task-runs/start/: the organization's staff (403 otherwise).
  Starting counts the documents of the staff member's organization; `scope=platform` counts the whole
  installation and is for platform superusers only (`can_run_platform_tasks`, 403 otherwise).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core import permissions
from core.selectors import task_run_list
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
