"""The financial statement pages (HTMX): staff only, day/period picker swapping the table and the
chart data, comparison column, save button storing the statement with its Excel and PDF links."""

import json
import re

import pytest

from accounts.models import Role
from reporting.models import FinancialStatement
from tests.reporting.test_statements_api import books, post_entries  # noqa: F401  (fixture)
from tests.reporting.test_statements_engine import ENTRIES

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, make_user, books):  # noqa: F811
    manager = make_user(role=Role.MANAGER)
    post_entries(manager, ENTRIES)
    client.force_login(manager)
    return client


def chart_data(html):
    found = re.search(r'<script id="statement-chart-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_balance_sheet_page_renders_with_its_comparison_and_chart(manager_client):
    page = manager_client.get("/app/reports/balance-sheet/?as_of=2026-01-31&compare_as_of=2025-12-31")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="statement-picker"' in html and 'hx-get="/app/reports/balance-sheet/"' in html
    assert "statements.js" in html and "unfold/js/chart/chart.js" in html
    assert ">2026-01-31</th>" in html and ">2025-12-31</th>" in html
    # Hand-worked: assets 13370.00 now, 10000.00 at the end of December; fair-value line 1040.00.
    total = re.search(r'data-key="total:assets">.*?</tr>', html, re.S).group(0)
    assert "13,370.00" in total and "10,000.00" in total
    assert "Unrealised gains on crypto (fair value)" in html and "1,040.00" in html
    data = chart_data(html)
    assert data["columns"] == ["2026-01-31", "2025-12-31"]
    assert data["series"][0] == {"label": "Assets", "values": [data["series"][0]["values"][0], "10000"]}
    assert "<script>" not in html  # no inline script under the CSP


def test_the_picker_swaps_the_panel_alone(manager_client):
    response = manager_client.get("/app/reports/income-statement/?start_date=2026-01-01&end_date=2026-01-31",
                                  HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="statement-view"') and "<html" not in html
    assert "2025-12-01 – 2025-12-31" in html  # the previous period by default
    net = re.search(r'data-key="net_income">.*?</tr>', html, re.S).group(0)
    assert "1,530.00" in net
    assert chart_data(html)["kind"] == "INCOME_STATEMENT"
    alone = manager_client.get("/app/reports/cash-flow/?start_date=2026-01-01&end_date=2026-01-31&no_compare=1",
                               HTTP_HX_REQUEST="true").content.decode()
    assert chart_data(alone)["columns"] == ["2026-01-01 – 2026-01-31"] and "-400.00" in alone


def test_bad_dates_show_an_error_and_no_table(manager_client):
    html = manager_client.get("/app/reports/cash-flow/?start_date=2026-02-01&end_date=2026-01-01",
                              HTTP_HX_REQUEST="true").content.decode()
    assert 'role="alert"' in html and "before it starts" in html and "statement-table" not in html
    html = manager_client.get("/app/reports/balance-sheet/?as_of=someday").content.decode()
    assert "Not a date" in html


def test_save_stores_the_statement_on_screen_and_links_its_files(manager_client):
    page = manager_client.get("/app/reports/cash-flow/?start_date=2026-01-01&end_date=2026-01-31"
                              "&compare_start=2025-01-01&compare_end=2025-12-31").content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    fields.pop("csrfmiddlewaretoken")  # the logout form's
    assert fields == {"start_date": "2026-01-01", "end_date": "2026-01-31",
                      "compare_start": "2025-01-01", "compare_end": "2025-12-31"}
    response = manager_client.post("/app/reports/cash-flow/save/", fields, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    stored = FinancialStatement.objects.get()
    assert stored.kind == "CASH_FLOW" and stored.comparison == [{"start": "2025-01-01", "end": "2025-12-31"}]
    assert stored.totals["net_change_in_cash"] == "-400"
    html = response.content.decode()
    assert f"/api/reports/{stored.pk}/excel/" in html and f"/api/reports/{stored.pk}/pdf/" in html
    assert manager_client.get(f"/api/reports/{stored.pk}/pdf/").status_code == 200  # the session works there
    listed = manager_client.get("/app/reports/cash-flow/").content.decode()
    assert f'id="statement-{stored.pk}"' in listed


def test_save_with_bad_input_stores_nothing(manager_client):
    response = manager_client.post("/app/reports/balance-sheet/save/", {"as_of": "1900-01-01"})
    assert response.status_code == 422 and "must lie between" in response.content.decode()
    assert manager_client.post("/app/reports/nothing/save/", {}).status_code == 404
    assert not FinancialStatement.objects.exists()


def test_a_plain_user_gets_403_and_a_visitor_the_login(client, make_user, books):  # noqa: F811
    for path in ("/app/reports/balance-sheet/", "/app/reports/income-statement/", "/app/reports/cash-flow/"):
        response = client.get(path)
        assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(make_user(role=Role.USER))
    for path in ("/app/reports/balance-sheet/", "/app/reports/income-statement/", "/app/reports/cash-flow/"):
        assert client.get(path).status_code == 403
    assert client.post("/app/reports/balance-sheet/save/", {"as_of": "2026-01-31"}).status_code == 403
    assert not FinancialStatement.objects.exists()
