"""The audit log: append-only, mirrored to the security log file. Each entry carries the
organization it happened in (the actor's unless told), so the admin shows staff only their own
organization's entries."""

from __future__ import annotations

import logging

from accounts.models import AuditLogEntry

security_log = logging.getLogger("security")

_ACTOR = object()


def audit_record(*, action: str, actor=None, target=None, ip: str | None = None, organization=_ACTOR,
                 **details) -> AuditLogEntry:
    """`organization`: the organization the event belongs to; by default the actor's (else the
    target's, for work done by the system on someone's behalf)."""
    if organization is _ACTOR:
        organization_id = getattr(actor, "organization_id", None) or getattr(target, "organization_id", None)
    else:
        organization_id = getattr(organization, "pk", organization)
    entry = AuditLogEntry.objects.create(
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_username=getattr(actor, "username", "") or "",
        target_type=target._meta.label if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        ip_address=ip or None,
        organization_id=organization_id,
        details=details,
    )
    security_log.info(
        "audit action=%s actor=%s target=%s:%s ip=%s org=%s details=%s",
        action, entry.actor_username or "-", entry.target_type or "-", entry.target_id or "-", ip or "-",
        organization_id or "-", details,
    )
    return entry


def audit_record_admin_change(sender, *, action: str, actor, target, ip, change: str, **kwargs) -> None:
    """core.admin_base.admin_change_recorded: every change made in the admin is in the audit log."""
    audit_record(action=action, actor=actor, target=target, ip=ip, change=change)
