"""/api/reports/: financial statements generated from the real books of the caller's organization
(posted through the ledger's services, prices in the price store), stored, listed, exported. Reading
needs can_view_books, generating and deleting can_work_books (accountants, managers, admins); a plain
member gets 403; another organization's statement is 404; bad input answered 4xx."""

import datetime as dt
import io
import subprocess
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from tests.ledger.conftest import api_as, mongo_commands  # noqa: F401  (fixtures)
from tests.reporting.test_statements_engine import ENTRIES

pytestmark = pytest.mark.django_db
BASE = "/api/reports/"


def post_entries(user, entries):
    from ledger.services import journal_entry_create

    for day, lines in entries:
        journal_entry_create(created_by=user, date=day, description="hand-worked", post=True, line_items=[
            {"account_code": code, "debit_amount": debit, "credit_amount": credit, "asset": asset,
             "quantity": quantity} for code, debit, credit, asset, quantity in lines])


def chart_for(organization):
    from ledger.services import chart_of_accounts_ensure_default, crypto_asset_account_get_or_create

    chart_of_accounts_ensure_default(organization_id=organization.pk)
    crypto_asset_account_get_or_create(symbol="ETH", organization_id=organization.pk)
    crypto_asset_account_get_or_create(symbol="BTC", organization_id=organization.pk)


@pytest.fixture
def books(organization):
    """The chart of the main organization ("Acme") and two shared ETH prices."""
    from wallets.models import PriceQuote

    chart_for(organization)
    PriceQuote.objects.create(symbol="ETH", fiat="USD", day=dt.date(2026, 1, 31), price=D("3000"), source="manual")
    PriceQuote.objects.create(symbol="ETH", fiat="USD", day=dt.date(2026, 2, 28), price=D("2000"), source="manual")


@pytest.fixture
def manager(api_as, books):  # noqa: F811
    caller = api_as(Role.MANAGER)
    post_entries(caller.user, ENTRIES)
    return caller


@pytest.fixture
def plain_user(api_as, books):  # noqa: F811
    return api_as(Role.USER)


def amount(text):
    return D(text)


def test_balance_sheet_is_generated_stored_and_listed(manager):
    response = manager("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31", "compare_dates": ["2025-12-31"]})
    assert response.status_code == 201, response.content
    body = response.json()
    # The hand-worked books (tests/reporting/test_statements_engine.py): assets 9600 bank + 1.09 ETH
    # x 3000 + 500 receivable = 13370; equity 10000 + current earnings 1530 + fair value 1040 = 12570.
    assert amount(body["totals"]["total_assets"]) == D("13370")
    assert amount(body["totals"]["total_liabilities_and_equity"]) == D("13370")
    assert amount(body["totals"]["fair_value_adjustment"]) == D("1040")
    assert body["comparison"] == [{"as_of": "2025-12-31"}] and body["created_by"] == manager.user.username
    columns = body["statement"]["columns"]
    assert [c["as_of"] for c in columns] == ["2026-01-31", "2025-12-31"]
    equity = next(s for s in body["statement"]["sections"] if s["key"] == "equity")
    assert [amount(v) for v in equity["total"]] == [D("12570"), D("10000")]
    listed = manager("get", f"{BASE}balance-sheets/").json()
    assert [item["id"] for item in listed["items"]] == [body["id"]] and listed["next"] is None
    assert manager("get", f"{BASE}cash-flows/").json()["items"] == []
    detail = manager("get", f"{BASE}{body['id']}/").json()
    assert detail["statement"] == body["statement"] and detail["excel_url"] == f"/api/reports/{body['id']}/excel/"


