"""Back-office pages of accounts: registration (also from an invitation link), email verification,
password reset (the links of our emails), invitations (answering them; for managers, sending and
revoking them), and for managers the team list and the verification queue (HTMX, no reload)."""

from urllib.parse import urlencode

from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import employees as team
from accounts import invitations
from accounts.models import InvitationStatus, SessionKind
from accounts.membership import organization_member_count
from accounts.organizations import organization_settings_update
from accounts.passwords import password_reset
from accounts.registration import email_verify, user_register
from accounts.selectors import user_session_get
from accounts.sessions import session_login, session_logout
from core import permissions
from core.errors import DomainError, ErrorCode, RateLimited
from core.http_status import http_status_of
from core.jsonapi.auth import BROWSER_SESSION_KEY, client_device, client_ip
from core.models import CostBasisMethod, LotScope, Organization
from core.permissions import Role

REGISTER_FIELDS = ("username", "email", "password", "first_name", "last_name", "company")


def _errors(exc: DomainError | ValidationError) -> list[str]:
    """What a form shows for a refusal: the domain error's message, or each field's messages."""
    if isinstance(exc, DomainError):
        return [exc.message]
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    return [f"{field}: {message}" if field != "__all__" else message
            for field, messages in exc.message_dict.items() for message in messages]


def _open_invitation(token: str):
    """(invitation or None, why it cannot be answered or None, HTTP status) of a link's token."""
    try:
        invitation = invitations.invitation_by_token(token)
    except DomainError as exc:
        return None, exc.message, 404  # a page: an unknown link is "not found", whatever the API answers
    try:
        invitations.invitation_check_open(invitation)
    except DomainError as exc:
        return invitation, exc.message, http_status_of(exc)
    return invitation, None, 200


@require_http_methods(["GET", "POST"])
def register(request):
    """A new account: a new organization of one's own, or (with ?invitation=<token>, the invitation
    link's) the inviting organization."""
    token = request.POST.get("invitation_token") or request.GET.get("invitation", "")
    invitation, problem, _ = _open_invitation(token) if token else (None, None, 200)
    values = {name: request.POST.get(name, "") for name in REGISTER_FIELDS}
    if invitation is not None and request.method == "GET":
        values["email"] = invitation.email
    errors = [problem] if problem else []
    if request.method == "POST" and not problem:
        try:
            user = user_register(ip=client_ip(request), invitation_token=token or None, **values)
        except (DomainError, ValidationError) as exc:
            errors = _errors(exc)
        else:
            if invitation is not None:
                return render(request, "accounts/register_done.html", {"joined": user.organization})
            return render(request, "accounts/register_done.html", {"email": values["email"]})
    values.pop("password")
    return render(request, "accounts/register.html",
                  {"values": values, "errors": errors, "invitation": invitation, "invitation_token": token},
                  status=400 if errors else 200)


@require_GET
def verify_email(request):
    try:
        user = email_verify(token=request.GET.get("token", ""), ip=client_ip(request))
    except DomainError as exc:
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
        except (DomainError, ValidationError) as exc:
            errors = _errors(exc)
    return render(request, "accounts/reset_password.html", {"token": token, "errors": errors, "done": done},
                  status=400 if errors else 200)


def _manager_only(request):
    if not permissions.can_manage_team(request.user):
        raise PermissionDenied("Only managers and admins manage teams.")


INVITE_FIELDS = ("username", "email", "first_name", "last_name", "department")


def _team_context(request, **extra):
    members = team.employees_visible_to(request.user).exclude(pk=request.user.pk).order_by("username", "id")
    sent = (invitations.invitations_sent(request.user).filter(status=InvitationStatus.PENDING)
            .select_related("invited_by").order_by("-created_at", "-id"))
    roles = [(value, label) for value, label in Role.choices if permissions.can_invite(request.user, value)]
    return {"members": list(members), "sent_invitations": list(sent), "invite_roles": roles, **extra}


@login_required
@require_http_methods(["GET", "POST"])
def team_list(request):
    """The manager's team (an admin's: the organization), with a form creating a new employee
    (account + set-password email) and one inviting someone by email."""
    _manager_only(request)
    errors, invited = [], None
    values = {name: request.POST.get(name, "") for name in INVITE_FIELDS}
    if request.method == "POST":
        try:
            invited = team.employee_invite(actor=request.user, ip=client_ip(request), **values)
            values = dict.fromkeys(INVITE_FIELDS, "")
        except (DomainError, ValidationError) as exc:
            errors = _errors(exc)
    return render(request, "accounts/team.html", _team_context(request, errors=errors, invited=invited, values=values),
                  status=400 if errors else 200)


