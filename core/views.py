"""Back-office pages of the platform: login/logout and the live-operations page.

Who sees what (core.permissions):
- /app/: the organization's staff (`can_view_task_runs`) get live operations: their organization's
  task runs (and, for platform superusers, the installation-wide ones); everyone else their account
  page.
- /app/task-runs/ (the fragment) and /app/task-runs/start/: the organization's staff (403 otherwise).
  Starting counts the documents of the staff member's organization; `scope=platform` counts the whole
  installation and is for platform superusers only (`can_run_platform_tasks`, 403 otherwise).
"""

from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.models import SessionKind
from accounts.selectors import user_session_get
from accounts.sessions import session_login, session_logout
from core import permissions
from core.jsonapi.auth import BROWSER_SESSION_KEY, client_device, client_ip
from core.jsonapi.errors import ApiError
from core.selectors import task_run_list
from core.tasks import collection_stats

RECENT_TASK_RUNS = 20


LOGIN_ERRORS = {
    "invalid_credentials": "Your username and password didn't match.",
    "account_locked": "This account is locked after too many failed logins; try again later or reset your password.",
    "email_not_verified": "Verify your email address first: follow the link we emailed you.",
    "account_inactive": "This account is deactivated.",
    "rate_limited": "Too many attempts; wait a minute and try again.",
}


def backoffice_login(request):
    """Browser login with the same rules as the API (lockout, verification, single session)."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    error, status = "", 200
    if request.method == "POST":
        try:
            user, session, _ = session_login(
                login=request.POST.get("username", ""), password=request.POST.get("password", ""),
                ip=client_ip(request), device_info=client_device(request), kind=SessionKind.BROWSER,
            )
        except ApiError as exc:
            error, status = LOGIN_ERRORS.get(exc.code, exc.message), exc.status if exc.status == 429 else 200
        else:
            django_login(request, user, backend="accounts.auth_backends.MongoModelBackend")
            request.session[BROWSER_SESSION_KEY] = str(session.pk)
            return redirect(next_url or "backoffice-home")
    elif request.user.is_authenticated:
        return redirect(next_url or "backoffice-home")
    return render(request, "backoffice/login.html",
                  {"error": error, "next": next_url, "username": request.POST.get("username", "")}, status=status)


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


@require_POST
def backoffice_logout(request):
    session_id = request.session.get(BROWSER_SESSION_KEY)
    session = user_session_get(session_id=session_id) if session_id else None
    if session is not None:
        session_logout(session=session, ip=client_ip(request))
    django_logout(request)
    return redirect("backoffice-login")
