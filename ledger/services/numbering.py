"""The organization's counter documents (ledger.models.JournalCounter): "<organization id>:JE-<year>"
numbers its entries of a year through the one gap-free counter (core.counters, key "JE", kept in
this collection), "<organization id>:chart-tree" serialises changes to its account tree.

Entry numbers. `entry_id` (JE-<year>-<000123>) is given at posting, from the counter of the
organization and year incremented in the same MongoDB transaction as the entry's status change: a
post that fails rolls its number back, so the numbers of an organization's year are exactly 1..N.
Two posts at once in one organization both write its counter; the server aborts one with a
WriteConflict and that one is retried. Organizations never share a counter.
"""

from __future__ import annotations

import re

import pymongo
from django.db import DEFAULT_DB_ALIAS, connections

from core import counters
from ledger.models import JournalCounter
from ledger.selectors import as_object_id

CHART_TREE_KEY = "chart-tree"
ENTRY_SERIES = "JE"
_YEAR_KEY = re.compile(rf"^{ENTRY_SERIES}-(\d{{4}})$")


def counter_key(organization_id, name: str) -> str:
    return f"{organization_id}:{name}"


def year_key(year: int) -> str:
    return f"{ENTRY_SERIES}-{year}"


def next_entry_number(organization_id, year: int) -> str:
    """Take the organization's next number of `year`; must run inside the posting transaction."""
    return f"{year_key(year)}-{bump_counter(organization_id, year_key(year)):06d}"


def counter_ensure(organization_id, year: int) -> None:
    # Created before the transaction: two first posts of a year inserting the same counter inside
    # transactions would fail with a duplicate key instead of a retryable conflict.
    counter_ensure_key(organization_id, year_key(year))


def counter_ensure_key(organization_id, name: str) -> None:
    year = _YEAR_KEY.match(name)
    if year:
        counters.counter_ensure(organization_id=organization_id, key=ENTRY_SERIES, year=int(year.group(1)),
                                table=JournalCounter._meta.db_table)
        return
    JournalCounter.objects.get_or_create(organization_id=organization_id, key=counter_key(organization_id, name))


def bump_counter(organization_id, name: str, by: int = 1) -> int:
    """Increment one of the organization's counters inside the current transaction; returns the new value."""
    year = _YEAR_KEY.match(name)
    if year:
        return counters.counter_next(organization_id=organization_id, key=ENTRY_SERIES, year=int(year.group(1)),
                                     count=by, table=JournalCounter._meta.db_table)
    connection = connections[DEFAULT_DB_ALIAS]
    # A raw $inc: the ORM has no find-and-modify, and the new value must come back in the same write.
    counter = connection.database[JournalCounter._meta.db_table].find_one_and_update(
        {"organization_id": as_object_id(organization_id), "key": counter_key(organization_id, name)},
        {"$inc": {"last_number": by}}, return_document=pymongo.ReturnDocument.AFTER, session=connection.session)
    return counter["last_number"]
