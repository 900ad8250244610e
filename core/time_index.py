"""A small per-organization time index: how many rows of a list (a "scope": transactions, ...) fall
on each day, so a page of the newest rows can be asked for as a bounded window (issue 17).

Why: the embedded server serves `{organization, date: {$gte: lo, $lt: hi}}` + `$sort` + `$limit` from
the (organization, date) index but sorts every row the range selects before limiting: a page costs
what its window holds. Without a lower bound the window is the organization's whole history (9.3 s
at 100k rows). With these counts the first page reads the newest days until they hold a page's
worth of rows, and asks for exactly that window.

A count document is `{_id: "<scope>:<organization>:<YYYY-MM-DD>", s: scope, o: organization, d: day
(UTC midnight), n: rows}`. Writers call `time_index_add` (after their transaction commits) for rows
they insert (+1) or delete (-1) and for date changes (-1 on the old day, +1 on the new).

The counts only choose where a window starts; they never decide what a page holds. A window that
turns out to hold fewer rows than asked (a count too high, a filter) is widened, and the last window
has no lower bound, so a count that is wrong or missing costs time, never rows.
`time_index_rebuild` recounts a scope from the data (after an upgrade, or if a writer was missed).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator

from django.db import connection, migrations
from pymongo import ASCENDING, DESCENDING, UpdateOne

from core.transactions import after_commit

COLLECTION = "time_index"
# The owner to read for a list across every organization (a platform superuser's admin list): the
# day counts of every owner, summed.
EVERY_OWNER = "*every-owner*"
# Days read per query when looking for a window: first about a month back, then a year, then all.
SPANS = (dt.timedelta(days=31), dt.timedelta(days=366), None)


def _collection():
    collection = connection.get_collection(COLLECTION)
    return collection


def time_index_ensure() -> None:
    """The index the window lookups read (idempotent; called by the migration that adds a scope)."""
    _collection().create_index([("s", ASCENDING), ("o", ASCENDING), ("d", DESCENDING)], name="time_index_scope_org_day")


def _day(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return dt.datetime(moment.year, moment.month, moment.day)


def _owned(scope: str, organization_id) -> dict:
    return {"s": scope} if organization_id == EVERY_OWNER else {"s": scope, "o": organization_id}


def _key(scope: str, organization_id, day: dt.datetime) -> str:
    return f"{scope}:{organization_id}:{day:%Y-%m-%d}"


def time_index_add(*, scope: str, organization_id, moments: Iterable[dt.datetime | None], sign: int = 1) -> None:
    """Count rows of `scope` at `moments` (sign -1: rows removed from those days), once the enclosing
    transaction commits. Installation-wide rows (no organization: a platform task run, an audit entry)
    are counted under the owner None, so the counts of EVERY_OWNER hold them too."""
    counts = Counter(_day(moment) for moment in moments if moment is not None)
    if not counts:
        return
    operations = [UpdateOne({"_id": _key(scope, organization_id, day)},
                            {"$inc": {"n": sign * count}, "$setOnInsert": {"s": scope, "o": organization_id, "d": day}},
                            upsert=True) for day, count in counts.items()]
    after_commit(lambda: _collection().bulk_write(operations, ordered=False))


def time_index_move(*, scope: str, organization_id, old: dt.datetime | None, new: dt.datetime | None) -> None:
    """A row's date changed from `old` to `new`."""
    if old is not None and new is not None and _day(old) == _day(new):
        return
    time_index_add(scope=scope, organization_id=organization_id, moments=[old], sign=-1)
    time_index_add(scope=scope, organization_id=organization_id, moments=[new])