@login_required
@require_POST
def team_invite(request):
    """Invite someone by email (a new person or an existing user): nobody moves until they accept."""
    _manager_only(request)
    errors, invitation = [], None
    try:
        invitation = invitations.invitation_create(actor=request.user, email=request.POST.get("email", ""),
                                                   role=request.POST.get("role") or Role.USER,
                                                   ip=client_ip(request))
    except (DomainError, ValidationError) as exc:
        errors = _errors(exc)
    return render(request, "accounts/team.html",
                  _team_context(request, errors=errors, invitation_sent=invitation,
                                values=dict.fromkeys(INVITE_FIELDS, "")),
                  status=400 if errors else 200)


@login_required
@require_POST
def invitation_revoke(request, invitation_id):
    _manager_only(request)
    try:
        invitation = invitations.invitation_of_organization(request.user, invitation_id)
        invitations.invitation_revoke(invitation=invitation, actor=request.user, ip=client_ip(request))
    except DomainError as exc:
        if http_status_of(exc) == 404:
            raise Http404("Not an invitation of your organization.") from None
        return render(request, "accounts/_invitation_row.html", {"error": exc.message}, status=http_status_of(exc))
    return render(request, "accounts/_invitation_row.html", {"invitation": invitation, "revoked": True})


@login_required
@require_GET
def verification_queue(request):
    _manager_only(request)
    pending = (team.employees_visible_to(request.user)
               .filter(is_verified_by_manager=False, is_active=True, manager__isnull=False)
               .order_by("date_joined", "id"))
    return render(request, "accounts/verification_queue.html", {"pending": list(pending)})


@login_required
@require_POST
def verification_decide(request, employee_id):
    _manager_only(request)
    try:
        employee = team.employee_get_for(request.user, employee_id)
        approve = request.POST.get("decision") == "approve"
        team.employee_verify(actor=request.user, employee=employee, approve=approve, ip=client_ip(request))
    except DomainError as exc:
        if http_status_of(exc) == 404:  # another organization's person: not found, never an existence oracle
            raise Http404("Not one of your employees.") from None
        raise PermissionDenied(exc.message) from None
    return render(request, "accounts/_verification_row.html", {"employee": employee, "decided": True,
                                                               "approved": approve})


# --- invitations, as the invitee sees them ---------------------------------------------------------------

@login_required
@require_GET
def invitation_inbox(request):
    """The pending invitations addressed to the logged-in user, with accept / decline buttons."""
    received = invitations.invitations_received(request.user).select_related("organization", "invited_by")
    return render(request, "accounts/invitations.html",
                  {"invitations": list(received.order_by("-created_at", "-id"))})


@login_required
@require_POST
def invitation_answer(request, invitation_id, decision):
    """HTMX: accept or decline one invitation; answers its row."""
    context = {}
    try:
        invitation = invitations.invitation_addressed_to(request.user, invitation_id)
        context["invitation"] = invitation
        if decision == "accept":
            invitations.invitation_accept(invitation=invitation, user=request.user, ip=client_ip(request))
            context["accepted"] = True
        else:
            invitations.invitation_decline(invitation=invitation, user=request.user, ip=client_ip(request))
            context["declined"] = True
    except DomainError as exc:
        if http_status_of(exc) == 404:
            raise Http404("This invitation is not addressed to you.") from None
        context["error"] = exc.message
        return render(request, "accounts/_invitation_answer.html", context, status=http_status_of(exc))
    return render(request, "accounts/_invitation_answer.html", context)


