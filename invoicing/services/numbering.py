"""Invoice numbers: INV-<year>-<000042> (credit notes CN-<year>-<000042>), gap-free per organization,
series and year, given when an invoice leaves DRAFT. They come from the one gap-free counter
(core.counters, key "INV" or "CN" per organization and year, its documents kept in this app's
invoice_counters collection: "<organization id>:INV-2026"): ensured before the issuing transaction
and incremented inside it, so a failed issue rolls its number back with everything else, and two
issues at once in one organization conflict (WriteConflict) and one is retried from the start.
Organizations never share a counter."""

from __future__ import annotations

from core import counters
from invoicing.models import InvoiceCounter

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"
TABLE = InvoiceCounter._meta.db_table


def counter_key(organization_id, series: str, year: int) -> str:
    return counters.counter_key(organization_id, series, year)


def counter_ensure(organization_id, series: str, year: int) -> None:
    """Before the transaction (core.counters.counter_ensure)."""
    counters.counter_ensure(organization_id=organization_id, key=series, year=year, table=TABLE)


def next_number(organization_id, series: str, year: int) -> str:
    """Take the organization's next number of the series and year; must run inside the issuing transaction."""
    number = counters.counter_next(organization_id=organization_id, key=series, year=year, table=TABLE)
    return f"{series}-{year}-{number:06d}"
