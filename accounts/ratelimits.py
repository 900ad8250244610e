"""Fixed-window rate limits with counters in MongoDB: one atomic $inc upsert per hit, so every
server process shares them and none can race past the limit."""

from __future__ import annotations

import datetime as dt
import math
import time

from django.db import connection
from django.utils import timezone

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
    document = collection.find_one_and_update(
        {"key": key},
        {"$inc": {"count": 1},
         "$setOnInsert": {"window_ends_at": dt.datetime.fromtimestamp(window_start + window_seconds, dt.UTC)}},
        upsert=True,
        return_document=True,
    )
    if document["count"] > limit:
        raise RateLimited(retry_after_seconds=max(1, math.ceil(window_start + window_seconds - now)))


def rate_limit_counters_prune() -> int:
    deleted, _ = RateLimitCounter.objects.filter(window_ends_at__lt=timezone.now()).delete()
    return deleted