@require_http_methods(["GET", "POST"])
def invitation_link(request):
    """The invitation link of the email: shows the invitation; the invitee logs in (or registers with
    it) and accepts or declines here."""
    token = request.POST.get("token") or request.GET.get("token", "")
    invitation, problem, status = _open_invitation(token)
    context = {"invitation": invitation, "token": token, "problem": problem}
    if invitation is not None:
        here = f"{reverse('backoffice-invitation-link')}?{urlencode({'token': token})}"
        context["login_url"] = f"{reverse('backoffice-login')}?{urlencode({'next': here})}"
        context["register_url"] = f"{reverse('backoffice-register')}?{urlencode({'invitation': token})}"
        user = request.user
        context["is_invitee"] = user.is_authenticated and (user.email or "").lower() == invitation.email
    if request.method == "POST":
        if not request.user.is_authenticated:
            raise PermissionDenied("Log in to answer this invitation.")
        if invitation is None or problem:
            return render(request, "accounts/invitation_link.html", context, status=status)
        try:
            if request.POST.get("decision") == "decline":
                invitations.invitation_decline(invitation=invitation, user=request.user, ip=client_ip(request))
                context["declined"] = True
            else:
                invitations.invitation_accept(invitation=invitation, user=request.user, ip=client_ip(request))
                context["accepted"] = True
        except DomainError as exc:
            context["problem"] = exc.message
            return render(request, "accounts/invitation_link.html", context,
                          status=http_status_of(exc) if http_status_of(exc) != 404 else 403)
        invitation.refresh_from_db()
        return render(request, "accounts/invitation_link.html", context)
    return render(request, "accounts/invitation_link.html", context, status=status)


# --- the organization's settings ---------------------------------------------------------------------------

ORGANIZATION_FORM_FIELDS = ("name", "reporting_fiat", "cost_basis_method", "cost_basis_lot_scope",
                            "fiscal_year_start_month", "fiscal_year_start_day", "time_zone", "primary_color",
                            "secondary_color", "address", "tax_id", "email")
ORGANIZATION_NUMBER_FIELDS = ("fiscal_year_start_month", "fiscal_year_start_day")


@login_required
@require_http_methods(["GET", "POST"])
def organization_settings(request):
    """Every member sees their organization's settings; its admins change them (the same service as
    PUT /api/auth/organization/, so the same rules: the fiat is fixed once transactions exist)."""
    if not permissions.can_use_backoffice(request.user):
        raise PermissionDenied("You belong to no organization.")
    may_edit = permissions.can_manage_organization(request.user)
    errors, saved = [], False
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Only an admin of the organization changes its settings.")
        changes = {name: request.POST[name].strip() for name in ORGANIZATION_FORM_FIELDS if name in request.POST}
        for name in ORGANIZATION_NUMBER_FIELDS:
            if name in changes:
                changes[name] = int(changes[name]) if changes[name].isdigit() else changes[name]
        try:
            organization_settings_update(actor=request.user, ip=client_ip(request), **changes)
            saved = True
        except (DomainError, ValidationError) as exc:
            errors = _errors(exc)
    organization = Organization.objects.get(pk=request.user.organization_id)
    return render(request, "accounts/organization.html", {
        "organization": organization, "may_edit": may_edit, "errors": errors, "saved": saved,
        "methods": CostBasisMethod.choices, "lot_scopes": LotScope.choices,
        "members": organization_member_count(organization.pk),
    }, status=400 if errors else 200)


# --- logging in and out of the back-office (the same rules as the API's login) ---------------------------

LOGIN_ERRORS = {
    ErrorCode.INVALID_CREDENTIALS: "Your username and password didn't match.",
    ErrorCode.ACCOUNT_LOCKED: "Too many failed logins for this account from your address; try again later or "
                              "reset your password.",
    ErrorCode.EMAIL_NOT_VERIFIED: "Verify your email address first: follow the link we emailed you.",
    ErrorCode.ACCOUNT_INACTIVE: "This account is deactivated.",
    ErrorCode.RATE_LIMITED: "Too many attempts; wait a minute and try again.",
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
        except DomainError as exc:
            # The form answers 200 with the reason; only a rate limit keeps its status (and Retry-After semantics).
            error = LOGIN_ERRORS.get(exc.code, exc.message)
            status = http_status_of(exc) if isinstance(exc, RateLimited) else 200
        else:
            django_login(request, user, backend="accounts.auth_backends.MongoModelBackend")
            request.session[BROWSER_SESSION_KEY] = str(session.pk)
            return redirect(next_url or "backoffice-home")
    elif request.user.is_authenticated:
        return redirect(next_url or "backoffice-home")
    return render(request, "backoffice/login.html",
                  {"error": error, "next": next_url, "username": request.POST.get("username", "")}, status=status)


@require_POST
def backoffice_logout(request):
    session_id = request.session.get(BROWSER_SESSION_KEY)
    session = user_session_get(session_id=session_id) if session_id else None
    if session is not None:
        session_logout(session=session, ip=client_ip(request))
    django_logout(request)
    return redirect("backoffice-login")
