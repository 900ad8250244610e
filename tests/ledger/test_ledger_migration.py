"""ledger/0003_organizations: the books written before organizations existed (documents in the old
shape: no organization, installation-wide counter keys, "auto:<user>:" source keys, the lock date in
a `ledger_settings` document) move into the oldest organization, and the books keep working there."""

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from bson import Decimal128, ObjectId
from django.apps import apps
from django.db import connection

from core.errors import Conflict, ErrorCode
from core.models import Organization
from ledger import services
from ledger.models import FinancialAccount, JournalCounter, JournalEntry

pytestmark = pytest.mark.django_db

migration = importlib.import_module("ledger.migrations.0003_organizations")


def _run():
    migration.move_ledger_into_one_organization(apps, SimpleNamespace(connection=connection))


@pytest.fixture
def old_books(db):
    """The oldest organization (as accounts/0004 made it: no chart), a newer one, and the ledger's
    documents in the old shape."""
    from accounts.models import Role, User

    oldest = Organization.objects.create(name="Old Co")
    newer = Organization.objects.create(name="Newer")
    boss = User.objects.create(username="boss", email="boss@example.test", role=Role.ADMIN, organization=oldest)
    database = connection.database
    database["financial_accounts"].insert_many([
        {"account_code": code, "account_name": name, "account_type": kind, "parent_account": "", "description": "",
         "is_active": True, "currency": "USD", "system_key": key}
        for code, name, kind, key in (("1110", "Cash", "asset", "cash"), ("3100", "Capital", "equity", "equity"),
                                      ("1200-ETH", "Crypto asset ETH", "asset", "crypto:ETH"))])
    line = {"account_code": "1110", "description": "", "debit_amount": Decimal128("5"),
            "credit_amount": Decimal128("0"), "asset": "", "quantity": None}
    other_line = {**line, "account_code": "3100", "debit_amount": Decimal128("0"), "credit_amount": Decimal128("5")}
    database["journal_entries"].insert_many([
        {"entry_id": "JE-2026-000001", "date": dt.datetime(2026, 3, 1), "description": "old auto", "reference": "",
         "transaction_hash": "", "source_key": f"auto:{boss.pk}:tx:{ObjectId()}#1", "status": "posted",
         "currency": "USD", "line_items": [line, other_line], "total_debit": Decimal128("5"),
         "total_credit": Decimal128("5"), "created_by_id": boss.pk, "posted_by_id": boss.pk},
        {"entry_id": None, "date": dt.datetime(2026, 3, 2), "description": "old draft", "reference": "",
         "transaction_hash": "", "source_key": None, "status": "draft", "currency": "USD",
         "line_items": [line, other_line], "total_debit": Decimal128("5"), "total_credit": Decimal128("5"),
         "created_by_id": boss.pk},
    ])
    database["journal_counters"].insert_many([{"key": "JE-2026", "last_number": 1},
                                              {"key": "chart-tree", "last_number": 4}])
    database[migration.SETTINGS_COLLECTION].insert_one({"key": "default", "lock_date": dt.datetime(2025, 12, 31)})
    yield SimpleNamespace(oldest=oldest, newer=newer, boss=boss)
    database.drop_collection(migration.SETTINGS_COLLECTION)


def test_everything_moves_into_the_oldest_organization(old_books):
    oldest, newer, boss = old_books.oldest, old_books.newer, old_books.boss
    _run()
    assert set(FinancialAccount.objects.values_list("organization_id", flat=True)) == {oldest.pk}
    assert FinancialAccount.objects.filter(organization=oldest).count() == 3
    entries = {e.description: e for e in JournalEntry.objects.filter(organization=oldest)}
    assert set(entries) == {"old auto", "old draft"} and JournalEntry.objects.count() == 2
    assert entries["old auto"].source_key.startswith(f"auto:{oldest.pk}:tx:")  # was auto:<user id>:
    assert entries["old draft"].source_key is None
    counters = {c.key: c.last_number for c in JournalCounter.objects.filter(organization=oldest)}
    assert counters == {f"{oldest.pk}:JE-2026": 1, f"{oldest.pk}:chart-tree": 4}
    oldest.refresh_from_db()
    newer.refresh_from_db()
    assert oldest.lock_date == dt.date(2025, 12, 31) and newer.lock_date is None
    assert not FinancialAccount.objects.filter(organization=newer).exists()
    # Idempotent: a second run changes nothing.
    snapshot = sorted((e.pk, e.organization_id, e.source_key) for e in JournalEntry.objects.all())
    _run()
    assert sorted((e.pk, e.organization_id, e.source_key) for e in JournalEntry.objects.all()) == snapshot
    assert JournalCounter.objects.count() == 2


def test_the_moved_books_keep_numbering_where_they_were(old_books):
    from accounts.models import Role, User

    _run()
    services.chart_of_accounts_ensure_all()  # what post_migrate does next: the rest of the default chart
    assert FinancialAccount.objects.get(organization=old_books.oldest, system_key="cash").account_name == "Cash"
    assert FinancialAccount.objects.filter(organization=old_books.newer).count() == len(services.DEFAULT_CHART)
    manager = User.objects.create(username="mgr", email="mgr@example.test", role=Role.MANAGER,
                                  organization=old_books.oldest)
    draft = JournalEntry.objects.get(description="old draft")
    services.journal_entry_post(entry=draft, actor=manager)
    assert draft.entry_id == "JE-2026-000002"  # after the old counter's 1, no gap
    other_manager = User.objects.create(username="mgr2", email="mgr2@example.test", role=Role.MANAGER,
                                        organization=old_books.newer)
    first = services.journal_entry_create(
        created_by=other_manager, date=dt.date(2026, 3, 5), description="newer's first", post=True,
        line_items=[{"account_code": "1110", "debit_amount": 1}, {"account_code": "3100", "credit_amount": 1}])
    assert first.entry_id == "JE-2026-000001"  # its own numbering
    with pytest.raises(Conflict) as locked:  # the moved lock date holds in the oldest organization
        services.journal_entry_create(
            created_by=manager, date=dt.date(2025, 6, 1), description="too early",
            line_items=[{"account_code": "1110", "debit_amount": 1}, {"account_code": "3100", "credit_amount": 1}])
    assert locked.value.code == ErrorCode.PERIOD_LOCKED


def test_without_any_organization_an_unused_chart_is_dropped(db):
    database = connection.database
    database["financial_accounts"].insert_one({"account_code": "1110", "account_name": "Cash", "account_type": "asset",
                                               "parent_account": "", "currency": "USD", "is_active": True,
                                               "system_key": "cash"})
    database["journal_counters"].insert_one({"key": "chart-tree", "last_number": 0})
    _run()
    assert not FinancialAccount.objects.exists() and not JournalCounter.objects.exists()
    assert not Organization.objects.exists()
