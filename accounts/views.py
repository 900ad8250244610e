"""Back-office pages of accounts: registration, email verification, password reset (the links of our
emails), and for managers the team list and the verification queue (HTMX, no reload)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import employees as team
from accounts.models import Role
from accounts.passwords import password_reset
from accounts.registration import email_verify, user_register
from core.jsonapi.auth import client_ip
from core.jsonapi.errors import ApiError

REGISTER_FIELDS = ("username", "email", "password", "first_name", "last_name")


def _errors(exc) -> list[str]:
    if isinstance(exc, ApiError):
        return [exc.message]
    return [f"{field}: {message}" if field != "__all__" else message
            for field, messages in getattr(exc, "message_dict", {"password": exc.messages}).items()
            for message in messages]


@require_http_methods(["GET", "POST"])
def register(request):
    values = {name: request.POST.get(name, "") for name in REGISTER_FIELDS}
    errors = []
    if request.method == "POST":
        try:
            user_register(ip=client_ip(request), **values)
        except (ApiError, ValidationError) as exc:
            errors = _errors(exc)
        else:
            return render(request, "accounts/register_done.html", {"email": values["email"]})
    values.pop("password")
    return render(request, "accounts/register.html", {"values": values, "errors": errors},
                  status=400 if errors else 200)


@require_GET
def verify_email(request):
    try:
        user = email_verify(token=request.GET.get("token", ""), ip=client_ip(request))
    except ApiError as exc:
        return render(request, "accounts/verify_email.html", {"error": exc.message}, status=400)
    return render(request, "accounts/verify_email.html", {"verified_user": user})


@require_http_methods(["GET", "POST"])
def reset_password(request):
    token = request.POST.get("token") or request.GET.get("token", "")
    errors, done = [], False
    if request.method == "POST":
        try:
            password_reset(token=token, new_password=request.POST.get("new_password", ""), ip=client_ip(request))
            done = True
        except (ApiError, ValidationError) as exc:
            errors = _errors(exc)
    return render(request, "accounts/reset_password.html", {"token": token, "errors": errors, "done": done},
                  status=400 if errors else 200)


def _manager_only(request):
    if request.user.role not in (Role.MANAGER, Role.ADMIN) and not request.user.is_superuser:
        raise PermissionDenied("Only managers and admins manage teams.")


INVITE_FIELDS = ("username", "email", "first_name", "last_name", "department")


@login_required
@require_http_methods(["GET", "POST"])
def team_list(request):
    """The manager's team, with a form inviting a new employee (account + set-password email)."""
    _manager_only(request)
    errors, invited = [], None
    values = {name: request.POST.get(name, "") for name in INVITE_FIELDS}
    if request.method == "POST":
        try:
            invited = team.employee_invite(actor=request.user, ip=client_ip(request), **values)
            values = dict.fromkeys(INVITE_FIELDS, "")
        except (ApiError, ValidationError) as exc:
            errors = _errors(exc)
    members = team.employees_visible_to(request.user).filter(role=Role.USER).order_by("username", "id")
    return render(request, "accounts/team.html",
                  {"members": list(members), "errors": errors, "invited": invited, "values": values},
                  status=400 if errors else 200)


@login_required
@require_GET
def verification_queue(request):
    _manager_only(request)
    pending = (team.employees_visible_to(request.user)
               .filter(role=Role.USER, is_verified_by_manager=False, is_active=True, manager__isnull=False)
               .order_by("date_joined", "id"))
    return render(request, "accounts/verification_queue.html", {"pending": list(pending)})


@login_required
@require_POST
def verification_decide(request, employee_id):
    _manager_only(request)
    try:
        employee = team.employee_get_for(request.user, employee_id)
    except ApiError:
        raise PermissionDenied("Not one of your employees.") from None
    approve = request.POST.get("decision") == "approve"
    team.employee_verify(actor=request.user, employee=employee, approve=approve, ip=client_ip(request))
    return render(request, "accounts/_verification_row.html", {"employee": employee, "decided": True,
                                                               "approved": approve})
