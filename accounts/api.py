"""/api/auth/: registration, login and tokens, passwords, profile and session approval."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from accounts import passwords, registration, sessions
from accounts.services import profile_update
from core.jsonapi.auth import api_auth, client_device, client_ip
from core.jsonapi.errors import ApiError
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
    return request.user


class ProfileIn(StrictSchema):
    first_name: str | None = Field(None, min_length=1, max_length=150)
    last_name: str | None = Field(None, min_length=1, max_length=150)
    phone_number: str | None = Field(None, max_length=32)
    company: str | None = Field(None, max_length=200)
    department: str | None = Field(None, max_length=200)
    wallet_address: str | None = Field(None, max_length=42)


@router.put("/profile/", response=UserOut, auth=api_auth, summary="Update your profile")
def profile_put(request, payload: ProfileIn):
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
