"""Change marks: per-organization counters that move whenever an input of derived work changes, so
the derived work (the automatic journals, cached figures) can tell "nothing changed since I last ran"
from one small read instead of re-reading everything (issue 17: a journal sync with nothing to do
read 100k transactions every 15 minutes).

A mark is a document `{_id: "<organization id>:<topic>", value: n}` in the `change_marks` collection
(`organization id` is `*` for installation-wide inputs such as shared prices). `mark_changed` bumps it
with one atomic `$inc` (upsert). Consumers remember the marks they last worked from
(`seen_record`), and compare (`marks_read` + `seen_get`) before working.

Bumps happen after the writer's transaction commits (`after_commit`), so a consumer that reads a mark
and then the data never records a mark newer than the data it saw. A bump lost to a crash between
the commit and the `$inc` leaves the consumer one change behind: consumers therefore also rerun on a
slower schedule regardless (the journal sync's daily full pass).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone

from core.transactions import after_commit

COLLECTION = "change_marks"
INSTALLATION = "*"


def _collection():
    return connection.get_collection(COLLECTION)


def _key(organization_id, topic: str) -> str:
    return f"{organization_id if organization_id is not None else INSTALLATION}:{topic}"


def mark_changed(*, organization_id, topic: str) -> None:
    """Bump `topic`'s mark of the organization (None: installation-wide) once the enclosing
    transaction commits (at once outside one)."""
    key = _key(organization_id, topic)
    after_commit(lambda: _collection().update_one({"_id": key}, {"$inc": {"value": 1}}, upsert=True))


def marks_read(*, organization_id, topics: tuple[str, ...], installation_topics: tuple[str, ...] = ()) -> dict[str, int]:
    """The current values of the organization's `topics` and the installation's `installation_topics`
    (0 for a mark never bumped), in one query."""
    keys = [_key(organization_id, topic) for topic in topics] + [_key(None, topic) for topic in installation_topics]
    found = {doc["_id"]: int(doc.get("value", 0)) for doc in _collection().find({"_id": {"$in": keys}})}
    return {key: found.get(key, 0) for key in keys}


def seen_get(*, organization_id, consumer: str) -> tuple[dict[str, int] | None, dt.datetime | None]:
    """The marks `consumer` last worked from for the organization, and when (None, None: never)."""
    doc = _collection().find_one({"_id": _key(organization_id, f"seen:{consumer}")})
    if doc is None:
        return None, None
    at = doc.get("at")
    if at is not None and timezone.is_naive(at):
        at = at.replace(tzinfo=dt.timezone.utc)
    return dict(doc.get("marks", {})), at


def seen_record(*, organization_id, consumer: str, marks: dict[str, int]) -> None:
    """`consumer` has worked from `marks` (read before it read its data) for the organization."""
    _collection().update_one({"_id": _key(organization_id, f"seen:{consumer}")},
                             {"$set": {"marks": marks, "at": timezone.now()}}, upsert=True)


def organizations_marked(*, topics: tuple[str, ...]) -> set[str]:
    """The organizations (ids as strings) that have at least one of `topics` marked: the ones whose
    inputs ever changed, read from the small marks collection instead of the data."""
    suffixes = tuple(f":{topic}" for topic in topics)
    found = set()
    for doc in _collection().find({}, {"_id": 1}):
        key = doc["_id"]
        if key.endswith(suffixes) and not key.startswith(f"{INSTALLATION}:"):
            found.add(key.split(":", 1)[0])
    return found
