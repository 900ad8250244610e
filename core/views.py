"""Back-office pages of the platform: login/logout and the live-operations page."""

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


def _staff_only(request):
    if not request.user.is_staff:
        raise PermissionDenied("The back-office is for staff.")


def _task_runs_context():
    return {"task_runs": list(task_run_list()[:RECENT_TASK_RUNS])}


@login_required
@require_GET
def live_operations(request):
    if not request.user.is_staff:
        # Employees and other users land on their own account page.
        return render(request, "core/account_home.html", {"account": request.user})
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


@require_POST
def backoffice_logout(request):
    session_id = request.session.get(BROWSER_SESSION_KEY)
    session = user_session_get(session_id=session_id) if session_id else None
    if session is not None:
        session_logout(session=session, ip=client_ip(request))
    django_logout(request)
    return redirect("backoffice-login")
