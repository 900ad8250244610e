"""The tax reports page (HTMX): the organization's reports, the generate form, self-polling rows."""

import datetime as dt

import pytest


pytestmark = pytest.mark.django_db


def test_generate_from_the_form_and_see_the_row(client, taxpayer):
    client.force_login(taxpayer)
    page = client.get("/app/tax-reports/")
    assert page.status_code == 200 and "No tax reports yet." in page.content.decode()
    response = client.post("/app/tax-reports/generate/", {"report_type": "ANNUAL", "year": "2025", "method": "fifo"},
                           HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "2025-01-01 – 2025-12-31" in html and "$19,970.00" in html and 'data-status="COMPLETED"' in html
    assert "/pdf/" in html and "every 2s" not in html  # finished rows stop polling


def test_form_errors_are_shown_and_nothing_is_created(client, taxpayer):
    from reporting.models import TaxReport

    client.force_login(taxpayer)
    response = client.post("/app/tax-reports/generate/", {"report_type": "CUSTOM", "start_date": "2025-03-01",
                                                           "end_date": "2025-01-01"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "before it starts" in response.content.decode()
    response = client.post("/app/tax-reports/generate/", {"report_type": "DAILY", "date": "yesterday"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "Not a date" in response.content.decode()
    assert not TaxReport.objects.exists()


def test_generating_rows_poll_and_other_organizations_rows_are_hidden(client, taxpayer, make_user,
                                                                     make_organization):
    from reporting.models import TaxReport

    day = dt.date(2025, 1, 1)
    mine = TaxReport.objects.create(user=taxpayer, organization=taxpayer.organization, report_type="DAILY",
                                    start_date=day, end_date=day, method="fifo")
    other = make_user(organization=make_organization("Elsewhere"), is_accountant=True)
    theirs = TaxReport.objects.create(user=other, organization=other.organization, report_type="DAILY",
                                      start_date=day, end_date=day, method="fifo")
    client.force_login(taxpayer)
    html = client.get("/app/tax-reports/").content.decode()
    assert f"tax-report-{mine.pk}" in html and f"tax-report-{theirs.pk}" not in html
    assert f'hx-get="/app/tax-reports/{mine.pk}/row/"' in html and "every 2s" in html
    assert client.get(f"/app/tax-reports/{mine.pk}/row/").status_code == 200
    assert client.get(f"/app/tax-reports/{theirs.pk}/row/").status_code == 404


def test_page_needs_login(client):
    response = client.get("/app/tax-reports/")
    assert response.status_code == 302 and "/login/" in response["Location"]
