"""Forgotten, reset and changed passwords."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.utils import timezone

from accounts.audit import audit_record
from accounts.emails import email_send_after_commit, site_link
from accounts.lockout import login_failures_clear_all
from accounts.models import NotificationPriority, NotificationType, User, UserSession
from accounts.notifications import notification_create
from accounts.sessions import auth_rate_limits, sessions_end_all, token_hash
from accounts.validators import password_validate
from core.errors import ErrorCode, InvalidRequest
from core.transactions import in_transaction


def password_forgot(*, email: str, ip: str | None) -> None:
    """Email a reset link. The caller answers the same whether or not the address exists."""
    auth_rate_limits(scope="forgot-password", ip=ip, account=email)
    user = User.objects.filter(email=(email or "").strip().lower(), is_active=True).first()
    if user is None:
        audit_record(action="password_reset_unknown_email", ip=ip)
        return
    token = secrets.token_urlsafe(32)
    User.objects.filter(pk=user.pk).update(
        reset_password_token=token_hash(token),
        reset_password_expires=timezone.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TTL_SECONDS),
    )
    email_send_after_commit(
        to=user.email, subject="Reset your password",
        body=(f"Hello {user.first_name},\n\nReset your password here:\n"
              f"{site_link('/app/reset-password/?token=' + token)}\n\n"
              f"API clients: POST /api/auth/reset-password/ with the token and a new_password.\n"
              f"The link expires in {settings.PASSWORD_RESET_TTL_SECONDS // 60} minutes. "
              "If you did not ask for it, ignore this email."),
    )
    audit_record(action="password_reset_requested", target=user, ip=ip)


def password_reset(*, token: str, new_password: str, ip: str | None) -> User:
    auth_rate_limits(scope="reset-password", ip=ip, account=None)
    invalid = InvalidRequest(ErrorCode.INVALID_TOKEN, "This reset link is invalid or was already used.")
    if not token:
        raise invalid
    user = User.objects.filter(reset_password_token=token_hash(token)).first()
    if user is None:
        raise invalid
    if not user.reset_password_expires or user.reset_password_expires <= timezone.now():
        raise InvalidRequest(ErrorCode.TOKEN_EXPIRED, "This reset link has expired; ask for a new one.")
    password_validate(new_password, user, field="new_password")
    user.set_password(new_password)
    def reset_password_write():
        used = User.objects.filter(pk=user.pk, reset_password_token=token_hash(token)).update(
            password=user.password, reset_password_token="", reset_password_expires=None,
            failed_login_attempts=0, account_locked_until=None, email_verified=True,
        )
        if not used:
            raise invalid
        sessions_end_all(user=user, reason="password_reset")
        notification_create(user=user, type=NotificationType.SECURITY, priority=NotificationPriority.HIGH,
                            title="Your password was reset",
                            message="Your password was reset and every session was ended.")
    in_transaction(reset_password_write)
    login_failures_clear_all(user)  # the owner proved it by email: no source stays locked
    audit_record(action="password_reset", actor=user, target=user, ip=ip)
    return user


def password_change(*, user: User, old_password: str, new_password: str, current_session: UserSession | None,
                    ip: str | None) -> None:
    auth_rate_limits(scope="change-password", ip=ip, account=str(user.pk))
    if not user.check_password(old_password):
        audit_record(action="password_change_wrong_old", actor=user, target=user, ip=ip)
        raise InvalidRequest(ErrorCode.WRONG_PASSWORD, "The current password is wrong.")
    password_validate(new_password, user, field="new_password")
    user.set_password(new_password)
    def change_password_write():
        User.objects.filter(pk=user.pk).update(password=user.password)
        sessions_end_all(user=user, reason="password_changed", keep=current_session)
        notification_create(user=user, type=NotificationType.SECURITY, priority=NotificationPriority.HIGH,
                            title="Your password was changed",
                            message="Your password was changed; your other sessions were ended.")
    in_transaction(change_password_write)
    audit_record(action="password_changed", actor=user, target=user, ip=ip)
