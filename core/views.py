"""Back-office pages of the platform: login/logout and the live-operations page."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.selectors import task_run_list
from core.tasks import collection_stats

RECENT_TASK_RUNS = 20


class BackofficeLoginView(auth_views.LoginView):
    template_name = "backoffice/login.html"
    redirect_authenticated_user = True


def _staff_only(request):
    if not request.user.is_staff:
        raise PermissionDenied("The back-office is for staff.")


def _task_runs_context():
    return {"task_runs": list(task_run_list()[:RECENT_TASK_RUNS])}


@login_required
@require_GET
def live_operations(request):
    _staff_only(request)
    return render(request, "core/live_operations.html", _task_runs_context())


@login_required
@require_GET
def task_runs_fragment(request):
    _staff_only(request)
    return render(request, "core/_task_runs.html", _task_runs_context())


@login_required
@require_POST
def task_run_start(request):
    _staff_only(request)
    collection_stats.enqueue(triggered_by=request.user)
    if request.htmx:
        return render(request, "core/_task_runs.html", _task_runs_context())
    return redirect("backoffice-home")
