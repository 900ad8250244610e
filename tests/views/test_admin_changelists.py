"""Admin changelists read the objects their rows point at once per page, never once per row and never
by a join (issue 17): the page of a platform superuser (who also sees each row's organization) asks
the same queries for three rows as for nine, across two organizations, and none of them is a
`$lookup` (the embedded server joins every row of the collection before it filters)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditLogEntry, Role
from core.models import TaskRun
from ledger.models import JournalEntry
from ledger.services import journal_entry_create
from wallets.models import Cryptocurrency, Transaction

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def audit_rows(user, n):
    for k in range(n):
        AuditLogEntry.objects.create(action="probe", actor=user, actor_username=user.username,
                                     organization_id=user.organization_id, target_id=str(k))


def task_rows(user, n):
    for k in range(n):
        TaskRun.objects.create(name=f"probe {k}", organization_id=user.organization_id, triggered_by=user)


def entry_rows(user, n):
    for k in range(n):
        journal_entry_create(created_by=user, date=MOMENT + dt.timedelta(hours=k), description=f"probe {k}",
                             post=True, line_items=[{"account_code": "1110", "debit_amount": Decimal("1.25")},
                                                    {"account_code": "3100", "credit_amount": Decimal("1.25")}])


def transaction_rows(user, n):
    eth = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})[0]
    for k in range(n):
        Transaction.objects.create(transaction_type="BUY", user=user, organization_id=user.organization_id,
                                   cryptocurrency=eth, amount=Decimal("0.1"), usd_value=Decimal("300"),
                                   transaction_date=MOMENT + dt.timedelta(hours=k), source="import")


CHANGELISTS = {
    "audit log": (AuditLogEntry, audit_rows),
    "task runs": (TaskRun, task_rows),
    "journal entries": (JournalEntry, entry_rows),
    "transactions": (Transaction, transaction_rows),
}


@pytest.mark.parametrize("name", sorted(CHANGELISTS))
def test_a_changelist_asks_the_same_queries_for_more_rows(name, client, make_user, make_organization):
    model, make_rows = CHANGELISTS[name]
    root = make_user(role=Role.ADMIN, is_superuser=True, is_accountant=True)
    other = make_user(role=Role.ADMIN, is_accountant=True, organization=make_organization("Globex"))
    client.force_login(root)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    def page_queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    make_rows(root, 2)
    make_rows(other, 1)
    few = page_queries()
    make_rows(root, 3)
    make_rows(other, 3)
    many = page_queries()
    assert len(many) == len(few), "\n".join(many)
    table = model._meta.db_table
    assert not [q for q in many if q.startswith(f"db.{table}.aggregate") and "'$lookup'" in q]
    assert "Globex" in client.get(url).content.decode()  # the superuser's organization column, read by prefetch
