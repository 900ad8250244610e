"""Logins and sessions, shared by the API (JWT access + rotating refresh token) and the browser
(Django session): the same lockout, verification, single-session and approval rules for both."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db.models import F, Q
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import NotificationPriority, NotificationType, SessionKind, User, UserSession
from accounts.notifications import notification_create
from accounts.ratelimits import rate_limit_hit
from accounts.selectors import user_session_get
from accounts.tokens import access_token_issue
from core.errors import ErrorCode, Forbidden, NotAuthenticated
from core.transactions import in_transaction


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


def auth_rate_limits(*, scope: str, ip: str | None, account: str | None) -> None:
    """Per-IP and per-account limits every auth endpoint applies."""
    ip_limit, ip_window = settings.AUTH_RATE_LIMIT_PER_IP
    account_limit, account_window = settings.AUTH_RATE_LIMIT_PER_ACCOUNT
    rate_limit_hit(scope=f"{scope}:ip", subject=ip or "", limit=ip_limit, window_seconds=ip_window)
    rate_limit_hit(scope=f"{scope}:account", subject=account or "", limit=account_limit,
                   window_seconds=account_window)


def _find_user(login: str) -> User | None:
    login = (login or "").strip()
    if not login:
        return None
    return User.objects.filter(Q(username=login) | Q(email=login.lower())).first()


def _register_failure(user: User, ip: str | None) -> None:
    User.objects.filter(pk=user.pk).update(failed_login_attempts=F("failed_login_attempts") + 1)
    user.refresh_from_db(fields=["failed_login_attempts", "account_locked_until"])
    audit_record(action="login_failed", target=user, ip=ip, attempts=user.failed_login_attempts)
    if user.failed_login_attempts < settings.LOCKOUT_THRESHOLD:
        return
    locked_until = timezone.now() + dt.timedelta(seconds=settings.LOCKOUT_SECONDS)
    # Compare-and-set: concurrent failures lock (and notify) once.
    locked = User.objects.filter(pk=user.pk).filter(
        Q(account_locked_until__isnull=True) | Q(account_locked_until__lt=timezone.now())
    ).update(account_locked_until=locked_until, failed_login_attempts=0)
    if locked:
        audit_record(action="account_locked", target=user, ip=ip, until=locked_until.isoformat())
        notification_create(
            user=user, type=NotificationType.SECURITY, priority=NotificationPriority.CRITICAL,
            title="Your account is locked",
            message=(f"After {settings.LOCKOUT_THRESHOLD} failed login attempts your account is locked until "
                     f"{locked_until:%Y-%m-%d %H:%M} UTC. If this was not you, reset your password."),
        )


def _check_can_log_in(user: User | None, password: str, ip: str | None) -> User:
    if user is None:
        make_password(password)  # same work as a real check: no user enumeration by timing
        raise NotAuthenticated(ErrorCode.INVALID_CREDENTIALS, "Wrong username or password.")
    if user.account_locked_until and user.account_locked_until > timezone.now():
        audit_record(action="login_refused_locked", target=user, ip=ip)
        raise Forbidden(ErrorCode.ACCOUNT_LOCKED, "This account is locked after too many failed logins.",
                       {"locked_until": user.account_locked_until.isoformat()})
    if not user.check_password(password):
        _register_failure(user, ip)
        raise NotAuthenticated(ErrorCode.INVALID_CREDENTIALS, "Wrong username or password.")
    if not user.is_active:
        audit_record(action="login_refused_inactive", target=user, ip=ip)
        raise Forbidden(ErrorCode.ACCOUNT_INACTIVE, "This account is deactivated.")
    if not user.email_verified:
        raise Forbidden(ErrorCode.EMAIL_NOT_VERIFIED, "Verify your email address before logging in.")
    return user


def sessions_end_all(*, user: User, reason: str, keep: UserSession | None = None) -> int:
    """End every live session of the user (but `keep`, the one making the request, if given)."""
    sessions = UserSession.objects.filter(user=user, is_active=True)
    if keep is not None:
        sessions = sessions.exclude(pk=keep.pk)
    return sessions.update(is_active=False, revoked_at=timezone.now(), revoke_reason=reason)


def session_login(
    *, login: str, password: str, ip: str | None, device_info: str = "", kind: str = SessionKind.API,
) -> tuple[User, UserSession, IssuedTokens | None]:
    """Check the credentials and start the user's only session (ending the others)."""
    auth_rate_limits(scope="login", ip=ip, account=login)
    user = _check_can_log_in(_find_user(login), password, ip)
    now = timezone.now()
    refresh_secret = secrets.token_urlsafe(32)
    def login_write():
        ended = sessions_end_all(user=user, reason="new_login")
        session = UserSession.objects.create(
            user=user, kind=kind, device_info=device_info[:300], ip_address=ip or None,
            session_token=token_hash(refresh_secret),  # browser sessions: never handed out
            last_activity=now, expires_at=now + dt.timedelta(seconds=settings.REFRESH_TOKEN_TTL_SECONDS),
        )
        User.objects.filter(pk=user.pk).update(
            failed_login_attempts=0, account_locked_until=None, last_login=now, last_login_ip=ip or None,
        )
        if ended:
            notification_create(
                user=user, type=NotificationType.SECURITY, priority=NotificationPriority.HIGH,
                title="New login to your account",
                message=f"A new login from {ip or 'an unknown address'} ({device_info[:100] or 'unknown device'}) "
                        "ended your other sessions. If this was not you, change your password.",
            )
        return ended, session
    ended, session = in_transaction(login_write)
    audit_record(action="login", actor=user, target=user, ip=ip, kind=kind, ended_sessions=ended)
    user.refresh_from_db()
    if kind == SessionKind.BROWSER:
        return user, session, None
    return user, session, _issue(user, session, refresh_secret)


