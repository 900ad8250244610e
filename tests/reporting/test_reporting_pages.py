"""Who reaches the back-office reporting pages: the tax reports page (list, generate form, self-polling
rows) and the statement pages need can_view_books, their POSTs can_work_books; a plain member gets the
403 page; another organization's report row is 404."""

import datetime as dt

import pytest

from accounts.models import Role

pytestmark = pytest.mark.django_db


def _report(user):
    from reporting.models import TaxReport

    day = dt.date(2025, 1, 1)
    return TaxReport.objects.create(organization=user.organization, user=user, report_type="DAILY", start_date=day,
                                    end_date=day, method="fifo")


def test_an_accountant_generates_from_the_page_and_sees_the_organizations_rows(client, taxpayer, make_user):
    colleague_report = _report(make_user(role=Role.MANAGER, username="boss"))
    client.force_login(taxpayer)  # an accountant (tests/reporting/conftest.py)
    page = client.get("/app/tax-reports/")
    html = page.content.decode()
    assert page.status_code == 200 and f"tax-report-{colleague_report.pk}" in html and ">boss</td>" in html
    assert "Capital gains of Acme" in html
    response = client.post("/app/tax-reports/generate/", {"report_type": "ANNUAL", "year": "2025", "method": "fifo"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "$19,970.00" in response.content.decode()
    assert client.get(f"/app/tax-reports/{colleague_report.pk}/row/").status_code == 200


def test_another_organizations_row_is_404(client, taxpayer, other_organization_admin):
    theirs = _report(other_organization_admin)
    client.force_login(taxpayer)
    assert client.get(f"/app/tax-reports/{theirs.pk}/row/").status_code == 404
    assert f"tax-report-{theirs.pk}" not in client.get("/app/tax-reports/").content.decode()


def test_a_plain_member_gets_403_on_every_reporting_page(client, make_user):
    from reporting.models import TaxReport

    boss = make_user(role=Role.MANAGER)
    report = _report(boss)
    client.force_login(make_user(role=Role.USER))
    assert client.get("/app/tax-reports/").status_code == 403
    assert client.post("/app/tax-reports/generate/", {"report_type": "ANNUAL", "year": "2025"}).status_code == 403
    assert client.get(f"/app/tax-reports/{report.pk}/row/").status_code == 403
    for slug in ("balance-sheet", "income-statement", "cash-flow"):
        assert client.get(f"/app/reports/{slug}/").status_code == 403, slug
        assert client.post(f"/app/reports/{slug}/save/", {}).status_code == 403, slug
    assert TaxReport.objects.count() == 1
