"""WebSocket authentication and origin policy.

A connection is authenticated by the Django session cookie (browsers) or by a JWT access token in
the `Authorization: Bearer` handshake header (API clients). Cookie-authenticated handshakes must
carry an Origin among ALLOWED_HOSTS (cross-site WebSocket hijacking); a foreign Origin is always
refused; JWT clients may omit Origin, as non-browser clients do.
"""

from urllib.parse import urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import is_same_domain

from accounts.selectors import user_from_access_token


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def origin_allowed(origin: str) -> bool:
    host = urlparse(origin).hostname
    if not host:
        return False
    return any(pattern == "*" or is_same_domain(host, pattern.strip("[]")) or host == pattern.strip("[]")
               for pattern in settings.ALLOWED_HOSTS)


class BearerTokenMiddleware(BaseMiddleware):
    """Overrides the session user with the token's user when an Authorization header is sent."""

    async def __call__(self, scope, receive, send):
        authorization = _header(scope, b"authorization")
        scope = dict(scope)
        if authorization and authorization.lower().startswith("bearer "):
            user = await database_sync_to_async(user_from_access_token)(token=authorization[7:].strip())
            scope["user"] = user or AnonymousUser()
            scope["auth_method"] = "jwt" if user else "invalid_token"
        else:
            scope["auth_method"] = "session"
        return await super().__call__(scope, receive, send)


class OriginPolicyMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        origin = _header(scope, b"origin")
        if origin is not None:
            allowed = origin_allowed(origin)
        else:
            allowed = scope.get("auth_method") == "jwt"
        if not allowed:
            return await WebsocketDenier()(scope, receive, send)
        return await super().__call__(scope, receive, send)


def websocket_stack(inner):
    return AuthMiddlewareStack(BearerTokenMiddleware(OriginPolicyMiddleware(inner)))
