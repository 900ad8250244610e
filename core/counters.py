"""The one gap-free counter: per organization, per series key and per year ("JE" journal entries,
"INV" invoices, "CN" credit notes, ...). Numbers of an organization's series and year are exactly
1..N, whatever runs at once.

    counter_ensure(organization_id=org, key="INV", year=2026)          # before the transaction
    def work():
        n = counter_next(organization_id=org, key="INV", year=2026)    # inside it
        ...                                                            # f"INV-2026-{n:06d}"
    in_transaction(work)

How: one document per (organization, key, year), `{"organization_id", "key": "<organization id>:<KEY>-<year>",
"last_number"}`, incremented with `$inc` in the caller's MongoDB transaction. A transaction that fails
after taking a number rolls the number back with everything else (no gap); two transactions taking
numbers of the same counter both write its document, the server aborts one with a WriteConflict and
`core.transactions.in_transaction` runs it again (no duplicate). Organizations never share a counter.
The document is created before the transaction (`counter_ensure`): two first numbers of a year
inserting it inside transactions would collide on its key (a duplicate-key error, which is not
retried) instead of conflicting.

Where: the `counters` collection, or the collection a caller names (`table`, unique on
(organization_id, key)) where its counters already live: the ledger's `journal_counters` (JE) and
invoicing's `invoice_counters` (INV, CN) keep their documents, so numbering simply goes on. The
collection is written with the driver (the ORM has no find-and-modify, and the new value must come
back in the same write).
"""

from __future__ import annotations

import pymongo
from bson import ObjectId
from django.db import DEFAULT_DB_ALIAS, connections
from pymongo.errors import DuplicateKeyError, OperationFailure

COLLECTION = "counters"
WRITE_CONFLICT = 112
_indexed: set[tuple[str, str]] = set()


def counter_key(organization_id, key: str, year: int) -> str:
    return f"{organization_id}:{key}-{int(year)}"


def _collection(table: str | None, using: str):
    connection = connections[using]
    collection = connection.database[table or COLLECTION]
    if table is None and (using, COLLECTION) not in _indexed:
        # The shared collection has no model: its unique key is made here, once per process.
        collection.create_index([("organization_id", 1), ("key", 1)], unique=True, name="counters_org_key_uniq")
        _indexed.add((using, COLLECTION))
    return collection


def _filter(organization_id, key: str, year: int) -> dict:
    return {"organization_id": ObjectId(str(organization_id)), "key": counter_key(organization_id, key, year)}


def counter_ensure(*, organization_id, key: str, year: int, table: str | None = None,
                   using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the counter if it does not exist (last number 0). Outside any transaction; idempotent.
    It only reads an existing counter: a write to it (even one changing nothing) would conflict with
    the transactions taking numbers from it right now."""
    collection = _collection(table, using)
    if collection.find_one(_filter(organization_id, key, year), {"_id": 1}) is not None:
        return
    try:
        collection.update_one(_filter(organization_id, key, year), {"$setOnInsert": {"last_number": 0}}, upsert=True)
    except DuplicateKeyError:
        pass  # created a moment ago by a concurrent caller
    except OperationFailure as exc:
        if exc.code != WRITE_CONFLICT:
            raise
        # Created a moment ago and already held by a transaction taking a number: it exists.


def counter_next(*, organization_id, key: str, year: int, count: int = 1, table: str | None = None,
                 using: str = DEFAULT_DB_ALIAS) -> int:
    """Take the next `count` numbers of the counter inside the caller's transaction; returns the last
    one taken (the numbers are last - count + 1 .. last). Outside a transaction it is one atomic write
    (and creates the counter if needed)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    connection = connections[using]
    in_transaction = bool(getattr(connection, "in_atomic_block_mongo", False))
    if not in_transaction:
        counter_ensure(organization_id=organization_id, key=key, year=year, table=table, using=using)
    counter = _collection(table, using).find_one_and_update(
        _filter(organization_id, key, year), {"$inc": {"last_number": int(count)}},
        return_document=pymongo.ReturnDocument.AFTER, session=connection.session if in_transaction else None)
    if counter is None:
        raise LookupError(f"counter {key}-{year} of {organization_id} does not exist: call counter_ensure() "
                          "before the transaction")
    return counter["last_number"]


def counter_last(*, organization_id, key: str, year: int, table: str | None = None,
                 using: str = DEFAULT_DB_ALIAS) -> int:
    """The last number taken (0 when none), as committed."""
    counter = _collection(table, using).find_one(_filter(organization_id, key, year), {"last_number": 1})
    return counter["last_number"] if counter else 0
