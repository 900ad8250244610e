"""/api/auth/ (registration, login and tokens, passwords, profile, session approval, the team),
/api/employees/ and /api/notifications/."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from accounts import employees as team
from accounts import invitations, organizations, passwords, registration, sessions
from accounts.models import Notification
from accounts.notifications import notification_create
from accounts.profile import profile_update
from core import permissions
from core.permissions import Role
from core.jsonapi.auth import api_auth, client_device, client_ip
from core.jsonapi.errors import ApiError
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.types import ObjectIdStr

router = Router(tags=["auth"])


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


def _validation(exc: ValidationError) -> ApiError:
    details = exc.message_dict if hasattr(exc, "error_dict") else {"password": exc.messages}
    return ApiError(422, "validation_error", "The request is not valid.", {"fields": details})


class RegisterIn(StrictSchema):
    username: str = Field(min_length=3, max_length=150, pattern=r"^[\w.@+-]+$")
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)
    first_name: str = Field(min_length=1, max_length=150)
    last_name: str = Field(min_length=1, max_length=150)
    company: str = Field("", max_length=200)
    department: str = Field("", max_length=200)
    phone_number: str = Field("", max_length=32)
    invitation_token: str | None = Field(None, max_length=300, description=(
        "the token of an invitation link: join the inviting organization (the email must be the invited "
        "address) instead of getting a new organization"))


class OrganizationRefOut(Schema):
    id: ObjectIdStr
    name: str


class UserOut(Schema):
    id: ObjectIdStr
    username: str
    email: str
    first_name: str
    last_name: str
    role: str
    is_accountant: bool
    organization: OrganizationRefOut | None
    email_verified: bool
    is_verified_by_manager: bool
    company: str
    department: str
    phone_number: str
    wallet_address: str
    employee_id: str | None
    max_wallets: int
    reporting_fiat: str = Field(description="the organization's")
    cost_basis_method: str = Field(description="the organization's")
    cost_basis_lot_scope: str = Field(description="the organization's")
    last_login: datetime | None
    date_joined: datetime

    # The tax settings are the organization's (core.models.Organization); the same keys as before.
    @staticmethod
    def resolve_reporting_fiat(obj):
        return obj.organization.reporting_fiat if obj.organization_id else ""

    @staticmethod
    def resolve_cost_basis_method(obj):
        return obj.organization.cost_basis_method if obj.organization_id else ""

    @staticmethod
    def resolve_cost_basis_lot_scope(obj):
        return obj.organization.cost_basis_lot_scope if obj.organization_id else ""


class MessageOut(Schema):
    message: str


class InvitationOut(Schema):
    id: ObjectIdStr
    organization: OrganizationRefOut
    email: str
    role: str
    status: str
    is_expired: bool
    invited_by: str = Field(description="the inviter's name")
    expires_at: datetime
    responded_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_is_expired(obj):
        return invitations.invitation_is_expired(obj)

    @staticmethod
    def resolve_invited_by(obj):
        inviter = obj.invited_by
        return (inviter.get_full_name() or inviter.username) if inviter else ""


@router.post("/register/", response={201: UserOut}, auth=None, summary="Register a new user", description=(
    "Without `invitation_token`: a new organization named from `company` (else after you) with you as its "
    "ADMIN, and a verification email. With the token of an invitation link: you join the inviting "
    "organization with the invited role, the invitation is accepted and the address counts as verified."))
def register(request, payload: RegisterIn):
    try:
        user = registration.user_register(ip=client_ip(request), **payload.dict())
    except ValidationError as exc:
        raise _validation(exc) from None
    return Status(201, user)


class TokenIn(StrictSchema):
    token: str = Field(min_length=1, max_length=300)


@router.post("/verify-email/", response=UserOut, auth=None, summary="Verify an email address")
def verify_email(request, payload: TokenIn):
    return registration.email_verify(token=payload.token, ip=client_ip(request))


class EmailIn(StrictSchema):
    email: str = Field(max_length=254)


@router.post("/resend-verification/", response={202: MessageOut}, auth=None,
             summary="Send the verification email again")
def resend_verification(request, payload: EmailIn):
    registration.verification_resend(email=payload.email, ip=client_ip(request))
    return Status(202, {"message": "If that address is registered and not yet verified, a new link is on its way."})


class LoginIn(StrictSchema):
    username: str = Field(min_length=1, max_length=254, description="username or email")
    password: str = Field(min_length=1, max_length=128)
    device_info: str = Field("", max_length=300)


class TokensOut(Schema):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


class LoginOut(TokensOut):
    session_id: ObjectIdStr
    user: UserOut


@router.post("/login/", response=LoginOut, auth=None, summary="Log in: access and refresh tokens")
def login(request, payload: LoginIn):
    user, session, tokens = sessions.session_login(
        login=payload.username, password=payload.password, ip=client_ip(request),
        device_info=payload.device_info or client_device(request),
    )
    return {**tokens.__dict__, "session_id": session.pk, "user": user}


class RefreshIn(StrictSchema):
    refresh_token: str = Field(min_length=1, max_length=300)


@router.post("/refresh/", response=TokensOut, auth=None, summary="Rotate the refresh token")
def refresh(request, payload: RefreshIn):
    return sessions.session_refresh(refresh_token=payload.refresh_token, ip=client_ip(request)).__dict__


def _current_session(request):
    session = getattr(request, "user_session", None)
    if session is None:
        raise ApiError(401, "not_authenticated", "This request has no login session.")
    return session


@router.post("/logout/", response=MessageOut, auth=api_auth, summary="End the current session")
def logout(request):
    sessions.auth_rate_limits(scope="logout", ip=client_ip(request), account=str(request.user.pk))
    sessions.session_logout(session=_current_session(request), ip=client_ip(request))
    if hasattr(request, "session"):
        request.session.flush()
    return {"message": "Logged out."}


@router.post("/forgot-password/", response={202: MessageOut}, auth=None, summary="Ask for a reset link")
def forgot_password(request, payload: EmailIn):
    passwords.password_forgot(email=payload.email, ip=client_ip(request))
    return Status(202, {"message": "If that address is registered, a reset link is on its way."})


class ResetIn(StrictSchema):
    token: str = Field(min_length=1, max_length=300)
    new_password: str = Field(max_length=128)


@router.post("/reset-password/", response=MessageOut, auth=None, summary="Set a new password with a reset token")
def reset_password(request, payload: ResetIn):
    try:
        passwords.password_reset(token=payload.token, new_password=payload.new_password, ip=client_ip(request))
    except ValidationError as exc:
        raise _validation(exc) from None
    return {"message": "Password reset; log in with the new password."}


class ChangePasswordIn(StrictSchema):
    old_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(max_length=128)


@router.post("/change-password/", response=MessageOut, auth=api_auth, summary="Change the password")
def change_password(request, payload: ChangePasswordIn):
    try:
        passwords.password_change(user=request.user, old_password=payload.old_password,
                                  new_password=payload.new_password,
                                  current_session=getattr(request, "user_session", None), ip=client_ip(request))
    except ValidationError as exc:
        raise _validation(exc) from None
    return {"message": "Password changed; your other sessions were ended."}


@router.get("/profile/", response=UserOut, auth=api_auth, summary="Your profile")
def profile(request):
    sessions.auth_rate_limits(scope="profile", ip=client_ip(request), account=str(request.user.pk))
    return request.user


class ProfileIn(StrictSchema):
    first_name: str | None = Field(None, min_length=1, max_length=150)
    last_name: str | None = Field(None, min_length=1, max_length=150)
    phone_number: str | None = Field(None, max_length=32)
    company: str | None = Field(None, max_length=200)
    department: str | None = Field(None, max_length=200)
    wallet_address: str | None = Field(None, max_length=42)
    reporting_fiat: str | None = Field(None, min_length=3, max_length=3, description="fiat of values and reports")
    cost_basis_method: Literal["fifo", "lifo", "hifo", "acb", "uk"] | None = None
    cost_basis_lot_scope: Literal["all", "wallet"] | None = Field(None, description="match lots across all wallets or per wallet")


@router.put("/profile/", response=UserOut, auth=api_auth, summary="Update your profile")
def profile_put(request, payload: ProfileIn):
    sessions.auth_rate_limits(scope="profile-update", ip=client_ip(request), account=str(request.user.pk))
    try:
        return profile_update(user=request.user, ip=client_ip(request), **payload.dict(exclude_none=True))
    except ValidationError as exc:
        raise _validation(exc) from None


class ConfirmPasswordIn(StrictSchema):
    password: str = Field(min_length=1, max_length=128)


class ApprovalOut(Schema):
    is_approved: bool
    approved_until: datetime


@router.post("/confirm-password/", response=ApprovalOut, auth=api_auth,
             summary="Approve this session for private-key operations")
def confirm_password(request, payload: ConfirmPasswordIn):
    session = sessions.session_approve(session=_current_session(request), password=payload.password,
                                       ip=client_ip(request))
    return session


# --- employees: /api/auth/employees/... and /api/employees/... (the spec lists both) -------------------

auth_employees_router = Router(tags=["employees"])
employees_router = Router(tags=["employees"])
notifications_router = Router(tags=["notifications"])


class EmployeeOut(UserOut):
    manager_id: ObjectIdStr | None
    is_active: bool


class EmployeeIn(StrictSchema):
    username: str = Field(min_length=3, max_length=150, pattern=r"^[\w.@+-]+$")
    email: str = Field(max_length=254)
    first_name: str = Field(min_length=1, max_length=150)
    last_name: str = Field(min_length=1, max_length=150)
    department: str = Field("", max_length=200)
    employee_id: str | None = Field(None, max_length=64)
    phone_number: str = Field("", max_length=32)


class ExistingEmployeeIn(StrictSchema):
    username: str = Field(min_length=1, max_length=254, description="username or email")


class StatusIn(StrictSchema):
    is_active: bool


class EmployeeUpdateIn(StrictSchema):
    first_name: str | None = Field(None, min_length=1, max_length=150)
    last_name: str | None = Field(None, min_length=1, max_length=150)
    phone_number: str | None = Field(None, max_length=32)
    company: str | None = Field(None, max_length=200)
    department: str | None = Field(None, max_length=200)
    employee_id: str | None = Field(None, max_length=64)
    is_accountant: bool | None = Field(None, description="admins only: works the books without being a manager")


class VerifyIn(StrictSchema):
    approve: bool = True


def _create_employee(request, payload: EmployeeIn):
    try:
        employee = team.employee_invite(actor=request.user, ip=client_ip(request),
                                        **payload.dict(exclude_none=True))
    except ValidationError as exc:
        raise _validation(exc) from None
    return Status(201, employee)


def _list_team(request):
    team.require_manager(request.user)
    return team.employees_visible_to(request.user).order_by("username", "id")


@auth_employees_router.post("/add/", response={201: EmployeeOut}, auth=api_auth, summary="Create a new employee",
                            description=(
    "Managers and admins: creates the account of a new person (username and email not yet registered) "
    "directly in your organization, as a plain user in your team awaiting your verification, and emails "
    "them a link to set their password. An existing user is invited instead: "
    "POST /api/auth/employees/add-existing/ or /api/auth/invitations/."))
def auth_employee_add(request, payload: EmployeeIn):
    return _create_employee(request, payload)


@auth_employees_router.get("/", response=list[EmployeeOut], auth=api_auth, summary="Your team",
                           description="A manager's own team; an admin's whole organization.")
@paginate(LimitOffsetNoCount)
def auth_employee_list(request):
    return _list_team(request)


@auth_employees_router.put("/{oid:employee_id}/status/", response=EmployeeOut, auth=api_auth,
                           summary="Activate or deactivate an employee")
def auth_employee_status(request, employee_id: str, payload: StatusIn):
    employee = team.employee_get_for(request.user, employee_id)
    return team.employee_set_active(actor=request.user, employee=employee, is_active=payload.is_active,
                                    ip=client_ip(request))


@auth_employees_router.post("/add-existing/", response={202: InvitationOut}, auth=api_auth,
                            summary="Invite an existing user to your organization", description=(
    "Never moves anyone: emails the user (found by username or email) an invitation to join your "
    "organization as a plain user in your team. They accept or decline it; only then does the "
    "manager verification run. Answers 202 with the invitation; 404 for an unknown user, 409 when "
    "they are already a member."))
def auth_employee_add_existing(request, payload: ExistingEmployeeIn):
    invitation = team.employee_add_existing(actor=request.user, login=payload.username, ip=client_ip(request))
    return Status(202, invitation)


@auth_employees_router.delete("/{oid:employee_id}/remove/", response=MessageOut, auth=api_auth,
                              summary="Remove a member from your organization", description=(
    "The person moves to a fresh personal organization of their own (as its admin); nothing of theirs "
    "is deleted, and the wallets they made here stay here. They are notified by email."))
def auth_employee_remove(request, employee_id: str):
    employee = team.employee_get_for(request.user, employee_id)
    organizations.member_remove(actor=request.user, member=employee, ip=client_ip(request))
    return {"message": "Removed from the organization."}


@employees_router.get("/", response=list[EmployeeOut], auth=api_auth, summary="List employees")
@paginate(LimitOffsetNoCount)
def employee_list(request):
    return _list_team(request)


@employees_router.post("/", response={201: EmployeeOut}, auth=api_auth, summary="Create a new employee")
def employee_create(request, payload: EmployeeIn):
    return _create_employee(request, payload)


@employees_router.get("/team/{oid:manager_id}/", response=list[EmployeeOut], auth=api_auth,
                      summary="A manager's team")
@paginate(LimitOffsetNoCount)
def employee_team(request, manager_id: str):
    team.require_manager(request.user)
    if str(request.user.pk) != manager_id and not permissions.is_org_admin(request.user):
        raise ApiError(404, "not_found", "Not found.")
    manager = team.employee_get_for(request.user, manager_id)
    return team.organization_members_for(request.user).filter(manager=manager).order_by("username", "id")


@employees_router.get("/{oid:employee_id}/", response=EmployeeOut, auth=api_auth, summary="Employee details")
def employee_detail(request, employee_id: str):
    return team.employee_get_for(request.user, employee_id)


@employees_router.put("/{oid:employee_id}/", response=EmployeeOut, auth=api_auth, summary="Update an employee",
                      description="`is_accountant` (works the books without being a manager): admins only.")
def employee_put(request, employee_id: str, payload: EmployeeUpdateIn):
    employee = team.employee_get_for(request.user, employee_id)
    try:
        return team.employee_update(actor=request.user, employee=employee, ip=client_ip(request),
                                    **payload.dict(exclude_none=True))
    except ValidationError as exc:
        raise _validation(exc) from None


@employees_router.delete("/{oid:employee_id}/", response=MessageOut, auth=api_auth,
                         summary="Deactivate an employee and take them off their manager's team")
def employee_delete(request, employee_id: str):
    employee = team.employee_get_for(request.user, employee_id)
    team.employee_deactivate(actor=request.user, employee=employee, ip=client_ip(request))
    return {"message": "Deactivated and removed from the team; records are kept."}


@employees_router.post("/{oid:employee_id}/verify/", response=EmployeeOut, auth=api_auth,
                       summary="Verify (or reject) an employee")
def employee_verify(request, employee_id: str, payload: VerifyIn = None):
    employee = team.employee_get_for(request.user, employee_id)
    approve = payload.approve if payload is not None else True
    return team.employee_verify(actor=request.user, employee=employee, approve=approve, ip=client_ip(request))


# --- the organization: /api/auth/organization/ ---------------------------------------------------------

class BrandingOut(Schema):
    logo_url: str
    primary_color: str
    secondary_color: str
    address: str
    tax_id: str
    email: str


class OrganizationOut(Schema):
    id: ObjectIdStr
    name: str
    is_personal: bool
    role: str = Field(description="your role in it")
    is_accountant: bool = Field(description="whether you work its books as an accountant")
    can_manage: bool = Field(description="whether you may change these settings")
    reporting_fiat: str
    reporting_fiat_locked: str | None = Field(description="why the fiat can no longer change, if it cannot")
    cost_basis_method: str
    cost_basis_lot_scope: str
    fiscal_year_start_month: int
    fiscal_year_start_day: int
    time_zone: str
    lock_date: date | None
    branding: BrandingOut
    member_count: int


class BrandingIn(StrictSchema):
    primary_color: str | None = Field(None, max_length=7, description="#RRGGBB, or empty")
    secondary_color: str | None = Field(None, max_length=7, description="#RRGGBB, or empty")
    address: str | None = Field(None, max_length=1000)
    tax_id: str | None = Field(None, max_length=64)
    email: str | None = Field(None, max_length=254)


class OrganizationIn(StrictSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    reporting_fiat: str | None = Field(None, min_length=3, max_length=3)
    cost_basis_method: Literal["fifo", "lifo", "hifo", "acb", "uk"] | None = None
    cost_basis_lot_scope: Literal["all", "wallet"] | None = None
    fiscal_year_start_month: int | None = Field(None, ge=1, le=12)
    fiscal_year_start_day: int | None = Field(None, ge=1, le=31)
    time_zone: str | None = Field(None, min_length=1, max_length=64)
    branding: BrandingIn | None = None


def _member(request):
    if not permissions.can_use_backoffice(request.user):
        raise ApiError(403, "permission_denied", "You are not a member of an organization.")
    return request.user


@router.get("/organization/", response=OrganizationOut, auth=api_auth, summary="Your organization",
            tags=["organization"])
def organization_get(request):
    return organizations.organization_summary(_member(request))


@router.put("/organization/", response=OrganizationOut, auth=api_auth, summary="Change your organization's settings",
            tags=["organization"], description=(
    "Admins of the organization only. The reporting fiat changes only while nothing holds values in it "
    "(409 `reporting_fiat_locked` with the reason otherwise); colours are #RRGGBB."))
def organization_put(request, payload: OrganizationIn):
    user = _member(request)
    changes = payload.dict(exclude_none=True, exclude={"branding"})
    if payload.branding is not None:
        changes.update(payload.branding.dict(exclude_none=True))
    try:
        organizations.organization_settings_update(actor=user, ip=client_ip(request), **changes)
    except ValidationError as exc:
        raise _validation(exc) from None
    return organizations.organization_summary(user)


@router.post("/organization/leave/", response=MessageOut, auth=api_auth, summary="Leave your organization",
             tags=["organization"], description=(
    "You move to a fresh personal organization of your own (as its admin); nothing of yours is deleted and "
    "the wallets you made stay with the organization you leave. The last admin of an organization with "
    "other members cannot leave (409 `last_admin`)."))
def organization_leave(request):
    user = organizations.organization_leave(user=_member(request), ip=client_ip(request))
    return {"message": f"You left; your own organization is now {user.organization.name}."}


# --- invitations: /api/auth/invitations/ ---------------------------------------------------------------

class InvitationIn(StrictSchema):
    email: str = Field(max_length=254)
    role: Role = Field(Role.USER, description="a manager invites USER only")


class InvitationTokenIn(StrictSchema):
    token: str = Field(min_length=1, max_length=300)


@router.post("/invitations/", response={201: InvitationOut}, auth=api_auth, summary="Invite someone by email",
             tags=["invitations"], description=(
    "Managers (role USER) and admins (any role): emails a link valid INVITATION_TTL_SECONDS. A pending "
    "invitation to the same address is replaced."))
def invitation_post(request, payload: InvitationIn):
    try:
        invitation = invitations.invitation_create(actor=request.user, email=payload.email, role=payload.role,
                                                   ip=client_ip(request))
    except ValidationError as exc:
        raise _validation(exc) from None
    return Status(201, invitation)


@router.get("/invitations/", response=list[InvitationOut], auth=api_auth, summary="Invitations",
            tags=["invitations"], description=(
    "`box=received`: the pending invitations addressed to your email; `box=sent` (managers and admins): "
    "your organization's; by default both that you may see."))
@paginate(LimitOffsetNoCount)
def invitation_list(request, box: str = "all"):
    user = _member(request)
    if box not in ("all", "sent", "received"):
        raise ApiError(422, "validation_error", "The request is not valid.",
                       {"fields": {"box": "one of all, sent, received"}})
    if box == "sent":
        if not permissions.can_manage_team(user):
            raise ApiError(403, "permission_denied", "Only managers and admins see the invitations sent.")
        queryset = invitations.invitations_sent(user)
    elif box == "received":
        queryset = invitations.invitations_received(user)
    else:
        queryset = invitations.invitations_visible_to(user)
    return queryset.select_related("organization", "invited_by").order_by("-created_at", "-id")


@router.post("/invitations/accept-token/", response=UserOut, auth=api_auth, tags=["invitations"],
             summary="Accept an invitation from its link's token (you must be the invitee)")
def invitation_accept_token(request, payload: InvitationTokenIn):
    invitation = invitations.invitation_by_token(payload.token)
    user = invitations.invitation_accept(invitation=invitation, user=_member(request), ip=client_ip(request))
    user.refresh_from_db()
    return user


@router.post("/invitations/{oid:invitation_id}/accept/", response=UserOut, auth=api_auth, tags=["invitations"],
             summary="Accept an invitation addressed to you", description=(
    "You join the organization with the invited role (a plain user reports to the inviter, awaiting "
    "verification). The last admin of an organization with other members cannot (409 `last_admin`); an "
    "expired invitation is 410, one already answered or revoked 409."))
def invitation_accept(request, invitation_id: str):
    user = _member(request)
    invitation = invitations.invitation_addressed_to(user, invitation_id)
    user = invitations.invitation_accept(invitation=invitation, user=user, ip=client_ip(request))
    user.refresh_from_db()
    return user


@router.post("/invitations/{oid:invitation_id}/decline/", response=InvitationOut, auth=api_auth,
             tags=["invitations"], summary="Decline an invitation addressed to you")
def invitation_decline(request, invitation_id: str):
    user = _member(request)
    invitation = invitations.invitation_addressed_to(user, invitation_id)
    return invitations.invitation_decline(invitation=invitation, user=user, ip=client_ip(request))


@router.post("/invitations/{oid:invitation_id}/revoke/", response=InvitationOut, auth=api_auth,
             tags=["invitations"], summary="Revoke an invitation of your organization")
def invitation_revoke(request, invitation_id: str):
    invitation = invitations.invitation_of_organization(request.user, invitation_id)
    return invitations.invitation_revoke(invitation=invitation, actor=request.user, ip=client_ip(request))


router.add_router("/employees/", auth_employees_router)


# --- notifications: /api/notifications/ ----------------------------------------------------------------
class NotificationOut(Schema):
    id: ObjectIdStr
    type: str
    title: str
    message: str
    is_read: bool
    priority: str
    action_url: str
    action_text: str
    metadata: dict
    expires_at: datetime | None
    created_at: datetime


class NotificationIn(StrictSchema):
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=5000)
    type: str = Field("SYSTEM", max_length=16)
    priority: str = Field("MEDIUM", max_length=10)
    action_url: str = Field("", max_length=500)
    action_text: str = Field("", max_length=100)
    metadata: dict = Field(default_factory=dict)
    expires_at: datetime | None = None
    user_id: ObjectIdStr | None = Field(None, description=(
        "recipient; default yourself (managers: the members of their organization they manage)"))


def _own_notifications(request):
    return Notification.objects.filter(user=request.user).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


@notifications_router.get("/", response=list[NotificationOut], auth=api_auth, summary="Your notifications")
@paginate(LimitOffsetNoCount)
def notification_list(request, unread: bool = False):
    queryset = _own_notifications(request)
    if unread:
        queryset = queryset.filter(is_read=False)
    return queryset.order_by("-created_at", "-id")


@notifications_router.post("/", response={201: NotificationOut}, auth=api_auth, summary="Create a notification")
def notification_post(request, payload: NotificationIn):
    recipient = request.user
    if payload.user_id and payload.user_id != request.user.pk:
        recipient = team.employee_get_for(request.user, payload.user_id)
        if not permissions.can_manage_member(request.user, recipient):
            raise ApiError(403, "permission_denied", "You may notify yourself and the members you manage.")
    data = payload.dict(exclude={"user_id"})
    try:
        return Status(201, notification_create(user=recipient, **data))
    except ValidationError as exc:
        raise _validation(exc) from None


@notifications_router.put("/{oid:notification_id}/read/", response=NotificationOut, auth=api_auth,
                          summary="Mark a notification read")
def notification_read(request, notification_id: str):
    notification = get_object_or_404(Notification.objects.filter(user=request.user), notification_id)
    Notification.objects.filter(pk=notification.pk).update(is_read=True)
    notification.refresh_from_db()
    return notification


@notifications_router.delete("/{oid:notification_id}/", response=MessageOut, auth=api_auth,
                             summary="Delete a notification")
def notification_delete(request, notification_id: str):
    notification = get_object_or_404(Notification.objects.filter(user=request.user), notification_id)
    notification.delete()
    return {"message": "Deleted."}
