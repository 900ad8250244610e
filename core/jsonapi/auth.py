"""API authentication: a JWT access token (`Authorization: Bearer ...`) or the browser session
(cookie, with CSRF enforced on unsafe methods). Every router uses `api_auth` or `staff_auth`."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer, SessionAuth

from accounts.selectors import user_from_access_token


class JWTBearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_from_access_token(token=token)
        if user is None:
            return None
        request.user = user
        return user


class StaffJWTBearer(JWTBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = super().authenticate(request, token)
        if user is not None and not user.is_staff:
            raise AuthorizationError()
        return user


class StaffSessionAuth(SessionAuth):
    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user and not user.is_staff:
            raise AuthorizationError()
        return user


api_auth = [JWTBearer(), SessionAuth()]
staff_auth = [StaffJWTBearer(), StaffSessionAuth()]