def _issue(user: User, session: UserSession, refresh_secret: str) -> IssuedTokens:
    return IssuedTokens(
        access_token=access_token_issue(user_id=user.pk, session_id=session.pk),
        refresh_token=f"{session.pk}.{refresh_secret}",
        expires_in=settings.JWT_ACCESS_TTL_SECONDS,
    )


def session_refresh(*, refresh_token: str, ip: str | None) -> IssuedTokens:
    """Rotate the refresh token. Presenting a rotated-out token again revokes the session."""
    invalid = NotAuthenticated(ErrorCode.INVALID_REFRESH_TOKEN, "The refresh token is invalid or expired.")
    session_id, _, secret = (refresh_token or "").partition(".")
    auth_rate_limits(scope="refresh", ip=ip, account=session_id)
    session = user_session_get(session_id=session_id)
    if session is None or not secret or session.kind != SessionKind.API:
        raise invalid
    presented = token_hash(secret)
    if presented in session.previous_token_hashes:
        sessions_end_all(user=session.user, reason="refresh_token_reused")
        audit_record(action="refresh_token_reused", target=session.user, ip=ip, session=str(session.pk))
        raise NotAuthenticated(ErrorCode.REFRESH_TOKEN_REUSED, "This refresh token was already used; the session is ended.")
    if not session.is_active or session.expires_at <= timezone.now() or presented != session.session_token:
        raise invalid
    new_secret = secrets.token_urlsafe(32)
    rotated = UserSession.objects.filter(pk=session.pk, is_active=True, session_token=presented).update(
        session_token=token_hash(new_secret),
        previous_token_hashes=(session.previous_token_hashes + [presented])[-20:],
        last_activity=timezone.now(),
    )
    if rotated != 1:  # a concurrent refresh used it first: treat as reuse
        sessions_end_all(user=session.user, reason="refresh_token_reused")
        raise NotAuthenticated(ErrorCode.REFRESH_TOKEN_REUSED, "This refresh token was already used; the session is ended.")
    return _issue(session.user, session, new_secret)


def session_logout(*, session: UserSession, ip: str | None) -> None:
    UserSession.objects.filter(pk=session.pk, is_active=True).update(
        is_active=False, revoked_at=timezone.now(), revoke_reason="logout"
    )
    audit_record(action="logout", actor=session.user, target=session.user, ip=ip)


def session_approve(*, session: UserSession, password: str, ip: str | None) -> UserSession:
    """Re-entering the password approves this session for private-key operations for a while."""
    auth_rate_limits(scope="confirm-password", ip=ip, account=str(session.user_id))
    user = session.user
    if not user.check_password(password):
        _register_failure(user, ip)
        raise NotAuthenticated(ErrorCode.INVALID_CREDENTIALS, "Wrong password.")
    approved_until = timezone.now() + dt.timedelta(seconds=settings.SESSION_APPROVAL_SECONDS)
    UserSession.objects.filter(pk=session.pk, is_active=True).update(is_approved=True, approved_until=approved_until)
    audit_record(action="session_approved", actor=user, target=user, ip=ip, until=approved_until.isoformat())
    session.refresh_from_db()
    return session


def require_approved_session(session: UserSession | None) -> None:
    """The one check every private-key operation (send, sign, contract call, payout) makes first."""
    if (
        session is None
        or not session.is_active
        or not session.is_approved
        or session.approved_until is None
        or session.approved_until <= timezone.now()
    ):
        raise Forbidden(ErrorCode.SESSION_NOT_APPROVED,
                       "Confirm your password (POST /api/auth/confirm-password/) before using a private key.")
