"""GET /api/dashboard/analytics/: series and breakdowns over a custom period from the same read and
engine as the dashboard; CSV and XLSX of the same data, formula-safe; bad periods are 422."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from reporting.dashboard.analytics import buckets
from wallets.models import Transaction

D = Decimal


def test_buckets_cover_the_period_once_clipped_to_it():
    spans = buckets(dt.date(2026, 1, 28), dt.date(2026, 3, 3), "month")
    assert spans == [(dt.date(2026, 1, 28), dt.date(2026, 1, 31)), (dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
                     (dt.date(2026, 3, 1), dt.date(2026, 3, 3))]
    weeks = buckets(dt.date(2026, 6, 3), dt.date(2026, 6, 15), "week")  # a Wednesday to a Monday
    assert weeks[0] == (dt.date(2026, 6, 3), dt.date(2026, 6, 7)) and weeks[-1] == (dt.date(2026, 6, 15),) * 2
    days = buckets(dt.date(2026, 6, 1), dt.date(2026, 6, 30), "day")
    assert len(days) == 30 and all(first == last for first, last in days)


def period(interval="week", days=40, fmt=None):
    today = timezone.now().date()
    query = f"start={today - dt.timedelta(days=days)}&end={today}&interval={interval}"
    return f"/api/dashboard/analytics/?{query}" + (f"&format={fmt}" if fmt else "")


@pytest.mark.django_db
def test_series_and_breakdowns_of_the_books(client, books):
    client.force_login(books["accountant"])
    response = client.get(period())
    assert response.status_code == 200, response.content
    body = response.json()
    series = body["series"]
    assert body["interval"] == "week" and len(series) >= 6
    assert sum(D(p["inflows"]) for p in series) == D("2000")  # this year's buy (last year's is before the period)
    assert sum(D(p["outflows"]) for p in series) == D("1500")  # 0.5 ETH sold at 3000
    assert sum(D(p["realized_gains"]) for p in series) == D("1000")  # FIFO, as the dashboard
    assert D(series[-1]["portfolio_value"]) == D("6000") and D(series[0]["portfolio_value"]) == 0  # no price then
    assert series[0]["unpriced"] == ["ETH"]
    (eth,) = body["breakdowns"]["asset"]
    assert (eth["name"], D(eth["inflow"]), D(eth["outflow"]), eth["count"]) == ("ETH", D("2000"), D("1500"), 2)
    assert {row["name"] for row in body["breakdowns"]["category"]} == {"BUY", "SELL"}
    assert [row["name"] for row in body["breakdowns"]["wallet"]] == ["treasury"]
    assert {(row["asset"], D(row["inflow"])) for row in body["flows_by_asset"] if D(row["inflow"])} == {("ETH", D("2000"))}


@pytest.mark.django_db
def test_csv_and_xlsx_carry_the_same_data_made_formula_safe(client, books):
    Transaction.objects.filter(transaction_type="SELL").update(tax_category="=HYPERLINK(\"http://x\")")
    client.force_login(books["accountant"])
    body = client.get(period("month")).json()
    response = client.get(period("month", fmt="csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    series = [row for row in rows if row[0] == "Series"]
    assert [row[1] for row in series] == [p["bucket"] for p in body["series"]]
    assert [D(row[3]) for row in series] == [D(p["inflows"]) for p in body["series"]]
    categories = [row[1] for row in rows if row[0] == "By category"]
    assert "'=HYPERLINK(\"http://x\")" in categories and "BUY" in categories

    response = client.get(period("month", fmt="xlsx"))
    assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Series", "Flows by asset", "Flows by category", "By asset", "By wallet",
                               "By category", "By counterparty"]
    sheet_rows = list(book["Series"].iter_rows(min_row=2, values_only=True))
    assert [D(str(row[2])) for row in sheet_rows] == [D(p["inflows"]) for p in body["series"]]
    category_cells = [row[0] for row in book["By category"].iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://x\")" in category_cells


@pytest.mark.django_db
@pytest.mark.parametrize("query, code", [
    ("start=2026-02-01&end=2026-01-01", "invalid_range"),
    ("start=2020-01-01&end=2099-01-01", "invalid_range"),
    ("start=2015-01-01&end=2020-01-01", "range_too_long"),
    ("start=2026-01-01&end=2026-02-01&interval=year", "validation_error"),
    ("start=nope&end=2026-02-01", "validation_error"),
    ("end=2026-02-01", "validation_error"),
])
def test_bad_periods_are_422(client, make_user, query, code):
    client.force_login(make_user())
    response = client.get(f"/api/dashboard/analytics/?{query}")
    assert response.status_code == 422 and response.json()["error"]["code"] == code, response.content


@pytest.mark.django_db
def test_five_years_less_a_day_is_allowed_and_a_member_sees_only_their_own(client, books, make_user):
    client.force_login(make_user())
    today = timezone.now().date()
    start = today.replace(year=today.year - 5) + dt.timedelta(days=1)
    body = client.get(f"/api/dashboard/analytics/?start={start}&end={today}&interval=month").json()
    assert all(D(p["inflows"]) == 0 for p in body["series"]) and body["breakdowns"]["asset"] == []


def test_analytics_needs_a_login(client):
    assert client.get("/api/dashboard/analytics/?start=2026-01-01&end=2026-01-02").status_code == 401
