"""List endpoints do not grow their queries with their rows."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payroll import services
from tests.payroll.conftest import JANUARY

pytestmark = pytest.mark.django_db


def _count(api, path):
    with CaptureQueriesContext(connection) as queries:
        response = api("GET", path)
    assert response.status_code == 200
    return len(queries), len(response.json().get("items", response.json().get("payslips", [])))


def test_payslip_and_period_lists_take_the_same_queries_for_more_rows(team, api_as):
    manager = api_as(team.manager)
    assert manager("POST", "/api/payroll/periods/", JANUARY).status_code == 201
    first = {path: _count(manager, path) for path in ("/api/payslips/", "/api/payroll/periods/",
                                                       f"/api/payslips/employee/{team.alice.pk}/")}
    for month in (2, 3):
        services.payroll_period_create(actor=team.manager, period_id=f"2026-0{month}",
                                       start_date=dt.date(2026, month, 1), end_date=dt.date(2026, month, 28),
                                       pay_date=dt.date(2026, month, 28))
    for path, (queries, rows) in first.items():
        more_queries, more_rows = _count(manager, path)
        assert more_rows > rows and more_queries == queries, (path, queries, more_queries)


def test_the_payslip_list_walks_every_payslip_once_by_window_and_cursor(team, api_as):
    from core.time_index import COLLECTION
    from payroll.models import Payslip

    manager = api_as(team.manager)
    for month in (1, 2, 3, 4):
        services.payroll_period_create(actor=team.manager, period_id=f"2026-0{month}",
                                       start_date=dt.date(2026, month, 1), end_date=dt.date(2026, month, 28),
                                       pay_date=dt.date(2026, month, 28))
    slips = Payslip.objects.filter(organization_id=team.organization.pk)
    assert slips.count() >= 8
    expected = [str(pk) for pk in slips.order_by("-created_at", "-id").values_list("pk", flat=True)]

    def walk(path):
        seen, page = [], manager("GET", f"{path}?limit=3").json()
        while True:
            seen += [row["id"] for row in page["items"]]
            if page["next_cursor"] is None:
                return seen
            page = manager("GET", f"{path}?limit=3&cursor={page['next_cursor']}").json()

    with CaptureQueriesContext(connection) as captured:
        assert walk("/api/payslips/") == expected
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("db.payslips.aggregate")]
    assert reads and "'created_at': {'$gte'" in reads[0], reads  # the first page: a bounded window
    connection.get_collection(COLLECTION).delete_many({"s": Payslip.time_index_scope})  # counts lost
    assert walk("/api/payslips/") == expected
    alice = [str(pk) for pk in slips.filter(employee=team.alice).order_by("-created_at", "-id").values_list("pk", flat=True)]
    assert walk(f"/api/payslips/employee/{team.alice.pk}/") == alice
    assert [row["id"] for row in manager("GET", "/api/payslips/?limit=3&offset=3").json()["items"]] == expected[3:6]
