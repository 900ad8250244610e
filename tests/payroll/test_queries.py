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
