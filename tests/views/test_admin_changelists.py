"""Admin changelists read the objects their rows point at once per page, never once per row and never
by a join (issue 17): the page of a platform superuser (who also sees each row's organization) asks
the same queries for three rows as for nine, across two organizations, and none of them is a
`$lookup` (the embedded server joins every row of the collection before it filters)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib import admin
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


def _page_ids(client, url, **params) -> list[str]:
    """The ids the page's rows link to, in order."""
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return list(dict.fromkeys(re.findall(rf'href="{re.escape(url)}([0-9a-f]{{24}})/change/', response.content.decode())))


def _ordinary(monkeypatch, model):
    """The same admin without the window: Django's own count and slice."""
    monkeypatch.setattr(admin.site._registry[model], "time_window_owner", lambda request: None)


@pytest.mark.parametrize("name", sorted(CHANGELISTS))
@pytest.mark.parametrize("superuser", [False, True], ids=["staff", "platform superuser"])
def test_a_windowed_page_holds_what_the_ordinary_page_holds(name, superuser, client, make_user, make_organization,
                                                            monkeypatch):
    """Newest first, a page of a time-indexed list is a window of the day counts (core.windows), counted
    from them when nothing narrows it; every page, filtered or not, holds the rows Django's own
    count-and-slice shows, in the same order."""
    model, make_rows = CHANGELISTS[name]
    admin_user = make_user(role=Role.ADMIN, is_superuser=superuser, is_accountant=True)
    other = make_user(role=Role.ADMIN, is_accountant=True, organization=make_organization("Globex"))
    make_rows(admin_user, 7)
    make_rows(other, 4)
    client.force_login(admin_user)
    monkeypatch.setattr(admin.site._registry[model], "list_per_page", 3)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    pages = [{}, {"p": 2}, {"p": 3}]
    with CaptureQueriesContext(connection) as captured:
        windowed = [_page_ids(client, url, **page) for page in pages]
    assert not [q["sql"] for q in captured.captured_queries
                if f"db.{model._meta.db_table}.aggregate" in q["sql"] and "count" in q["sql"].lower()]
    first = client.get(url).content.decode()
    _ordinary(monkeypatch, model)
    ordinary = [_page_ids(client, url, **page) for page in pages]
    assert windowed == ordinary and len(windowed[0]) == 3
    visible = model.objects.all() if superuser else model.objects.filter(organization_id=admin_user.organization_id)
    seen = [pk for page in windowed for pk in page]
    assert len(set(seen)) == len(seen) == min(9, visible.count())
    # The same count either way (under the pages: "N <verbose name plural>").
    plural = re.escape(str(model._meta.verbose_name_plural))
    counted = set(re.findall(rf"(\d+)\s+{plural}", client.get(url).content.decode()))
    assert counted == {str(visible.count())} and set(re.findall(rf"(\d+)\s+{plural}", first)) == counted


def test_a_stale_or_missing_day_count_costs_a_wider_read_never_a_row(client, make_user, monkeypatch):
    """The counts only place the window: with the day counts wiped the page still holds the newest rows,
    an old row included."""
    from core.time_index import COLLECTION

    staff = make_user(role=Role.ADMIN, is_accountant=True)
    transaction_rows(staff, 2)
    eth = Cryptocurrency.objects.get(symbol="ETH")
    old = Transaction.objects.create(transaction_type="BUY", user=staff, organization_id=staff.organization_id,
                                     cryptocurrency=eth, amount=Decimal("1"), usd_value=Decimal("3"),
                                     transaction_date=MOMENT - dt.timedelta(days=900), source="import")
    connection.get_collection(COLLECTION).delete_many({"s": "transactions"})
    client.force_login(staff)
    monkeypatch.setattr(admin.site._registry[Transaction], "list_per_page", 3)
    ids = _page_ids(client, reverse("admin:wallets_transaction_changelist"))
    assert len(ids) == 3 and ids[-1] == str(old.pk)


def test_a_page_past_the_end_is_refused_like_djangos(client, make_user):
    staff = make_user(role=Role.ADMIN, is_accountant=True)
    transaction_rows(staff, 2)
    client.force_login(staff)
    for page in (9, 0, -1, "9" * 25):  # the last one's offset would overflow the database's skip
        response = client.get(reverse("admin:wallets_transaction_changelist"), {"p": page})
        assert response.status_code == 302 and "e=1" in response["Location"], page


@pytest.mark.parametrize("name, field", [("audit log", "action"), ("task runs", "name"),
                                         ("journal entries", "currency")])
def test_a_filter_on_a_field_without_choices_reads_no_distinct_values(name, field, client, make_user):
    """Django's default filter for such a field lists every distinct value on every page (the whole
    collection read on the embedded server); here it is a box for the exact value, and it filters."""
    model, make_rows = CHANGELISTS[name]
    staff = make_user(role=Role.ADMIN, is_accountant=True)
    make_rows(staff, 3)
    client.force_login(staff)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    table = model._meta.db_table
    assert not [q["sql"] for q in captured.captured_queries
                if q["sql"].startswith(f"db.{table}.aggregate") and "'$group'" in q["sql"]]
    value = getattr(model.objects.filter(organization_id=staff.organization_id).first(), field)
    shown = _page_ids(client, url, **{field: value})
    expected = model.objects.filter(organization_id=staff.organization_id, **{field: value})
    assert sorted(shown) == sorted(str(pk) for pk in expected.values_list("pk", flat=True))
    assert _page_ids(client, url, **{field: "no-such-value"}) == []
