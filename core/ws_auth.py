"""WebSocket authentication and origin policy.

A connection is authenticated by the Django session cookie (browsers) or by a JWT access token in
the `Authorization: Bearer` handshake header (API clients; a header, not a query string, so the
token stays out of access logs). A browser login whose session was ended elsewhere (logout, a newer
login) is anonymous here too, as in ActiveUserSessionMiddleware. Cookie-authenticated handshakes
must carry an Origin among ALLOWED_HOSTS (cross-site WebSocket hijacking); a foreign Origin is
always refused; JWT clients may omit Origin, as non-browser clients do.
"""

from urllib.parse import urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import is_same_domain
from django.utils import timezone

from core.jsonapi.auth import BROWSER_SESSION_KEY, session_backend


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
            user = await database_sync_to_async(session_backend().user_from_access_token)(token=authorization[7:].strip())
            scope["user"] = user or AnonymousUser()
            scope["auth_method"] = "jwt" if user else "invalid_token"
        else:
            scope["auth_method"] = "session"
        return await super().__call__(scope, receive, send)


def browser_session_alive(*, session_id: str, user) -> bool:
    session = session_backend().user_session_get(session_id=session_id)
    return (session is not None and session.user_id == user.pk and session.is_active
            and session.expires_at > timezone.now())


class ActiveBrowserSessionMiddleware(BaseMiddleware):
    """Treats a cookie whose back-office login was ended elsewhere as anonymous."""

    async def __call__(self, scope, receive, send):
        user, session = scope.get("user"), scope.get("session")
        by_cookie = scope.get("auth_method") == "session" and session is not None
        if by_cookie and user is not None and user.is_authenticated:
            session_id = await database_sync_to_async(session.get)(BROWSER_SESSION_KEY)
            alive = session_id is None or await database_sync_to_async(browser_session_alive)(
                session_id=session_id, user=user
            )
            if not alive:
                scope = {**scope, "user": AnonymousUser()}
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
    return AuthMiddlewareStack(
        BearerTokenMiddleware(ActiveBrowserSessionMiddleware(OriginPolicyMiddleware(inner)))
    )
