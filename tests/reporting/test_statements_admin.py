"""The stored statements in the admin: a read-only list for the staff of their organization with Excel
and PDF downloads; another organization's statements are not found."""

import io

import pytest

from accounts.models import Role
from reporting.models import FinancialStatement
from reporting.services import financial_statement_create
from tests.reporting.test_statements_api import books, post_entries  # noqa: F401  (fixture)
from tests.reporting.test_statements_engine import ENTRIES

pytestmark = pytest.mark.django_db
LIST = "/admin/reporting/financialstatement/"


@pytest.fixture
def stored(make_user, books):  # noqa: F811
    import datetime as dt

    manager = make_user(role=Role.MANAGER)
    post_entries(manager, ENTRIES)
    return manager, financial_statement_create(actor=manager, kind="BALANCE_SHEET", as_of=dt.date(2026, 1, 31))


def test_staff_see_the_list_and_download_both_files(client, stored):
    from openpyxl import load_workbook

    manager, statement = stored
    client.force_login(manager)
    page = client.get(LIST)
    html = page.content.decode()
    assert page.status_code == 200 and "13370.00" in html and "at 2026-01-31" in html
    excel = f"{LIST}{statement.pk}/download/excel/"
    assert excel in html and f"{LIST}{statement.pk}/download/pdf/" in html
    response = client.get(excel)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert any(row[0].value == "Total assets" and row[1].value == 13370 for row in book.active.iter_rows())
    pdf = client.get(f"{LIST}{statement.pk}/download/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(f"{LIST}{statement.pk}/download/csv/").status_code == 404
    assert client.get(f"{LIST}add/").status_code == 403  # written only by the services
    detail = client.get(f"{LIST}{statement.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()


def test_staff_delete_through_the_service(client, stored):
    manager, statement = stored
    client.force_login(manager)
    response = client.post(f"{LIST}{statement.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not FinancialStatement.objects.exists()


def test_a_plain_user_is_kept_out(client, make_user, stored):
    _, statement = stored
    client.force_login(make_user(role=Role.USER))
    assert client.get(LIST).status_code in (302, 403)
    response = client.get(f"{LIST}{statement.pk}/download/pdf/")
    assert response.status_code in (302, 403) and not response.content.startswith(b"%PDF")


def test_another_organizations_staff_do_not_reach_the_statement(client, stored, make_user, make_organization):
    _, statement = stored
    client.force_login(make_user(role=Role.ADMIN, organization=make_organization("Globex")))
    page = client.get(LIST)
    assert page.status_code == 200 and "13370.00" not in page.content.decode()
    for suffix in ("download/excel/", "download/pdf/"):
        response = client.get(f"{LIST}{statement.pk}/{suffix}")
        assert response.status_code == 404 and not response.content.startswith(b"%PDF"), suffix
    assert client.get(f"{LIST}{statement.pk}/change/").status_code in (302, 404)
    client.post(f"{LIST}{statement.pk}/delete/", {"post": "yes"})
    assert FinancialStatement.objects.filter(pk=statement.pk).exists()
