"""The journal sync's change marks (ledger.books_inputs, core.change_marks): a periodic sync with
nothing to do reads the small marks collection and none of the data; each input that moves (a
transaction, a daily price, the organization's settings) makes the next sync run in full; a sync
older than a day runs in full regardless."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import change_marks
from core.models import Organization
from ledger.transaction_journals import (SYNC_CONSUMER, transaction_journals_sync,
                                         transaction_journals_sync_all)
from wallets.models import Transaction
from wallets.prices import price_record
from wallets.services.transactions import transaction_update

pytestmark = pytest.mark.django_db


def _periodic():
    return transaction_journals_sync_all(only_if_changed=True)


def test_nothing_changed_reads_no_data(taxpayer):
    first = _periodic()  # the import's own sync already ran: its marks were recorded
    assert first["organizations"] == 1 and first["unchanged"] == 1 and first["created"] == 0
    with CaptureQueriesContext(connection) as queries:
        report = transaction_journals_sync(user=taxpayer, only_if_changed=True)
    read = " ".join(query["sql"] for query in queries.captured_queries)
    assert "transactions" not in read and "journal_entries" not in read and "price_quotes" not in read
    assert report.nothing_changed and (report.created, report.unchanged) == (0, 0)


def _marks(organization_id):
    seen, _ = change_marks.seen_get(organization_id=organization_id, consumer=SYNC_CONSUMER)
    return seen


def test_each_input_makes_the_next_sync_run(taxpayer):
    assert _periodic()["unchanged"] == 1
    before = _marks(taxpayer.organization_id)
    row = Transaction.objects.filter(user=taxpayer).order_by("transaction_date").first()
    transaction_update(actor=taxpayer, transaction=row, description="first buy, renamed")
    # The edit moved the transactions mark, and the sync it queued booked it and recorded the marks.
    after = _marks(taxpayer.organization_id)
    key = f"{taxpayer.organization_id}:transactions"
    assert after[key] == before[key] + 1
    assert _periodic()["unchanged"] == 1
    # Had that sync been lost (a worker died), the periodic one runs because the marks moved.
    change_marks.seen_record(organization_id=taxpayer.organization_id, consumer=SYNC_CONSUMER, marks=before)
    catch_up = transaction_journals_sync(user=taxpayer, only_if_changed=True)
    assert not catch_up.nothing_changed and catch_up.unchanged == 7
    assert _periodic()["unchanged"] == 1

    price_record(symbol="ETH", price=Decimal("2000"), day=dt.date(2021, 1, 1), source="demo")  # shared daily price
    assert _periodic()["unchanged"] == 0
    assert _periodic()["unchanged"] == 1
    price_record(symbol="ETH", price=Decimal("2100"), source="coingecko")  # latest quote: left to the daily pass
    assert _periodic()["unchanged"] == 1

    organization = Organization.objects.get(pk=taxpayer.organization_id)
    organization.cost_basis_method = "lifo"
    organization.save()
    changed = transaction_journals_sync(user=taxpayer, only_if_changed=True)
    assert not changed.nothing_changed and changed.reversed > 0  # LIFO moved the cost of the sales


def test_a_day_old_sync_runs_in_full(taxpayer):
    assert _periodic()["unchanged"] == 1
    marks, _ = change_marks.seen_get(organization_id=taxpayer.organization_id, consumer=SYNC_CONSUMER)
    change_marks.seen_record(organization_id=taxpayer.organization_id, consumer=SYNC_CONSUMER, marks=marks)
    change_marks._collection().update_one(
        {"_id": f"{taxpayer.organization_id}:seen:{SYNC_CONSUMER}"},
        {"$set": {"at": timezone.now() - dt.timedelta(hours=25)}})
    report = transaction_journals_sync(user=taxpayer, only_if_changed=True)
    assert not report.nothing_changed and report.unchanged == 7


def test_the_daily_pass_syncs_every_organization_in_full(taxpayer):
    totals = transaction_journals_sync_all()
    assert totals["organizations"] == 1 and totals["unchanged"] == 0