def test_default_comparison_is_a_year_before_and_the_previous_period(manager):
    sheet = manager("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31"}).json()
    assert sheet["comparison"] == [{"as_of": "2025-01-31"}]
    statement = manager("post", f"{BASE}income-statement/", {"start_date": "2026-01-01", "end_date": "2026-01-31"})
    assert statement.status_code == 201, statement.content
    body = statement.json()
    assert body["comparison"] == [{"start": "2025-12-01", "end": "2025-12-31"}]
    assert amount(body["totals"]["net_income"]) == D("1530")  # revenue 2350 - expenses 820
    assert amount(body["totals"]["fair_value_change"]) == D("1040")
    assert amount(body["totals"]["result_including_fair_value"]) == D("2570")
    none = manager("post", f"{BASE}income-statement/", {"start_date": "2026-01-01", "end_date": "2026-01-31",
                                                         "compare_periods": [], "include_fair_value": False}).json()
    assert none["comparison"] == [] and "fair_value_change" not in none["totals"]
    assert len(none["statement"]["columns"]) == 1


def test_cash_flow_ties_to_the_bank_and_compares_chosen_periods(manager):
    response = manager("post", f"{BASE}cash-flow/", {
        "start_date": "2026-01-01", "end_date": "2026-01-31",
        "compare_periods": [{"start_date": "2025-12-01", "end_date": "2025-12-31"},
                            {"start_date": "2025-01-01", "end_date": "2025-12-31"}]})
    assert response.status_code == 201, response.content
    statement = response.json()["statement"]
    totals = {name: [amount(v) for v in values] for name, values in statement["totals"].items()}
    # January: operating +1000 (the customer), investing -1400 (bought 4000, sold 2600); bank 10000 -> 9600.
    assert totals["net_cash_operating"] == [D("1000"), D(0), D(0)]
    assert totals["net_cash_investing"] == [D("-1400"), D(0), D(0)]
    assert totals["net_cash_financing"] == [D(0), D("10000"), D("10000")]
    assert totals["net_change_in_cash"] == [D("-400"), D("10000"), D("10000")]
    assert totals["cash_at_end"] == [D("9600"), D("10000"), D("10000")]
    assert [c["label"] for c in statement["columns"]][1:] == ["2025-12-01 – 2025-12-31", "2025-01-01 – 2025-12-31"]


def test_a_stored_statement_keeps_its_figures_when_entries_follow(manager):
    stored = manager("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31", "compare_dates": []}).json()
    post_entries(manager.user, [(dt.date(2026, 1, 15), [("1120", D("5"), D(0), "", None),
                                                        ("3100", D(0), D("5"), "", None)])])
    assert manager("get", f"{BASE}{stored['id']}/").json()["totals"] == stored["totals"]
    again = manager("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31", "compare_dates": []}).json()
    assert amount(again["totals"]["total_assets"]) == D("13375")


def test_unpriced_crypto_stays_at_cost_and_is_listed(manager):
    post_entries(manager.user, [(dt.date(2026, 1, 31), [("1200-BTC", D("500"), D(0), "BTC", D("0.01")),
                                                        ("1120", D(0), D("500"), "", None)])])
    body = manager("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31", "compare_dates": []}).json()
    assert body["unpriced"] == ["BTC"]
    assets = next(s for s in body["statement"]["sections"] if s["key"] == "assets")
    btc = next(line for line in assets["lines"] if line["account_code"] == "1200-BTC")
    assert amount(btc["amounts"][0]) == D("500")
    assert amount(body["totals"]["total_assets"]) == D("13370")  # bank -500, BTC +500 at cost


def test_a_plain_user_gets_403_everywhere(manager, plain_user):
    stored = manager("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31"}).json()
    calls = [("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31"}),
             ("post", f"{BASE}income-statement/", {"start_date": "2026-01-01", "end_date": "2026-01-31"}),
             ("post", f"{BASE}cash-flow/", {"start_date": "2026-01-01", "end_date": "2026-01-31"}),
             ("get", f"{BASE}balance-sheets/", None), ("get", f"{BASE}income-statements/", None),
             ("get", f"{BASE}cash-flows/", None), ("get", f"{BASE}{stored['id']}/", None),
             ("get", f"{BASE}{stored['id']}/excel/", None), ("get", f"{BASE}{stored['id']}/pdf/", None),
             ("delete", f"{BASE}{stored['id']}/", None)]
    for method, path, body in calls:
        response = plain_user(method, path, body)
        assert response.status_code == 403, (method, path, response.content)
        assert response.json()["error"]["code"] == "permission_denied"
    from reporting.models import FinancialStatement

    assert FinancialStatement.objects.count() == 1


