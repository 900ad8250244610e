"""/api/auth/: logging in (access and refresh tokens), rotating the refresh token, logging out, and
approving the session for private-key operations."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema

from accounts.api.schemas import UserOut
from accounts.sessions import auth_rate_limits, session_approve, session_login, session_logout, session_refresh
from core.errors import ErrorCode, NotAuthenticated
from core.jsonapi.auth import api_auth, client_device, client_ip
from core.jsonapi.schemas import MessageOut, StrictSchema
from core.jsonapi.types import ObjectIdStr

router = Router()


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
    user, session, tokens = session_login(
        login=payload.username, password=payload.password, ip=client_ip(request),
        device_info=payload.device_info or client_device(request),
    )
    return {**tokens.__dict__, "session_id": session.pk, "user": user}


class RefreshIn(StrictSchema):
    refresh_token: str = Field(min_length=1, max_length=300)


@router.post("/refresh/", response=TokensOut, auth=None, summary="Rotate the refresh token")
def refresh(request, payload: RefreshIn):
    return session_refresh(refresh_token=payload.refresh_token, ip=client_ip(request)).__dict__


def _current_session(request):
    session = getattr(request, "user_session", None)
    if session is None:
        raise NotAuthenticated(ErrorCode.NOT_AUTHENTICATED, "This request has no login session.")
    return session


@router.post("/logout/", response=MessageOut, auth=api_auth, summary="End the current session")
def logout(request):
    auth_rate_limits(scope="logout", ip=client_ip(request), account=str(request.user.pk))
    session_logout(session=_current_session(request), ip=client_ip(request))
    if hasattr(request, "session"):
        request.session.flush()
    return {"message": "Logged out."}


class ConfirmPasswordIn(StrictSchema):
    password: str = Field(min_length=1, max_length=128)


class ApprovalOut(Schema):
    is_approved: bool
    approved_until: datetime


@router.post("/confirm-password/", response=ApprovalOut, auth=api_auth,
             summary="Approve this session for private-key operations")
def confirm_password(request, payload: ConfirmPasswordIn):
    return session_approve(session=_current_session(request), password=payload.password, ip=client_ip(request))
