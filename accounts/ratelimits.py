"""Fixed-window rate limits with counters in MongoDB: one atomic $inc upsert per hit, so every
server process shares them and none can race past the limit.

Concurrent first hits of a window race to insert its counter: the loser's upsert fails on the unique
key without counting and is simply sent again (it then increments the counter the winner made). The
embedded server may also acknowledge an upsert that counted without returning the document
(issue 19: that gave a TypeError 500): the hit is counted then, and the counter is read back, which
can only overstate the count of this hit, never let one through past the limit."""

from __future__ import annotations

import datetime as dt
import math
import time

from django.db import connection
from django.utils import timezone
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from accounts.models import RateLimitCounter
from core.errors import RateLimited


def rate_limit_hit(*, scope: str, subject: str, limit: int, window_seconds: int) -> None:
    """Count one hit of `subject` (an IP, a username) in `scope`; raise RateLimited past `limit`."""
    if not subject:
        return
    now = time.time()
    window_start = int(now // window_seconds) * window_seconds
    key = f"{scope}:{subject.lower()}:{window_start}"[:200]
    collection = connection.get_collection(RateLimitCounter._meta.db_table)
    if _count_hit(collection, key, window_start + window_seconds) > limit:
        raise RateLimited(retry_after_seconds=max(1, math.ceil(window_start + window_seconds - now)))


UPSERT_ATTEMPTS = 5


def _count_hit(collection, key: str, window_end: float) -> int:
    """Add one to the counter `key` (made on the window's first hit); the count after this hit."""
    for _ in range(UPSERT_ATTEMPTS):
        try:
            document = collection.find_one_and_update(
                {"key": key},
                {"$inc": {"count": 1},
                 "$setOnInsert": {"window_ends_at": dt.datetime.fromtimestamp(window_end, dt.UTC)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            continue  # a concurrent first hit made the counter; this one was not counted: again
        if document is None:  # counted, but the server did not say the count
            document = collection.find_one({"key": key}, {"count": 1}) or {"count": 1}
        return int(document["count"])
    raise RuntimeError(f"rate limit counter {key!r}: the upsert kept colliding")  # never seen; a 500 is right


def rate_limit_counters_prune() -> int:
    deleted, _ = RateLimitCounter.objects.filter(window_ends_at__lt=timezone.now()).delete()
    return deleted