def test_anonymous_is_401(client, books):
    assert client.get(f"{BASE}balance-sheets/").status_code == 401
    assert client.post(f"{BASE}balance-sheet/", {}, content_type="application/json").status_code == 401


@pytest.mark.parametrize("path,body,code", [
    ("cash-flow/", {"start_date": "2026-02-01", "end_date": "2026-01-31"}, "invalid_period"),
    ("income-statement/", {"start_date": "2026-01-01", "end_date": "2026-01-31",
                           "compare_periods": [{"start_date": "2025-12-31", "end_date": "2025-12-01"}]},
     "invalid_period"),
    ("income-statement/", {"start_date": "2026-13-01", "end_date": "2026-01-31"}, "validation_error"),
    ("balance-sheet/", {"as_of": "yesterday"}, "validation_error"),
    ("balance-sheet/", {"as_of": "2026-01-31", "compare_dates": ["2026-02-30"]}, "validation_error"),
    ("balance-sheet/", {"as_of": "1900-01-01"}, "invalid_date"),
    ("balance-sheet/", {"as_of": "2026-01-31", "compare_dates": ["2025-01-01"] * 5}, "too_many_comparisons"),
    ("cash-flow/", {"start_date": "2026-01-01"}, "validation_error"),
    ("cash-flow/", {"start_date": "2026-01-01", "end_date": "2026-01-31", "include_fair_value": True},
     "validation_error"),  # not a cash-flow option: unknown fields are refused
])
def test_bad_dates_are_422_and_nothing_is_stored(manager, path, body, code):
    from reporting.models import FinancialStatement

    response = manager("post", f"{BASE}{path}", body)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == code
    assert not FinancialStatement.objects.exists()


def test_unknown_and_malformed_ids_are_404(manager):
    for path in ("6553f1c2a4b5c6d7e8f90123/", "6553f1c2a4b5c6d7e8f90123/pdf/", "not-an-id/", "not-an-id/excel/"):
        response = manager("get", f"{BASE}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert manager("delete", f"{BASE}6553f1c2a4b5c6d7e8f90123/").status_code == 404


def test_delete_removes_a_statement(manager):
    stored = manager("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31"}).json()
    assert manager("delete", f"{BASE}{stored['id']}/").status_code == 204
    assert manager("get", f"{BASE}{stored['id']}/").status_code == 404


def test_excel_has_numeric_cells_in_cents_and_the_comparison_column(manager):
    from openpyxl import load_workbook

    stored = manager("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31", "compare_dates": ["2025-12-31"]}).json()
    response = manager("get", stored["excel_url"])
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="balance-sheet-2026-01-31.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Balance sheet"]
    rows = {row[0].value: row for row in book.active.iter_rows() if row[0].value}
    header = next(row for row in book.active.iter_rows() if not row[0].value and row[1].value == "2026-01-31")
    assert header[2].value == "2025-12-31"
    total = rows["Total assets"]
    assert (total[1].value, total[2].value) == (13370, 10000) and total[1].number_format == "#,##0.00;-#,##0.00"
    assert rows["Unrealised gains on crypto (fair value)"][1].value == 1040
    assert isinstance(rows["Crypto asset ETH"][1].value, (int, float)) and rows["Crypto asset ETH"][1].value == 3270


