"""Logins and sessions, shared by the API (JWT access + rotating refresh token) and the browser
(Django session): the same lockout, verification, single-session and approval rules for both."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db.models import Q
from django.utils import timezone

from accounts.audit import audit_record
from accounts.lockout import login_failure_record, login_failures_clear, login_lock_check
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


def auth_rate_limits(*, scope: str, ip: str | None, account: str | None, per_source: bool = False) -> None:
    """Per-IP and per-account limits every auth endpoint applies. `per_source`: the account's limit
    is counted per account *and* source (login: a stranger exhausting it would lock the owner out)."""
    ip_limit, ip_window = settings.AUTH_RATE_LIMIT_PER_IP
    account_limit, account_window = settings.AUTH_RATE_LIMIT_PER_ACCOUNT
    rate_limit_hit(scope=f"{scope}:ip", subject=ip or "", limit=ip_limit, window_seconds=ip_window)
    subject = f"{account}|{ip or '-'}" if per_source and account else account or ""
    rate_limit_hit(scope=f"{scope}:account", subject=subject, limit=account_limit, window_seconds=account_window)


def _find_user(login: str) -> User | None:
    login = (login or "").strip()
    if not login:
        return None
    return User.objects.filter(Q(username=login) | Q(email=login.lower())).first()


def _check_can_log_in(user: User | None, login: str, password: str, ip: str | None) -> User:
    # The lock (per name and source, accounts.lockout) is checked first and answers the same whether
    # or not the name exists; so does a wrong password.
    login_lock_check(login=login, ip=ip, user=user)
    if user is None:
        make_password(password)  # same work as a real check: no user enumeration by timing
        login_failure_record(login=login, ip=ip)
        raise NotAuthenticated(ErrorCode.INVALID_CREDENTIALS, "Wrong username or password.")
    if not user.check_password(password):
        login_failure_record(login=login, ip=ip, user=user)
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
    auth_rate_limits(scope="login", ip=ip, account=login, per_source=True)
    user = _check_can_log_in(_find_user(login), login, password, ip)
    login_failures_clear(login=login, ip=ip)
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
        login_failure_record(login=user.username, ip=ip, user=user)
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
