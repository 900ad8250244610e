"""JWT access tokens: issue and verify. The algorithm is pinned (no `alg=none`, no key confusion)."""

from __future__ import annotations

import datetime as dt
import uuid

import jwt
from django.conf import settings


class InvalidToken(Exception):
    """The token is malformed, forged, expired or of the wrong type."""


def access_token_issue(*, user_id: str, session_id: str | None = None, ttl_seconds: int | None = None) -> str:
    now = dt.datetime.now(dt.UTC)
    ttl = ttl_seconds if ttl_seconds is not None else settings.JWT_ACCESS_TTL_SECONDS
    claims = {
        "sub": str(user_id),
        "typ": "access",
        "iat": now,
        "exp": now + dt.timedelta(seconds=ttl),
        "jti": uuid.uuid4().hex,
    }
    if session_id:
        claims["sid"] = str(session_id)
    return jwt.encode(claims, settings.SECRET_KEY, algorithm=settings.JWT_ALGORITHM)


def access_token_decode(token: str) -> dict:
    try:
        claims = jwt.decode(
            token,
            settings.SECRET_KEY,
            algorithms=[settings.JWT_ALGORITHM],
            options={"require": ["sub", "exp", "iat", "typ"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("typ") != "access":
        raise InvalidToken("not an access token")
    return claims
