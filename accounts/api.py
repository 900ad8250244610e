"""/api/auth/ (registration, login and tokens, passwords, profile, session approval, the team),
/api/employees/ and /api/notifications/."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from accounts import employees as team
from accounts import passwords, registration, sessions
from accounts.models import Notification, User
from accounts.notifications import notification_create
from accounts.services import profile_update
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


class UserOut(Schema):
    id: ObjectIdStr
    username: str
    email: str
    first_name: str
    last_name: str
    role: str
    email_verified: bool
    is_verified_by_manager: bool
    company: str
    department: str
    phone_number: str
    wallet_address: str
    employee_id: str | None
    max_wallets: int
    reporting_fiat: str
    cost_basis_method: str
    cost_basis_lot_scope: str
    last_login: datetime | None
    date_joined: datetime


class MessageOut(Schema):
    message: str


@router.post("/register/", response={201: UserOut}, auth=None, summary="Register a new user")
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


class VerifyIn(StrictSchema):
    approve: bool = True


def _invite(request, payload: EmployeeIn):
    try:
        employee = team.employee_invite(actor=request.user, ip=client_ip(request),
                                        **payload.dict(exclude_none=True))
    except ValidationError as exc:
        raise _validation(exc) from None
    return Status(201, employee)


def _list_team(request):
    team._require_manager(request.user)
    return team.employees_visible_to(request.user).order_by("username", "id")


@auth_employees_router.post("/add/", response={201: EmployeeOut}, auth=api_auth, summary="Invite a new employee")
def auth_employee_add(request, payload: EmployeeIn):
    return _invite(request, payload)


@auth_employees_router.get("/", response=list[EmployeeOut], auth=api_auth, summary="Your team")
@paginate(LimitOffsetNoCount)
def auth_employee_list(request):
    return _list_team(request)


@auth_employees_router.put("/{oid:employee_id}/status/", response=EmployeeOut, auth=api_auth,
                           summary="Activate or deactivate an employee")
def auth_employee_status(request, employee_id: str, payload: StatusIn):
    employee = team.employee_get_for(request.user, employee_id)
    return team.employee_set_active(actor=request.user, employee=employee, is_active=payload.is_active,
                                    ip=client_ip(request))


@auth_employees_router.post("/add-existing/", response=EmployeeOut, auth=api_auth,
                            summary="Add an existing user to your team")
def auth_employee_add_existing(request, payload: ExistingEmployeeIn):
    return team.employee_add_existing(actor=request.user, login=payload.username, ip=client_ip(request))


@auth_employees_router.delete("/{oid:employee_id}/remove/", response=MessageOut, auth=api_auth,
                              summary="Remove an employee from your team")
def auth_employee_remove(request, employee_id: str):
    employee = team.employee_get_for(request.user, employee_id)
    team.employee_remove(actor=request.user, employee=employee, ip=client_ip(request))
    return {"message": "Removed from the team."}


@employees_router.get("/", response=list[EmployeeOut], auth=api_auth, summary="List employees")
@paginate(LimitOffsetNoCount)
def employee_list(request):
    return _list_team(request)


@employees_router.post("/", response={201: EmployeeOut}, auth=api_auth, summary="Create (invite) an employee")
def employee_create(request, payload: EmployeeIn):
    return _invite(request, payload)


@employees_router.get("/team/{oid:manager_id}/", response=list[EmployeeOut], auth=api_auth,
                      summary="A manager's team")
@paginate(LimitOffsetNoCount)
def employee_team(request, manager_id: str):
    team._require_manager(request.user)
    if str(request.user.pk) != manager_id and request.user.role != "ADMIN" and not request.user.is_superuser:
        raise ApiError(404, "not_found", "Not found.")
    return User.objects.filter(manager_id=manager_id).order_by("username", "id")


@employees_router.get("/{oid:employee_id}/", response=EmployeeOut, auth=api_auth, summary="Employee details")
def employee_detail(request, employee_id: str):
    return team.employee_get_for(request.user, employee_id)


@employees_router.put("/{oid:employee_id}/", response=EmployeeOut, auth=api_auth, summary="Update an employee")
def employee_put(request, employee_id: str, payload: EmployeeUpdateIn):
    employee = team.employee_get_for(request.user, employee_id)
    try:
        return team.employee_update(actor=request.user, employee=employee, ip=client_ip(request),
                                    **payload.dict(exclude_none=True))
    except ValidationError as exc:
        raise _validation(exc) from None


@employees_router.delete("/{oid:employee_id}/", response=MessageOut, auth=api_auth,
                         summary="Deactivate an employee and remove them from the team")
def employee_delete(request, employee_id: str):
    employee = team.employee_get_for(request.user, employee_id)
    team.employee_set_active(actor=request.user, employee=employee, is_active=False, ip=client_ip(request))
    team.employee_remove(actor=request.user, employee=employee, ip=client_ip(request))
    return {"message": "Deactivated and removed from the team; records are kept."}


@employees_router.post("/{oid:employee_id}/verify/", response=EmployeeOut, auth=api_auth,
                       summary="Verify (or reject) an employee")
def employee_verify(request, employee_id: str, payload: VerifyIn = None):
    employee = team.employee_get_for(request.user, employee_id)
    approve = payload.approve if payload is not None else True
    return team.employee_verify(actor=request.user, employee=employee, approve=approve, ip=client_ip(request))


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
    user_id: ObjectIdStr | None = Field(None, description="recipient; default yourself (managers: their team)")


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
