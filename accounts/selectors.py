"""Reads about users."""

from __future__ import annotations

from bson import ObjectId
from bson.errors import InvalidId

from accounts.models import User
from accounts.tokens import InvalidToken, access_token_decode


def user_get_active(*, user_id: str) -> User | None:
    try:
        oid = ObjectId(user_id)
    except (InvalidId, TypeError):
        return None
    return User.objects.filter(pk=oid, is_active=True).first()


def user_from_access_token(*, token: str) -> User | None:
    """The active user an access token belongs to, or None for any invalid token."""
    try:
        claims = access_token_decode(token)
    except InvalidToken:
        return None
    return user_get_active(user_id=claims["sub"])
