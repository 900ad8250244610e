"""Newest-first pages as bounded, index-served windows (issue 17), for the API's `NewestFirstWindow`
pagination and the back-office list pages alike; and whole histories read oldest first in windows
(`oldest_first_windows`), for readers that cannot hold a history at once.

The first page, and each page after a cursor, asks the database for the window the time index
(`core/time_index.py`) says holds `limit + 1` rows before the cursor: `{owner, date: {$gte: lower,
$lte: cursor}}` sorted by (date, id) descending. A window that holds too few rows (a filter, a stale
count) is widened, and the last window has no lower bound, so the counts cost time, never rows.
A cursor is the last row's (date, id), base64 of "<iso date>|<id>".
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from bson import ObjectId
from bson.errors import InvalidId
from django.db.models import Q

from core.errors import ErrorCode, InvalidInput
from core.mongodb.raw_read import queryset_documents_read_ahead
from core.time_index import time_index_lower_bounds, time_index_windows


# Beyond this, a page's offset would not fit the database's 64-bit skip (a 500); no list is that long.
LAST_PAGE_NUMBER = 1_000_000


def page_number(value) -> int:
    """A back-office page's `?page=` as a page number: 1 for anything that is not a positive whole
    number, at most LAST_PAGE_NUMBER (a typed URL must not reach the database as an overflowing skip)."""
    try:
        return max(1, min(int(value), LAST_PAGE_NUMBER))
    except (TypeError, ValueError):
        return 1


def newest_first_rows(queryset, *, date_field: str, scope: str, owner_id, limit: int, after=None,
                      offset: int = 0) -> list:
    """Up to `limit + 1` rows of `queryset` (ordered by date first, newest first) older than the
    cursor `after` = (date, id), or the newest ones: one more than a page says whether another follows.
    `offset` rows are skipped first: the window then holds the newest `offset + limit + 1` rows (a deep
    offset costs the rows it skips, not the whole history)."""
    date = date_field
    if after is not None:
        moment, pk = after
        queryset = queryset.filter(Q(**{f"{date}__lt": moment}) | Q(**{date: moment, "pk__lt": pk}),
                                   **{f"{date}__lte": moment})
    bounds = time_index_lower_bounds(scope=scope, organization_id=owner_id, before=after[0] if after else None,
                                     wanted=offset + limit + 1)
    for lower in bounds:
        window = queryset if lower is None else queryset.filter(**{f"{date}__gte": lower})
        rows = list(window[offset: offset + limit + 1])
        if len(rows) > limit or lower is None:
            return rows
    return []


def newest_first_page(queryset, *, date_field: str, scope: str, owner_id, limit: int, page: int = 1,
                      after=None) -> tuple[list, str]:
    """A back-office page of `queryset` (newest first) and the cursor of the page after it ("" when it
    is the last): the newest page, the one after the cursor `after`, or an old-style `page` > 1 without a
    cursor (its window holds every newer page: its cost grows with the page), each a bounded window."""
    offset = (page - 1) * limit if after is None else 0
    rows = newest_first_rows(queryset, date_field=date_field, scope=scope, owner_id=owner_id, limit=limit,
                             after=after, offset=offset)
    if len(rows) <= limit:
        return rows, ""
    rows = rows[:limit]
    return rows, cursor_encode(getattr(rows[-1], date_field), rows[-1].pk)


def oldest_first_windows(queryset, *, date_field: str, scope: str, owner_id, rows: int):
    """Every document `queryset` selects (one owner's rows of a time-indexed `scope`), as consecutive
    windows of about `rows` documents, oldest window first; each window a list of raw documents
    (core.mongodb.raw_read), unsorted within it. Each window is one index-served range of `date_field`;
    the next is read while the caller works on the last. Windows come from the day counts
    (core.time_index), which only place the boundaries: a stale count changes a window's size, never
    which rows are read."""
    ranges = time_index_windows(scope=scope, organization_id=owner_id, rows=rows)
    windows = []
    for lower, upper in ranges:
        bounded = {}
        if lower is not None:
            bounded[f"{date_field}__gte"] = lower
        if upper is not None:
            bounded[f"{date_field}__lt"] = upper
        windows.append(queryset.filter(**bounded))
    return queryset_documents_read_ahead(windows)


def cursor_encode(moment, pk) -> str:
    raw = f"{moment.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str):
    """(moment, ObjectId) from a cursor; a cursor this app did not make is invalid input."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment_text, pk_text = raw.split("|")
        moment = dt.datetime.fromisoformat(moment_text)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, ObjectId(pk_text)
    except (ValueError, UnicodeDecodeError, binascii.Error, InvalidId):
        raise InvalidInput(ErrorCode.INVALID_CURSOR, "This cursor is not one a previous page gave.",
                           {"cursor": cursor}) from None
