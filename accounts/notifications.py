"""Notifications: stored, pushed to the user's websocket group after commit, and emailed when HIGH
or CRITICAL. Each carries a link to the page a person opens to act on it (`action_url`, a page under
/app/, never the API): given by the caller, or else derived from its metadata (`notification_link`:
the journal entry, the send or the wallet, the booking review). Pages are found by their URL names,
so this module imports no app above it."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse

from accounts.emails import email_send_after_commit
from accounts.models import Notification, NotificationPriority, NotificationType
from core.errors import ErrorCode, InvalidInput
from core.realtime import publish, user_group

EMAILED_PRIORITIES = (NotificationPriority.HIGH, NotificationPriority.CRITICAL)
# A notification's metadata is read back on every list of the user's notifications: bounded so no
# value can break that read for good (issue 19).
METADATA_MAX_DEPTH = 8
METADATA_MAX_BYTES = 8 * 1024
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\\\]")


def action_url_check(url: str) -> None:
    """A relative path on this site (`/app/...`) or an absolute http(s) URL; never `javascript:`,
    `data:`, a protocol-relative `//host` or anything a browser may read as another scheme."""
    if not url:
        return
    refused = InvalidInput(ErrorCode.INVALID_ACTION_URL, "The action URL must be a path on this site (/app/...) "
                           "or an http(s) URL.", {"field": "action_url"})
    if _URL_FORBIDDEN.search(url):
        raise refused
    if url.startswith("/"):
        if url.startswith("//"):
            raise refused
        return
    try:
        parts = urlsplit(url)
    except ValueError:
        raise refused from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise refused


def _metadata_problem(value, depth: int = 0) -> str | None:
    if depth > METADATA_MAX_DEPTH:
        return f"nests deeper than {METADATA_MAX_DEPTH} levels"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return "keys must be strings"
            problem = _metadata_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = _metadata_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        pass
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            return "integers must fit in 8 bytes"
    else:
        return f"{type(value).__name__} is not a JSON value"
    return None


def metadata_check(metadata: dict) -> None:
    problem = None if isinstance(metadata, dict) else "must be an object"
    problem = problem or _metadata_problem(metadata)
    if problem is None:
        try:
            size = len(json.dumps(metadata, allow_nan=False).encode())
        except ValueError:
            size, problem = 0, "numbers must be finite"
        if size > METADATA_MAX_BYTES:
            problem = f"is larger than {METADATA_MAX_BYTES} bytes"
    if problem:
        raise InvalidInput(ErrorCode.INVALID_METADATA, f"metadata {problem}.", {"field": "metadata"})


# metadata key(s) -> (URL name of the page, its argument keys, anchor, link text); the first rule whose
# keys are all in the metadata and whose page exists gives the link.
LINK_RULES = (
    (("journal_entry_id",), "ledger-entry-detail", ("journal_entry_id",), "", "Open journal entry"),
    (("transaction_id",), "backoffice-transaction-drawer", ("transaction_id",), "", "Open transaction"),
    (("transfer_id", "wallet_id"), "backoffice-wallet-detail", ("wallet_id",), "transfer-{transfer_id}",
     "Open the send"),
    (("wallet_id",), "backoffice-wallet-detail", ("wallet_id",), "", "Open wallet"),
    (("booking_problems",), "ledger-review", (), "", "Open the booking review"),
)


def link_from_metadata(metadata: dict | None) -> tuple[str, str]:
    """(page URL, link text) a notification's metadata points at, or ("", "")."""
    metadata = metadata if isinstance(metadata, dict) else {}
    for keys, url_name, arg_keys, anchor, text in LINK_RULES:
        if not all(isinstance(metadata.get(key), str) and metadata.get(key) for key in keys):
            continue
        try:
            url = reverse(url_name, args=[metadata[key] for key in arg_keys])
        except NoReverseMatch:
            continue
        return (url + ("#" + anchor.format(**metadata) if anchor else "")), text
    return "", ""


def notification_link(notification) -> tuple[str, str]:
    """(URL, text) of the page that acts on a notification: its own action_url, or the page its
    metadata names (notifications stored before they carried links)."""
    if notification.action_url:
        return notification.action_url, notification.action_text or "Open"
    return link_from_metadata(notification.metadata)


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
    metadata_check(metadata or {})
    if not action_url:
        action_url, derived_text = link_from_metadata(metadata)
        action_text = action_text or derived_text
    action_url_check(action_url)
    notification = Notification(
        user=user, title=title, message=message, type=type, priority=priority, action_url=action_url,
        action_text=action_text, metadata=metadata or {}, expires_at=expires_at,
    )
    # The user is a saved instance the caller read: checking it exists again would cost a query per
    # notification (the wallet monitor makes one per transfer).
    notification.full_clean(exclude=["user"] if getattr(user, "pk", None) else None)
    notification.save()
    publish(user_group(user.pk), "notification.created", {
        "id": str(notification.pk), "title": title, "message": message, "type": type, "priority": priority,
        "action_url": action_url,
    })
    if priority in EMAILED_PRIORITIES and user.email:
        email_send_after_commit(to=user.email, subject=f"[Crypto Books] {title}", body=message)
    return notification
