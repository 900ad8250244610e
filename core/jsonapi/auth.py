"""API authentication: a JWT access token (`Authorization: Bearer ...`) bound to a live session, or
the browser session (cookie, with CSRF enforced on unsafe methods). Every router uses `api_auth`,
`staff_auth` or `auth_requiring(<core.permissions predicate>)`. They set `request.user` and
`request.user_session` (None for sessions not created by our login, e.g. Django's test client).

`auth_requiring(predicate)` authenticates the same way and then answers 403 when the predicate of
core.permissions says no; `staff_auth` is `auth_requiring(can_open_admin)` (managers and admins of
their organization, platform superusers). Which *rows* the user reaches is still the handler's
scoped query (core.tenancy): passing the predicate never widens that.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer, SessionAuth

from django.core.exceptions import ImproperlyConfigured
from core import permissions

BROWSER_SESSION_KEY = "user_session_id"

# The login glue lives in accounts (sessions, tokens); it registers here, in AccountsConfig.ready(), how
# a token or a browser session becomes a user, so core imports nothing above it. The backend has
# `access_token_authenticate(token=)` -> (user, session) | None, `user_from_access_token(token=)` ->
# user | None and `user_session_get(session_id=)` -> session | None.
_session_backend = None


def session_backend_register(backend) -> None:
    global _session_backend
    _session_backend = backend


def session_backend():
    if _session_backend is None:
        raise ImproperlyConfigured("no session backend: accounts registers it in AccountsConfig.ready()")
    return _session_backend


class JWTBearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        result = session_backend().access_token_authenticate(token=token)
        if result is None:
            return None
        request.user, request.user_session = result
        return request.user


class CookieSessionAuth(SessionAuth):
    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user:
            session_id = request.session.get(BROWSER_SESSION_KEY)
            request.user_session = session_backend().user_session_get(session_id=session_id) if session_id else None
        return user


Predicate = Callable[[object], bool]


class PredicateJWTBearer(JWTBearer):
    def __init__(self, predicate: Predicate):
        super().__init__()
        self.predicate = predicate

    def authenticate(self, request: HttpRequest, token: str):
        user = super().authenticate(request, token)
        if user is not None and not self.predicate(user):
            raise AuthorizationError()
        return user


class PredicateSessionAuth(CookieSessionAuth):
    def __init__(self, predicate: Predicate, csrf: bool = True):
        super().__init__(csrf=csrf)
        self.predicate = predicate

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user and not self.predicate(user):
            raise AuthorizationError()
        return user


def auth_requiring(predicate: Predicate) -> list:
    """Authentication (JWT or session) that also requires `predicate(user)` (403 otherwise)."""
    return [PredicateJWTBearer(predicate), PredicateSessionAuth(predicate)]


api_auth = [JWTBearer(), CookieSessionAuth()]
staff_auth = auth_requiring(permissions.can_open_admin)


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def client_device(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]
