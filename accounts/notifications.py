"""Notifications: stored, pushed to the user's websocket group after commit, and emailed when HIGH
or CRITICAL."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from accounts.emails import email_send_after_commit
from accounts.models import Notification, NotificationPriority, NotificationType
from core.realtime import publish, user_group

EMAILED_PRIORITIES = (NotificationPriority.HIGH, NotificationPriority.CRITICAL)


def notification_create(
    *,
    user,
    title: str,
    message: str,
    type: str = NotificationType.SYSTEM,
    priority: str = NotificationPriority.MEDIUM,
    action_url: str = "",
    action_text: str = "",
    metadata: dict | None = None,
    expires_at=None,
) -> Notification:
    if type not in NotificationType.values:
        raise ValidationError({"type": f"unknown notification type {type!r}"})
    if priority not in NotificationPriority.values:
        raise ValidationError({"priority": f"unknown priority {priority!r}"})
    notification = Notification(
        user=user, title=title, message=message, type=type, priority=priority, action_url=action_url,
        action_text=action_text, metadata=metadata or {}, expires_at=expires_at,
    )
    notification.full_clean()
    notification.save()
    publish(user_group(user.pk), "notification.created", {
        "id": str(notification.pk), "title": title, "message": message, "type": type, "priority": priority,
        "action_url": action_url,
    })
    if priority in EMAILED_PRIORITIES and user.email:
        email_send_after_commit(to=user.email, subject=f"[Crypto Books] {title}", body=message)
    return notification
