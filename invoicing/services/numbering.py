"""Invoice numbers: INV-<year>-<000042> (credit notes CN-<year>-<000042>), gap-free per organization,
series and year, given when an invoice leaves DRAFT. The approach of ledger.services.numbering: a
counter document per organization, series and year ("<organization id>:INV-2026"), created before
the issuing transaction and incremented with a raw $inc inside it, so a failed issue rolls its
number back with everything else, and two issues at once in one organization conflict
(WriteConflict) and one is retried from the start. Organizations never share a counter."""

from __future__ import annotations

import pymongo
from bson import ObjectId
from django.db import DEFAULT_DB_ALIAS, connections

from invoicing.models import InvoiceCounter

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"


def counter_key(organization_id, series: str, year: int) -> str:
    return f"{organization_id}:{series}-{year}"


def counter_ensure(organization_id, series: str, year: int) -> None:
    # Before the transaction: two first issues of a year inserting the same counter inside
    # transactions would fail with a duplicate key instead of a retryable conflict.
    InvoiceCounter.objects.get_or_create(organization_id=organization_id,
                                         key=counter_key(organization_id, series, year))


def next_number(organization_id, series: str, year: int) -> str:
    """Take the organization's next number of the series and year; must run inside the issuing transaction."""
    connection = connections[DEFAULT_DB_ALIAS]
    counter = connection.database[InvoiceCounter._meta.db_table].find_one_and_update(
        {"organization_id": ObjectId(str(organization_id)), "key": counter_key(organization_id, series, year)},
        {"$inc": {"last_number": 1}}, return_document=pymongo.ReturnDocument.AFTER, session=connection.session)
    return f"{series}-{year}-{counter['last_number']:06d}"
