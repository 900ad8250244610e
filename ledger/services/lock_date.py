"""The lock date: the organization's books are closed up to it (no entry dated on or before it is
created, posted or reversed). Set by admins only; every change is in the audit log."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.audit import audit_record
from core import permissions
from core.errors import Conflict, ErrorCode
from core.models import Organization
from ledger.models import LOCK_DATE_AUDIT_ACTION


def ledger_lock_date_set(*, actor, lock_date: dt.date | None, organization_id=None,
                         ip: str | None = None) -> Organization:
    """Close the books of the actor's organization up to `lock_date` (None reopens them). Admins
    only (core.permissions.can_set_lock_date); another organization is not found (404). Every change
    is in the audit log. Returns the organization."""
    organization_id = permissions.acting_organization_id(actor, permissions.can_set_lock_date, organization_id,
                                                         refused="Only admins set the lock date.",
                                                         system_allowed=False)
    organization = Organization.objects.get(pk=organization_id)
    previous = organization.lock_date
    if previous != lock_date:
        Organization.objects.filter(pk=organization_id).update(lock_date=lock_date, updated_at=timezone.now())
        organization.lock_date = lock_date
        audit_record(action=LOCK_DATE_AUDIT_ACTION, actor=actor, target=organization, ip=ip,
                     previous=previous.isoformat() if previous else None,
                     lock_date=lock_date.isoformat() if lock_date else None)
    return organization


def check_lock_date(lock_date: dt.date | None, day: dt.date, what: str) -> None:
    """Refuse to `what` an entry dated `day` inside the closed period."""
    if lock_date is not None and day <= lock_date:
        raise Conflict(ErrorCode.PERIOD_LOCKED, f"The books are locked up to {lock_date.isoformat()}: cannot {what} "
                       f"an entry dated {day.isoformat()}.", {"lock_date": lock_date.isoformat(),
                                                               "date": day.isoformat()})
