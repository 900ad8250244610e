"""Posting many entries at once (the automatic journals): consecutive gap-free numbers per year,
and nothing written when any entry of the batch is refused."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Role
from ledger import services
from ledger.models import JournalCounter, JournalEntry
from core.errors import DomainError, Forbidden

pytestmark = pytest.mark.django_db


def spec(day, amount="10", **extra):
    return {"date": day, "description": "batch", "source_key": extra.pop("source_key", None),
            "line_items": [{"account_code": "1110", "debit_amount": Decimal(amount)},
                           {"account_code": "3100", "credit_amount": Decimal(amount)}], **extra}


def test_numbers_are_consecutive_per_year_after_single_posts(make_user, chart):
    manager = make_user(role=Role.MANAGER)
    services.journal_entry_create(created_by=manager, post=True, **spec(dt.date(2026, 1, 5)))
    created = services.journal_entries_post_batch(created_by=manager, entries=[
        spec(dt.date(2026, 3, 1)), spec(dt.date(2025, 12, 30)), spec(dt.date(2026, 2, 1)), spec(dt.date(2025, 6, 1))])
    by_date = sorted((e.date.date(), e.entry_id) for e in created)
    # Numbered in date order within each year, after what the year already had.
    assert by_date == [(dt.date(2025, 6, 1), "JE-2025-000001"), (dt.date(2025, 12, 30), "JE-2025-000002"),
                       (dt.date(2026, 2, 1), "JE-2026-000002"), (dt.date(2026, 3, 1), "JE-2026-000003")]
    assert all(e.status == "posted" and e.posted_by == manager for e in created)
    nxt = services.journal_entry_create(created_by=manager, post=True, **spec(dt.date(2026, 4, 1)))
    assert nxt.entry_id == "JE-2026-000004"


@pytest.mark.parametrize("bad", [
    {"amount": "0"},                           # a rule: a line must be positive
    {"source_key": "taken"},                   # a source already booked
    {"date": dt.date(2024, 1, 1)},             # before the lock date
])
def test_one_refused_entry_writes_nothing(make_user, chart, bad):
    manager = make_user(role=Role.MANAGER)
    services.ledger_lock_date_set(actor=make_user(role=Role.ADMIN), lock_date=dt.date(2024, 12, 31))
    services.journal_entry_create(created_by=manager, post=True, **spec(dt.date(2026, 1, 5), source_key="taken"))
    before = (JournalEntry.objects.count(), JournalCounter.objects.get(key=f"{chart.pk}:JE-2026").last_number)
    day = bad.pop("date", dt.date(2026, 5, 1))
    with pytest.raises(DomainError):
        services.journal_entries_post_batch(created_by=manager, entries=[spec(dt.date(2026, 5, 1)), spec(day, **bad)])
    assert (JournalEntry.objects.count(), JournalCounter.objects.get(key=f"{chart.pk}:JE-2026").last_number) == before


@pytest.mark.parametrize("fields", [{}, {"is_accountant": True}])
def test_only_managers_and_admins_post(make_user, chart, fields):
    with pytest.raises(DomainError) as refused:
        services.journal_entries_post_batch(created_by=make_user(**fields), entries=[spec(dt.date(2026, 5, 1))])
    assert isinstance(refused.value, Forbidden) and not JournalEntry.objects.exists()


def test_the_system_posts_for_the_organization_it_names(make_organization, chart):
    from accounts.services import system_user_get

    other = make_organization("Other")
    system = system_user_get()
    with pytest.raises(ValueError):  # automatic work always names its organization
        services.journal_entries_post_batch(created_by=system, entries=[spec(dt.date(2026, 5, 1))])
    created = services.journal_entries_post_batch(created_by=system, organization_id=other.pk,
                                                  entries=[spec(dt.date(2026, 5, 1))])
    assert created[0].organization_id == other.pk and created[0].entry_id == "JE-2026-000001"
    assert not JournalEntry.objects.filter(organization=chart).exists()