def time_index_lower_bounds(*, scope: str, organization_id, before: dt.datetime | None,
                            wanted: int) -> Iterator[dt.datetime | None]:
    """Successive lower bounds for a window of rows dated before `before` (None: the newest rows):
    the start of the newest day such that the counted days from there to `before` hold `wanted`
    rows, then twice that, four times, ...; finally None (no lower bound). Each bound is older than
    the one before. `organization_id` EVERY_OWNER: every owner's rows together."""
    target = max(wanted, 1)
    counted = 0
    upper = _day(before) + dt.timedelta(days=1) if before is not None else None
    last_bound = None
    for span in SPANS:
        query = _owned(scope, organization_id)
        days = {}
        if upper is not None:
            days["$lt"] = upper
        if span is not None and upper is not None:
            days["$gte"] = upper - span
        if days:
            query["d"] = days
        documents = list(_collection().find(query, {"d": 1, "n": 1}).sort("d", DESCENDING))
        for document in documents:
            counted += max(int(document.get("n", 0)), 0)
            if counted >= target:
                bound = document["d"].replace(tzinfo=dt.timezone.utc)
                if last_bound is None or bound < last_bound:
                    last_bound = bound
                    yield bound
                while counted >= target:
                    target *= 2
        if upper is None or span is None:
            break
        upper = upper - span
    yield None


def time_index_windows(*, scope: str, organization_id,
                       rows: int) -> list[tuple[dt.datetime | None, dt.datetime | None]]:
    """Consecutive date ranges [lower, upper) that split one owner's rows of `scope`, oldest first, into
    windows of about `rows` rows each (whole days: a day's rows are never split): the first has no
    lower bound and the last no upper bound, so together they hold every row, counted or not. One
    query over the day counts."""
    documents = _collection().find(_owned(scope, organization_id), {"d": 1, "n": 1}).sort("d", ASCENDING)
    bounds, counted = [], 0
    for document in documents:
        if counted >= rows:
            bounds.append(document["d"].replace(tzinfo=dt.timezone.utc))
            counted = 0
        counted += max(int(document.get("n", 0)), 0)
    edges = [None, *bounds, None]
    return list(zip(edges, edges[1:]))


def time_index_rebuild(*, scope: str, collection: str, date_field: str, organization_field: str = "organization_id",
                       organization_id=None) -> int:
    """Recount `scope` from `collection` (one organization, or all): returns the days counted."""
    match = {date_field: {"$ne": None}}
    if organization_id is not None:
        match[organization_field] = organization_id
    pipeline = [
        {"$match": match},
        {"$group": {"_id": {"o": f"${organization_field}",
                            "d": {"$dateTrunc": {"date": f"${date_field}", "unit": "day"}}},
                    "n": {"$sum": 1}}},
    ]
    rows = list(connection.get_collection(collection).aggregate(pipeline))
    target = _collection()
    wipe = {"s": scope} if organization_id is None else {"s": scope, "o": organization_id}
    target.delete_many(wipe)
    # A row without an organization may group with no "o" in its key: it is counted under None.
    operations = [UpdateOne({"_id": _key(scope, row["_id"].get("o"), row["_id"]["d"])},
                            {"$set": {"s": scope, "o": row["_id"].get("o"), "d": row["_id"]["d"], "n": row["n"]}},
                            upsert=True) for row in rows]
    if operations:
        target.bulk_write(operations, ordered=False)
    return len(operations)


def time_index_total(*, scope: str, organization_id) -> tuple[int, int]:
    """(rows counted, days with rows) of one owner's scope (EVERY_OWNER: of all together), in one query:
    a cheap fingerprint that moves with every insert, delete or date change a TimeIndexed model counts."""
    found = list(_collection().aggregate([
        {"$match": _owned(scope, organization_id)},
        {"$group": {"_id": None, "n": {"$sum": "$n"}, "days": {"$sum": {"$cond": [{"$gt": ["$n", 0]}, 1, 0]}}}},
    ]))
    return (int(found[0]["n"]), int(found[0]["days"])) if found else (0, 0)


def time_index_count_existing(*, scope: str, collection: str, date_field: str,
                              organization_field: str = "organization_id") -> migrations.RunPython:
    """The migration operation that builds a scope's day counts from the rows already stored, when a
    model becomes time-indexed (core.time_indexed); later writes keep them."""
    def count_existing(apps, schema_editor):
        time_index_ensure()
        time_index_rebuild(scope=scope, collection=collection, date_field=date_field,
                           organization_field=organization_field)

    return migrations.RunPython(count_existing, migrations.RunPython.noop)
