"""Login lockout, keyed by account *and* source (issue 19).

The policy (README, "Login lockout and rate limits"):
- `LOCKOUT_THRESHOLD` (5) wrong passwords for one login name from one source (IP address) within
  `LOCKOUT_SECONDS` (15 minutes) lock that name *for that source* for `LOCKOUT_SECONDS`. Logins to the
  same account from any other address go on as before, so nobody can lock an admin (or anyone) out by
  guessing from their own machine.
- The counter is kept for the login *name* as typed (lower-cased), whether or not an account has it:
  an unknown name is locked exactly like a real one and gets the same answer (403 `account_locked`),
  so the lock tells nobody who exists. The lock is checked before the password.
- A successful login clears that name's counter for that source. The owner is notified (once per
  lockout window) when a lock starts; the audit log records each failure, lock and refusal.
- An organization's ADMIN (a platform superuser for anyone) lifts every lock of a member at once:
  the admin's "Unlock logins" action on users, or `login_failures_unlock()`.

Counters live in the rate-limit collection (one document per name and source, `$inc` upserts, pruned
with the rate-limit counters once expired)."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from accounts.audit import audit_record
from accounts.models import Notification, NotificationPriority, NotificationType, RateLimitCounter, User
from accounts.notifications import notification_create
from core import permissions
from core.errors import ErrorCode, Forbidden

PREFIX = "lockout:"
LOCK_TITLE = "Logins to your account were locked from one address"


def _name(login: str) -> str:
    return (login or "").strip().lower()[:140]


def _key(login: str, ip: str | None) -> str:
    return f"{PREFIX}{ip or '-'}:{_name(login)}"


def _collection():
    return connection.get_collection(RateLimitCounter._meta.db_table)


def _locked_error(until: dt.datetime) -> Forbidden:
    return Forbidden(ErrorCode.ACCOUNT_LOCKED,
                     "Too many failed logins for this account from your address; try again later.",
                     {"locked_until": until.isoformat()})


def login_lock_check(*, login: str, ip: str | None, user: User | None = None) -> None:
    """Raise `account_locked` when this name is locked for this source (same answer, known or not)."""
    now = timezone.now()
    document = _collection().find_one({"key": _key(login, ip), "count": {"$gte": settings.LOCKOUT_THRESHOLD},
                                       "window_ends_at": {"$gt": now}})
    if document is None:
        return
    if user is not None:
        audit_record(action="login_refused_locked", target=user, ip=ip)
    until = document["window_ends_at"]
    raise _locked_error(until if until.tzinfo else until.replace(tzinfo=dt.UTC))


def _count_failure(key: str, now: dt.datetime) -> int:
    collection = _collection()
    window_end = now + dt.timedelta(seconds=settings.LOCKOUT_SECONDS)
    for _ in range(5):
        collection.delete_one({"key": key, "window_ends_at": {"$lte": now}})  # an old window starts again
        try:
            document = collection.find_one_and_update(
                {"key": key}, {"$inc": {"count": 1}, "$setOnInsert": {"window_ends_at": window_end}},
                upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:
            continue
        if document is None:  # counted; the embedded server did not return it (see accounts.ratelimits)
            document = collection.find_one({"key": key}) or {"count": 1}
        return int(document["count"])
    raise RuntimeError(f"lockout counter {key!r}: the upsert kept colliding")


def login_failure_record(*, login: str, ip: str | None, user: User | None = None) -> None:
    """Count a wrong password for this name from this source; at the threshold, lock the pair."""
    now = timezone.now()
    key = _key(login, ip)
    count = _count_failure(key, now)
    if user is not None:
        User.objects.filter(pk=user.pk).update(failed_login_attempts=F("failed_login_attempts") + 1)
        audit_record(action="login_failed", target=user, ip=ip, attempts=count)
    if count != settings.LOCKOUT_THRESHOLD:
        return
    locked_until = now + dt.timedelta(seconds=settings.LOCKOUT_SECONDS)
    _collection().update_one({"key": key}, {"$set": {"window_ends_at": locked_until}})
    if user is None:
        return
    User.objects.filter(pk=user.pk).update(account_locked_until=locked_until)  # shown in the admin
    audit_record(action="account_locked", target=user, ip=ip, until=locked_until.isoformat(), source=ip or "")
    recently_told = Notification.objects.filter(
        user=user, title=LOCK_TITLE, created_at__gt=now - dt.timedelta(seconds=settings.LOCKOUT_SECONDS)).exists()
    if not recently_told:
        notification_create(
            user=user, type=NotificationType.SECURITY, priority=NotificationPriority.CRITICAL, title=LOCK_TITLE,
            message=(f"After {settings.LOCKOUT_THRESHOLD} failed login attempts from {ip or 'an unknown address'}, "
                     f"logins to your account from that address are locked until {locked_until:%Y-%m-%d %H:%M} UTC. "
                     "Logins from your other addresses are not affected. If this was not you, change your password."),
        )


def login_failures_clear(*, login: str, ip: str | None) -> None:
    _collection().delete_one({"key": _key(login, ip)})


def login_failures_clear_all(member: User) -> int:
    """Every lock and failure count of `member` (username and email, every source): after a password
    reset, or an admin's unlock."""
    names = {_name(member.username), _name(member.email)} - {""}
    # "lockout:<source>:<name>"; an IPv6 source holds colons too, so the name is matched at the end.
    pattern = "^" + re.escape(PREFIX) + ".*:(" + "|".join(re.escape(name) for name in names) + ")$"
    deleted = _collection().delete_many({"key": {"$regex": pattern}}).deleted_count
    User.objects.filter(pk=member.pk).update(account_locked_until=None, failed_login_attempts=0)
    return deleted


def login_failures_unlock(*, actor, member: User, ip: str | None) -> int:
    """Lift every lock of `member` from every source. An admin's act (core.permissions)."""
    permissions.require(permissions.can_unlock_logins(actor, member),
                        "Only an admin of the organization unlocks a member's logins.")
    deleted = login_failures_clear_all(member)
    audit_record(action="logins_unlocked", actor=actor, target=member, ip=ip, counters=deleted)
    return deleted
