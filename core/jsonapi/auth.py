"""API authentication: a JWT access token (`Authorization: Bearer ...`) bound to a live session, or
the browser session (cookie, with CSRF enforced on unsafe methods). Every router uses `api_auth` or
`staff_auth`. Both set `request.user` and `request.user_session` (None for sessions not created by
our login, e.g. Django's test client)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer, SessionAuth

from accounts.selectors import access_token_authenticate, user_session_get

BROWSER_SESSION_KEY = "user_session_id"


class JWTBearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        result = access_token_authenticate(token=token)
        if result is None:
            return None
        request.user, request.user_session = result
        return request.user


class CookieSessionAuth(SessionAuth):
    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user:
            session_id = request.session.get(BROWSER_SESSION_KEY)
            request.user_session = user_session_get(session_id=session_id) if session_id else None
        return user


class StaffJWTBearer(JWTBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = super().authenticate(request, token)
        if user is not None and not user.is_staff:
            raise AuthorizationError()
        return user


class StaffSessionAuth(CookieSessionAuth):
    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user and not user.is_staff:
            raise AuthorizationError()
        return user


api_auth = [JWTBearer(), CookieSessionAuth()]
staff_auth = [StaffJWTBearer(), StaffSessionAuth()]


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def client_device(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]