def test_pdf_shows_the_key_figures(manager, tmp_path):
    stored = manager("post", f"{BASE}cash-flow/", {"start_date": "2026-01-01", "end_date": "2026-01-31"}).json()
    response = manager("get", stored["pdf_url"])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    path = tmp_path / "statement.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Cash-flow statement" in text and "2026-01-01 – 2026-01-31" in text
    for figure in ("1,530.00", "1,000.00", "-1,400.00", "-400.00", "9,600.00", "10,000.00"):
        assert figure in text, figure
    sheet = manager("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31"}).json()
    path.write_bytes(manager("get", sheet["pdf_url"]).content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Unrealised gains on crypto (fair value)" in text and "13,370.00" in text and "12,570.00" in text


def test_lists_do_not_grow_queries_with_rows(manager, mongo_commands):  # noqa: F811
    def count():
        with CaptureQueriesContext(connection) as captured, mongo_commands() as commands:
            response = manager("get", f"{BASE}income-statements/?limit=50")
            assert response.status_code == 200
        return len(captured.captured_queries), len(commands), len(response.json()["items"])

    def add(n):
        for _ in range(n):
            manager("post", f"{BASE}income-statement/", {"start_date": "2026-01-01", "end_date": "2026-01-31"})

    add(2)
    queries, commands, rows = count()
    assert rows == 2 and commands >= queries >= 1
    print(f"statement list: {queries} ORM queries, {commands} database commands")
    add(8)
    assert count() == (queries, commands, 10)


def test_generation_does_not_grow_queries_with_entries(manager, mongo_commands):  # noqa: F811
    def count():
        with mongo_commands() as commands:
            response = manager("post", f"{BASE}cash-flow/", {"start_date": "2026-01-01", "end_date": "2026-01-31"})
            assert response.status_code == 201
        return len(commands)

    before = count()
    post_entries(manager.user, ENTRIES[1:] * 5)  # 35 more entries
    after = count()
    print(f"cash flow generation: {before} database commands with 8 entries, {after} with 43")
    assert after == before


def test_every_report_endpoint_is_in_the_openapi_schema(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    expected = {"/api/reports/balance-sheet/": {"post"}, "/api/reports/income-statement/": {"post"},
                "/api/reports/cash-flow/": {"post"}, "/api/reports/balance-sheets/": {"get"},
                "/api/reports/income-statements/": {"get"}, "/api/reports/cash-flows/": {"get"},
                "/api/reports/{statement_id}/": {"get", "delete"}, "/api/reports/{statement_id}/excel/": {"get"},
                "/api/reports/{statement_id}/pdf/": {"get"}}
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path


def test_an_accountant_generates_and_deletes_statements(manager, api_as):  # noqa: F811
    accountant = api_as(Role.USER, is_accountant=True)
    response = accountant("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31", "compare_dates": []})
    assert response.status_code == 201, response.content
    body = response.json()
    assert amount(body["totals"]["total_assets"]) == D("13370") and body["created_by"] == accountant.user.username
    assert [item["id"] for item in manager("get", f"{BASE}balance-sheets/").json()["items"]] == [body["id"]]
    assert accountant("delete", f"{BASE}{body['id']}/").status_code == 204


def test_another_organizations_statement_is_404_and_its_books_are_its_own(manager, api_as,  # noqa: F811
                                                                          make_organization):
    """Globex keeps books of its own: its staff never reach Acme's statements (404 on every object
    endpoint, empty lists) and Globex's statements read only Globex's entries."""
    from reporting.models import FinancialStatement

    stored = manager("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31"}).json()
    globex = make_organization("Globex")
    chart_for(globex)
    outsider = api_as(Role.ADMIN, organization=globex)
    for method, path in (("get", ""), ("get", "excel/"), ("get", "pdf/"), ("delete", "")):
        response = outsider(method, f"{BASE}{stored['id']}/{path}")
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    for path in ("balance-sheets/", "income-statements/", "cash-flows/"):
        assert outsider("get", f"{BASE}{path}").json()["items"] == []
    assert FinancialStatement.objects.filter(pk=stored["id"]).exists()

    post_entries(outsider.user, [(dt.date(2026, 1, 10), [("1120", D("700"), D(0), "", None),
                                                         ("3100", D(0), D("700"), "", None)])])
    theirs = outsider("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31", "compare_dates": []}).json()
    assert amount(theirs["totals"]["total_assets"]) == D("700")
    again = manager("post", f"{BASE}balance-sheet/", {"as_of": "2026-01-31", "compare_dates": []}).json()
    assert amount(again["totals"]["total_assets"]) == D("13370")  # Acme's books, unchanged
    assert [item["id"] for item in outsider("get", f"{BASE}balance-sheets/").json()["items"]] == [theirs["id"]]
    assert FinancialStatement.objects.get(pk=theirs["id"]).organization_id == globex.pk
