"""Reads about users and sessions."""

from __future__ import annotations

from bson import ObjectId
from bson.errors import InvalidId
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Notification, User, UserSession
from accounts.tokens import InvalidToken, access_token_decode


def _oid(value) -> ObjectId | None:
    try:
        return ObjectId(str(value))
    except (InvalidId, TypeError):
        return None


def users_matching(*, identifier: str) -> list[User]:
    """The users a command-line `--user` names: by username, by email (any case) or by id, in that
    order of precedence, without repeats (more than one only when they are different users)."""
    found: list[User] = []
    oid = _oid(identifier)
    for query in ({"username": identifier}, {"email__iexact": identifier}, {"pk": oid} if oid else None):
        if query is None:
            continue
        for user in User.objects.filter(**query)[:2]:
            if all(user.pk != other.pk for other in found):
                found.append(user)
    return found


def user_get_active(*, user_id: str) -> User | None:
    oid = _oid(user_id)
    return User.objects.filter(pk=oid, is_active=True).first() if oid else None


def user_session_get(*, session_id: str) -> UserSession | None:
    oid = _oid(session_id)
    return UserSession.objects.filter(pk=oid).first() if oid else None


def access_token_authenticate(*, token: str) -> tuple[User, UserSession] | None:
    """The active user and live session an access token belongs to, or None for any invalid token
    (bad signature, expired, session ended by logout or a newer login, user deactivated)."""
    try:
        claims = access_token_decode(token)
    except InvalidToken:
        return None
    session = user_session_get(session_id=claims.get("sid", ""))
    if session is None or not session.is_active or session.expires_at <= timezone.now():
        return None
    if str(session.user_id) != claims["sub"]:
        return None
    user = user_get_active(user_id=claims["sub"])
    return (user, session) if user else None


def user_from_access_token(*, token: str) -> User | None:
    result = access_token_authenticate(token=token)
    return result[0] if result else None


def notification_list_visible(*, user: User, unread: bool = False) -> QuerySet:
    """A person's own notifications that have not expired, newest first (date, then id: the order
    core.windows pages by)."""
    queryset = Notification.objects.filter(user=user).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
    if unread:
        queryset = queryset.filter(is_read=False)
    return queryset.order_by("-created_at", "-id")
