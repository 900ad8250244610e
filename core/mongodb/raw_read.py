"""A queryset's documents read straight from the driver, for reads too large for model instances.

Turning a stored document into a model instance goes through the backend's per-field converters and
Django's model construction: at 13k transactions that was two thirds of a tax report's history read,
the server's scan one third (issue 17, bench/tax_report.py). `queryset_documents` compiles the
queryset's filter with the backend's own compiler (so tenancy scoping, `none()` and every lookup mean
exactly what they mean to the ORM), then asks the collection for the matching documents, whole and
unsorted (any ordering is dropped). Querysets the driver's `find` cannot answer alone
(joins, subqueries, unions, annotations, slicing) are refused: they belong to the ORM.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator

from bson.decimal128 import Decimal128
from bson.int64 import Int64
from django.core.exceptions import EmptyResultSet
from django.db import connections, models

from core.mongodb.decimals import decimal128_to_decimal


def queryset_documents(queryset, *, batch_size: int = 20000) -> Iterator[dict]:
    """The whole documents `queryset` selects, as the driver decodes them, in no particular order."""
    query = queryset.query
    if query.low_mark or query.high_mark is not None or query.annotations or query.combinator:
        raise ValueError("queryset_documents reads a plain filtered queryset (no slice, annotation or union)")
    query = queryset.order_by().query  # the documents come unsorted: an ordering would only cost a sort
    try:
        built = query.get_compiler(using=queryset.db).build_query()
    except EmptyResultSet:  # .none(), or a filter nothing can match
        return iter(())
    if built.lookup_pipeline or built.subqueries or built.aggregation_pipeline:
        raise ValueError("queryset_documents cannot follow joins or subqueries; filter on the model's own fields")
    connection = connections[queryset.db]
    collection = connection.database.get_collection(queryset.model._meta.db_table)
    match = built.match_mql or {}
    # A plain find of whole documents: the embedded server is slowest at projecting (a `$project`
    # stage cost more than the scan, measured at 13k rows), so unread fields are dropped here.
    # The connection's session: inside atomic() the read sees the transaction's own writes.
    started = time.monotonic()
    cursor = collection.find(match, batch_size=batch_size, session=connection.session)
    try:
        first = cursor.next()  # the first batch: the round trip the log records
    except StopIteration:
        first = None
    if connection.queries_logged:  # the backend's query log, which tests count round trips with
        connection.queries_log.append({"sql": f"db.{collection.name}.find({match!r})",
                                       "time": f"{time.monotonic() - started:.3f}"})
    return _documents(first, cursor)


def _documents(first, cursor) -> Iterator[dict]:
    if first is None:
        return
    yield first
    yield from cursor


class FieldReader:
    """How the fields of one model come out of its raw documents: the same values the backend's
    converters give a model instance (Decimal128 -> Decimal, Int64 -> int, naive UTC -> aware UTC, a
    missing key -> None), under the fields' attribute names (`_id` -> the primary key's)."""

    def __init__(self, model, field_names: Iterable[str]):
        fields = [model._meta.get_field(name) for name in field_names]
        pk = model._meta.pk
        if pk not in fields:
            fields.insert(0, pk)
        self.columns = [field.column for field in fields]
        read = set(self.columns)
        self.unread = [field.column for field in model._meta.concrete_fields if field.column not in read]
        self.renamed = [(field.column, field.attname) for field in fields if field.column != field.attname]
        self.attnames = [field.attname for field in fields]
        self.decimals = [field.attname for field in fields if isinstance(field, models.DecimalField)]
        self.moments = [field.attname for field in fields if isinstance(field, models.DateTimeField)]
        self.integers = [field.attname for field in fields if isinstance(field, models.IntegerField)]

    def values(self, document: dict) -> dict:
        """`document` (consumed) as {attname: value}, the fields not asked for dropped."""
        for column in self.unread:
            document.pop(column, None)
        for column, attname in self.renamed:
            document[attname] = document.pop(column, None)
        for attname in self.attnames:
            if attname not in document:
                document[attname] = None
        for attname in self.decimals:
            value = document[attname]
            if type(value) is Decimal128:
                document[attname] = decimal128_to_decimal(value)
        for attname in self.integers:
            value = document[attname]
            if type(value) is Int64:  # what the driver gives a large stored integer; a model has int
                document[attname] = int(value)
        for attname in self.moments:
            value = document[attname]
            if value is not None and value.tzinfo is None:
                document[attname] = value.replace(tzinfo=dt.timezone.utc)
        return document
