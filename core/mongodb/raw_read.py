"""A queryset's documents read straight from the driver, for reads too large for model instances.

Turning a stored document into a model instance goes through the backend's per-field converters and
Django's model construction: at 13k transactions that was two thirds of a tax report's history read,
the server's scan one third (issue 17, bench/tax_report.py). `queryset_documents` compiles the
queryset's filter with the backend's own compiler (so tenancy scoping, `none()` and every lookup mean
exactly what they mean to the ORM), then asks the collection for the matching documents, whole and
unsorted (any ordering is dropped), sending first the part of the filter one index serves. Querysets
the driver's `find` cannot answer alone (joins, subqueries, unions, annotations, slicing) are refused:
they belong to the ORM. `queryset_documents_read_ahead` reads several querysets in turn, the next one
in a thread while the caller works on the last.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from bson.decimal128 import Decimal128
from bson.int64 import Int64
from django.core.exceptions import EmptyResultSet
from django.db import connections, models

from core.mongodb.compiler import model_index_keys
from core.mongodb.decimals import decimal128_to_decimal
from core.mongodb.match_shape import split_index_served


@dataclass
class DocumentsQuery:
    """One compiled read of whole documents: a `find` of `match`, or, when one index serves only part
    of it, `$match` on that part then `$match` on the rest (core.mongodb.match_shape: the embedded
    server otherwise filters every row of the organization). Safe to run in another thread: it holds
    only driver objects."""

    collection: Any
    match: dict
    residual: dict | None
    session: Any

    def cursor(self, batch_size: int):
        if self.residual is None:
            return self.collection.find(self.match, batch_size=batch_size, session=self.session)
        return self.collection.aggregate([{"$match": self.match}, {"$match": self.residual}],
                                         batchSize=batch_size, session=self.session)

    def describe(self) -> str:
        if self.residual is None:
            return f"db.{self.collection.name}.find({self.match!r})"
        return f"db.{self.collection.name}.aggregate([{{'$match': {self.match!r}}}, {{'$match': {self.residual!r}}}])"


def documents_query(queryset) -> DocumentsQuery | None:
    """`queryset`'s filter compiled by the backend's own compiler (tenancy scoping and every lookup mean
    what they mean to the ORM), as a read of whole documents, unsorted; None when nothing can match."""
    query = queryset.query
    if query.low_mark or query.high_mark is not None or query.annotations or query.combinator:
        raise ValueError("queryset_documents reads a plain filtered queryset (no slice, annotation or union)")
    query = queryset.order_by().query  # the documents come unsorted: an ordering would only cost a sort
    try:
        built = query.get_compiler(using=queryset.db).build_query()
    except EmptyResultSet:  # .none(), or a filter nothing can match
        return None
    if built.lookup_pipeline or built.subqueries or built.aggregation_pipeline:
        raise ValueError("queryset_documents cannot follow joins or subqueries; filter on the model's own fields")
    connection = connections[queryset.db]
    match = built.match_mql or {}
    served, residual = split_index_served(match, *model_index_keys(queryset.model))
    # The connection's session: inside atomic() the read sees the transaction's own writes.
    return DocumentsQuery(connection.database.get_collection(queryset.model._meta.db_table), served, residual,
                          connection.session)


def _log(queryset, read: DocumentsQuery, seconds: float) -> None:
    connection = connections[queryset.db]
    if connection.queries_logged:  # the backend's query log, which tests count round trips with
        connection.queries_log.append({"sql": read.describe(), "time": f"{seconds:.3f}"})


def queryset_documents(queryset, *, batch_size: int = 20000) -> Iterator[dict]:
    """The whole documents `queryset` selects, as the driver decodes them, in no particular order."""
    read = documents_query(queryset)
    if read is None:
        return iter(())
    # Whole documents: the embedded server is slowest at projecting (a `$project` stage cost more
    # than the scan, measured at 13k rows), so the reader drops the fields it does not want.
    started = time.monotonic()
    cursor = read.cursor(batch_size)
    try:
        first = cursor.next()  # the first batch: the round trip the log records
    except StopIteration:
        first = None
    _log(queryset, read, time.monotonic() - started)
    return _documents(first, cursor)


def _documents(first, cursor) -> Iterator[dict]:
    if first is None:
        return
    yield first
    yield from cursor


def queryset_documents_read_ahead(querysets: Iterable, *, batch_size: int = 5000) -> Iterator[list[dict]]:
    """The documents of each of `querysets` in turn, one list per queryset, while a thread already
    reads the next one: the server (its own process) works while the caller turns the last list into
    something. At most three lists are alive at once (the caller's, one waiting, one being read).
    Inside a transaction (a session, which one thread at a time may use) the reads run in turn here.
    Smaller batches than a whole read's: the driver holds a batch's encoded bytes while it decodes them."""
    reads = [(queryset, documents_query(queryset)) for queryset in querysets]

    def fetch(read: DocumentsQuery | None) -> tuple[list[dict], float]:
        started = time.monotonic()
        documents = list(read.cursor(batch_size)) if read is not None else []
        return documents, time.monotonic() - started

    if any(read is not None and read.session is not None for _, read in reads):
        for queryset, read in reads:
            documents, seconds = fetch(read)
            if read is not None:
                _log(queryset, read, seconds)
            yield documents
        return
    done = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce():
        for _, read in reads:
            if stop.is_set():
                return
            try:
                item = fetch(read)
            except Exception as exc:  # handed to the caller's thread, raised there
                item = exc
            while not stop.is_set():
                try:
                    done.put(item, timeout=0.5)
                    break
                except queue.Full:
                    continue
            if isinstance(item, Exception):
                return

    worker = threading.Thread(target=produce, name="documents-read-ahead", daemon=True)
    worker.start()
    try:
        for queryset, read in reads:
            item = done.get()
            if isinstance(item, Exception):
                raise item
            documents, seconds = item
            if read is not None:
                _log(queryset, read, seconds)
            yield documents
    finally:
        stop.set()
        worker.join()


class FieldReader:
    """How the fields of one model come out of its raw documents: the same values the backend's
    converters give a model instance (Decimal128 -> Decimal, Int64 -> int, naive UTC -> aware UTC, a
    missing key -> None), under the fields' attribute names (`_id` -> the primary key's)."""

    def __init__(self, model, field_names: Iterable[str]):
        fields = [model._meta.get_field(name) for name in field_names]
        pk = model._meta.pk
        if pk not in fields:
            fields.insert(0, pk)
        self.pairs = [(field.column, field.attname) for field in fields]
        self.decimals = [field.attname for field in fields if isinstance(field, models.DecimalField)]
        self.moments = [field.attname for field in fields if isinstance(field, models.DateTimeField)]
        self.integers = [field.attname for field in fields if isinstance(field, models.IntegerField)]

    def values(self, document: dict) -> dict:
        """`document` as {attname: value}, the fields not asked for left out. A new dict of the read
        fields only: popping the unread ones from the document cost twice as much."""
        get = document.get
        row = {attname: get(column) for column, attname in self.pairs}
        for attname in self.decimals:
            value = row[attname]
            if type(value) is Decimal128:
                row[attname] = decimal128_to_decimal(value)
        for attname in self.integers:
            value = row[attname]
            if type(value) is Int64:  # what the driver gives a large stored integer; a model has int
                row[attname] = int(value)
        for attname in self.moments:
            value = row[attname]
            if value is not None and value.tzinfo is None:
                row[attname] = value.replace(tzinfo=dt.timezone.utc)
        return row
