"""/api/tax-reports/: generation as a task (GENERATING -> COMPLETED / FAILED), totals, parts, files,
comparison and analysis, the period endpoints, ownership and bad input."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.reporting.test_tax_report_command import KOINLY


@pytest.fixture
def api(client, access_token_for):
    def call(user, method, path, body=None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}
        if method == "get":
            return client.get(path, **headers)
        if method == "delete":
            return client.delete(path, **headers)
        return client.post(path, body or {}, content_type="application/json", **headers)

    return call


def test_yearly_report_completes_with_totals_parts_files_and_analysis(taxpayer, api):
    from wallets.models import PriceQuote

    # Current prices for the analysis: the ETH still held (4.99 + 1 from staking) is now worth less
    # than it cost, so a loss can be harvested.
    PriceQuote.objects.create(symbol="ETH", fiat="USD", day=None, price=Decimal("1000"))
    response = api(taxpayer, "post", "/api/tax-reports/yearly/", {"year": 2025, "method": "fifo"})
    assert response.status_code == 202, response.content
    created = response.json()
    assert created["report_type"] == "ANNUAL" and (created["start_date"], created["end_date"]) == ("2025-01-01", "2025-12-31")
    assert created["status"] == "COMPLETED"  # tasks run inline in tests
    report = api(taxpayer, "get", f"/api/tax-reports/{created['id']}/").json()
    # Figures worked by hand in tests/reporting/test_tax_report_command.py.
    assert Decimal(report["net_gain_loss"]) == Decimal("19970")
    assert (Decimal(report["total_gains"]), Decimal(report["total_losses"])) == (Decimal("20970"), Decimal("1000"))
    assert report["taxable_events"] == 4 and Decimal(report["total_income"]) == Decimal("2500")
    assert Decimal(report["total_fees"]) == Decimal("30")  # the 0.01 ETH swap fee
    assert report["disposals"]["short_term"]["count"] == 4 and report["disposals"]["long_term"]["count"] == 0
    assert [row["year"] for row in report["comparison"]] == [2024, 2025]
    nets = {m: Decimal(v) for m, v in report["analysis"]["method_net_gains"].items()}
    assert set(nets) == {"fifo", "lifo", "hifo", "acb", "uk"} and nets["fifo"] == Decimal("19970")
    harvest = report["analysis"]["harvestable_losses"]
    assert harvest and harvest[0]["asset"] == "ETH" and Decimal(harvest[0]["loss"]) > 0
    assert "could be harvested" in report["ai_analysis"]

    pdf = api(taxpayer, "get", report["file_path"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    csv_text = b"".join(api(taxpayer, "get", report["csv_url"]).streaming_content).decode()
    assert csv_text.splitlines()[0] == "asset,quantity,date_acquired,date_disposed,proceeds,cost_basis,gain,term"
    assert len(csv_text.splitlines()) == 5
    xlsx = api(taxpayer, "get", report["xlsx_url"])
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    from reporting.models import TaxReport

    assert TaxReport.objects.get(pk=created["id"]).task_run.status == "SUCCEEDED"


def test_period_endpoints(taxpayer, api):
    cases = [
        ("/api/tax-reports/daily/", {"date": "2025-06-01"}, ("2025-06-01", "2025-06-01"), 1),
        ("/api/tax-reports/weekly/", {"date": "2025-06-04"}, ("2025-06-02", "2025-06-08"), 0),
        ("/api/tax-reports/monthly/", {"date": "2025-02-14"}, ("2025-02-01", "2025-02-28"), 2),
        ("/api/tax-reports/quarterly/", {"date": "2025-08-01"}, ("2025-07-01", "2025-09-30"), 1),
        ("/api/tax-reports/custom/", {"start_date": "2024-01-01", "end_date": "2025-12-31"}, ("2024-01-01", "2025-12-31"), 5),
        ("/api/tax-reports/generate/", {"report_type": "ANNUAL", "year": 2024, "method": "uk"}, ("2024-04-06", "2025-04-05"), 3),
    ]
    for path, body, period, events in cases:
        response = api(taxpayer, "post", path, body)
        assert response.status_code == 202, (path, response.content)
        report = response.json()
        assert (report["start_date"], report["end_date"]) == period, path
        assert (report["status"], report["taxable_events"]) == ("COMPLETED", events), path


def test_bad_requests_are_422_and_store_nothing(taxpayer, api):
    from reporting.models import TaxReport

    for path, body in [
        ("/api/tax-reports/custom/", {"start_date": "2025-02-01", "end_date": "2025-01-01"}),
        ("/api/tax-reports/custom/", {"start_date": "2025-02-01"}),
        ("/api/tax-reports/yearly/", {"year": 1800}),
        ("/api/tax-reports/yearly/", {"year": 2025, "method": "random"}),
        ("/api/tax-reports/yearly/", {"year": 2025, "method": "uk", "lot_scope": "wallet"}),
        ("/api/tax-reports/daily/", {"date": "not-a-date"}),
        ("/api/tax-reports/daily/", {"date": "2025-01-01", "extra": 1}),
        ("/api/tax-reports/generate/", {"report_type": "HOURLY"}),
        ("/api/tax-reports/generate/", {"report_type": "CUSTOM"}),
    ]:
        response = api(taxpayer, "post", path, body)
        assert response.status_code == 422, (path, body, response.content)
        assert set(response.json()["error"]) == {"code", "message", "details"}
    assert not TaxReport.objects.exists()


def test_a_report_that_cannot_be_computed_fails_with_the_reason(make_user, api, tmp_path):
    from accounts.models import Notification
    from reporting.models import TaxReport

    user = make_user(username="overseller")
    source = tmp_path / "bad.csv"
    source.write_text(KOINLY.splitlines()[0] + "\n2025-01-10 09:00:00,1,BTC,50000,USD,,,,,,sell what I never bought,\n")
    call_command("import_transactions", str(source), user="overseller", format="universal", stdout=io.StringIO())
    response = api(user, "post", "/api/tax-reports/yearly/", {"year": 2025})
    assert response.status_code == 202
    report = TaxReport.objects.get()
    assert report.status == "FAILED" and "insufficient BTC" in report.error and "2025-01-10" in report.error
    assert report.task_run.status == "FAILED"
    assert Notification.objects.filter(user=user, title="Tax report failed").exists()
    download = api(user, "get", f"/api/tax-reports/{report.pk}/pdf/")
    assert download.status_code == 409 and download.json()["error"]["code"] == "report_not_ready"


def test_reports_are_private(taxpayer, make_user, api):
    report = api(taxpayer, "post", "/api/tax-reports/yearly/", {"year": 2025}).json()
    other = make_user()
    for method, suffix in (("get", ""), ("get", "pdf/"), ("get", "xlsx/"), ("get", "csv/"), ("delete", "")):
        response = api(other, method, f"/api/tax-reports/{report['id']}/{suffix}")
        assert response.status_code == 404, (method, suffix)
    assert api(other, "get", "/api/tax-reports/").json()["items"] == []
    assert api(taxpayer, "get", "/api/tax-reports/0123456789abcdef01234567/").status_code == 404
    assert api(taxpayer, "get", "/api/tax-reports/not-an-id/").status_code == 404
    assert api(taxpayer, "get", "/api/tax-reports/").json()["items"][0]["id"] == report["id"]


def test_delete_removes_the_report_and_its_files(taxpayer, api, settings):
    from reporting.models import TaxReport

    report = api(taxpayer, "post", "/api/tax-reports/yearly/", {"year": 2025}).json()
    stored = TaxReport.objects.get(pk=report["id"])
    paths = [settings.MEDIA_ROOT / f.name for f in (stored.file_path, stored.xlsx_file, stored.csv_file)]
    assert all(path.exists() for path in paths)
    assert api(taxpayer, "delete", f"/api/tax-reports/{report['id']}/").status_code == 204
    assert not TaxReport.objects.exists() and not any(path.exists() for path in paths)


def test_list_queries_do_not_grow_with_reports(taxpayer, api, access_token_for, client):
    from reporting.models import TaxReport

    def count_queries():
        token = access_token_for(taxpayer)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/tax-reports/", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200
        return len(queries), len(response.json()["items"])

    day = dt.date(2025, 1, 1)
    TaxReport.objects.bulk_create([TaxReport(user=taxpayer, report_type="DAILY", start_date=day, end_date=day,
                                             method="fifo") for _ in range(2)])
    few = count_queries()
    TaxReport.objects.bulk_create([TaxReport(user=taxpayer, report_type="DAILY", start_date=day, end_date=day,
                                             method="fifo") for _ in range(20)])
    many = count_queries()
    assert (few[1], many[1]) == (2, 22) and few[0] == many[0]


def test_admin_lists_reports_read_only_and_serves_their_files(taxpayer, api, make_user, client):
    from reporting.models import TaxReport

    report = api(taxpayer, "post", "/api/tax-reports/yearly/", {"year": 2025}).json()
    admin_user = make_user(role="ADMIN")
    client.force_login(admin_user)
    changelist = client.get("/admin/reporting/taxreport/")
    assert changelist.status_code == 200 and "19970.00" in changelist.content.decode()
    change = client.get(f"/admin/reporting/taxreport/{report['id']}/change/")
    assert change.status_code == 200
    download = client.get(f"/admin/reporting/taxreport/{report['id']}/download/pdf/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert client.get(f"/admin/reporting/taxreport/{report['id']}/download/exe/").status_code == 404
    assert client.post(f"/admin/reporting/taxreport/{report['id']}/change/", {}).status_code == 403

    manager = make_user(role="MANAGER")  # the manager role holds no reporting permission
    client.force_login(manager)
    assert client.get(f"/admin/reporting/taxreport/{report['id']}/download/pdf/").status_code == 403
    assert TaxReport.objects.count() == 1
