"""Entry numbers are unique and gap-free per year, even when several threads post at once, and a
failed post leaves no gap."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections

from accounts.models import Role
from ledger import services
from ledger.models import JournalCounter, JournalEntry
from core.errors import DomainError

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 4
ENTRIES_PER_THREAD = 5


def _draft(user, day=dt.date(2026, 5, 1), amount="10"):
    return services.journal_entry_create(
        created_by=user, date=day, description="concurrent",
        line_items=[{"account_code": "1110", "debit_amount": Decimal(amount)},
                    {"account_code": "3100", "credit_amount": Decimal(amount)}])


def test_concurrent_posts_get_exactly_one_to_n(make_user, chart):
    manager = make_user(role=Role.MANAGER)
    drafts = [_draft(manager) for _ in range(THREADS * ENTRIES_PER_THREAD)]
    errors, barrier = [], threading.Barrier(THREADS)

    def worker(chunk):
        try:
            barrier.wait(timeout=30)
            for entry in chunk:
                services.journal_entry_post(entry=JournalEntry.objects.get(pk=entry.pk), actor=manager)
        except Exception as exc:  # reported below: an assert in a thread would be lost
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=worker, args=(drafts[i::THREADS],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    numbers = sorted(JournalEntry.objects.values_list("entry_id", flat=True))
    assert numbers == [f"JE-2026-{n:06d}" for n in range(1, len(drafts) + 1)]
    assert JournalCounter.objects.get(organization=chart, key=f"{chart.pk}:JE-2026").last_number == len(drafts)
    assert set(JournalEntry.objects.values_list("status", flat=True)) == {"posted"}


def test_a_failed_post_leaves_no_gap(make_user, chart):
    manager = make_user(role=Role.MANAGER)
    first, second, third = (_draft(manager) for _ in range(3))
    services.journal_entry_post(entry=first, actor=manager)
    # Someone posts `second` while we still hold the stale draft: our post fails inside the transaction.
    stale = JournalEntry.objects.get(pk=second.pk)
    services.journal_entry_post(entry=second, actor=manager)
    assert stale.status == "draft"  # in memory: only the conditional write inside the transaction refuses it
    with pytest.raises(DomainError) as refused:
        services.journal_entry_post(entry=stale, actor=manager)
    assert refused.value.code == "entry_not_draft"
    assert JournalCounter.objects.get(key=f"{chart.pk}:JE-2026").last_number == 2  # the number it took was rolled back
    services.journal_entry_post(entry=third, actor=manager)
    assert sorted(JournalEntry.objects.values_list("entry_id", flat=True)) == [
        "JE-2026-000001", "JE-2026-000002", "JE-2026-000003"]


def test_numbers_restart_each_year_from_the_entry_date(make_user, chart):
    manager = make_user(role=Role.MANAGER)
    services.journal_entry_post(entry=_draft(manager, dt.date(2025, 12, 31)), actor=manager)
    services.journal_entry_post(entry=_draft(manager, dt.date(2026, 1, 1)), actor=manager)
    services.journal_entry_post(entry=_draft(manager, dt.date(2025, 6, 1)), actor=manager)
    assert sorted(JournalEntry.objects.values_list("entry_id", flat=True)) == [
        "JE-2025-000001", "JE-2025-000002", "JE-2026-000001"]


def test_a_post_blocked_by_a_write_conflict_is_retried_and_leaves_no_gap(make_user, chart, caplog):
    """Another transaction holds the year's counter (took a number, not committed): our post meets
    a WriteConflict, retries, and once the other one aborts it gets number 1."""
    caplog.set_level("INFO", logger="core.transactions")  # the one transaction helper logs the retry
    manager = make_user(role=Role.MANAGER)
    entry = _draft(manager)
    JournalCounter.objects.create(organization=chart, key=f"{chart.pk}:JE-2026")
    connection = connections["default"]
    connection.ensure_connection()
    holder = connection.connection.start_session()
    holder.start_transaction()
    connection.database["journal_counters"].update_one({"key": f"{chart.pk}:JE-2026"}, {"$inc": {"last_number": 1}},
                                                       session=holder)
    release = threading.Timer(0.3, lambda: (holder.abort_transaction(), holder.end_session()))
    release.start()
    try:
        services.journal_entry_post(entry=entry, actor=manager)
    finally:
        release.join()
    assert any("transaction conflict" in record.getMessage() for record in caplog.records)
    entry.refresh_from_db()
    assert entry.entry_id == "JE-2026-000001" and entry.status == "posted"


def test_two_organizations_number_concurrently_each_from_one(make_user, make_organization, chart):
    """Both organizations post at the same time: each gets JE-2026-000001..N, no gaps, no shared
    counter (their counters are separate documents)."""
    other = make_organization("Other")
    managers = {chart.pk: make_user(role=Role.MANAGER), other.pk: make_user(role=Role.MANAGER, organization=other)}
    per_organization = 6
    drafts = [(_draft(manager), manager) for manager in managers.values() for _ in range(per_organization)]
    errors, barrier = [], threading.Barrier(THREADS)

    def worker(chunk):
        try:
            barrier.wait(timeout=30)
            for entry, manager in chunk:
                services.journal_entry_post(entry=JournalEntry.objects.get(pk=entry.pk), actor=manager)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(drafts[i::THREADS],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    expected = [f"JE-2026-{n:06d}" for n in range(1, per_organization + 1)]
    for organization_id in managers:
        numbers = sorted(JournalEntry.objects.filter(organization_id=organization_id)
                         .values_list("entry_id", flat=True))
        assert numbers == expected
        assert JournalCounter.objects.get(organization_id=organization_id,
                                          key=f"{organization_id}:JE-2026").last_number == per_organization
