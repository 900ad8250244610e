"""The audit log: append-only, mirrored to the security log file."""

from __future__ import annotations

import logging

from accounts.models import AuditLogEntry

security_log = logging.getLogger("security")


def audit_record(*, action: str, actor=None, target=None, ip: str | None = None, **details) -> AuditLogEntry:
    entry = AuditLogEntry.objects.create(
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_username=getattr(actor, "username", "") or "",
        target_type=target._meta.label if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        ip_address=ip or None,
        details=details,
    )
    security_log.info(
        "audit action=%s actor=%s target=%s:%s ip=%s details=%s",
        action, entry.actor_username or "-", entry.target_type or "-", entry.target_id or "-", ip or "-", details,
    )
    return entry
