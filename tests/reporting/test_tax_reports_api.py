"""/api/tax-reports/: generation as a task (GENERATING -> COMPLETED / FAILED), totals, parts, files,
comparison and analysis, the period endpoints, who may do what, organization scoping and bad input.

A tax report is the organization's: it covers every transaction of its members, in its reporting
fiat, with its cost-basis method. Reading needs can_view_books, generating and deleting
can_work_books (accountants, managers, admins); a plain member gets 403; another organization's
report is 404 everywhere. The `taxpayer` here is an accountant of "Acme" (tests/reporting/conftest.py)."""

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

    stored = TaxReport.objects.get(pk=created["id"])
    assert stored.task_run.status == "SUCCEEDED" and stored.organization_id == taxpayer.organization_id
    assert stored.task_run.organization_id == taxpayer.organization_id  # the run is the organization's
    assert report["requested_by"] == "taxpayer"


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


def test_a_report_that_cannot_be_computed_fails_with_the_reason(make_user, make_organization, api, tmp_path):
    from accounts.models import Notification, Role
    from reporting.models import TaxReport

    user = make_user(username="overseller", role=Role.ADMIN, organization=make_organization("Overseller"))
    source = tmp_path / "bad.csv"
    source.write_text(KOINLY.splitlines()[0] + "\n2025-01-10 09:00:00,1,BTC,50000,USD,,,,,,sell what I never bought,\n")
    call_command("import_transactions", str(source), user="overseller", format="universal", stdout=io.StringIO())
    response = api(user, "post", "/api/tax-reports/yearly/", {"year": 2025})
    assert response.status_code == 202
    report = TaxReport.objects.get()
    assert report.status == "FAILED" and "insufficient BTC" in report.error and "2025-01-10" in report.error
    assert report.task_run.status == "FAILED"
    failed = Notification.objects.get(user=user, title="Tax report failed")
    assert failed.action_url == f"/app/tax-reports/#tax-report-{report.pk}"
    download = api(user, "get", f"/api/tax-reports/{report.pk}/pdf/")
    assert download.status_code == 409 and download.json()["error"]["code"] == "report_not_ready"


OBJECT_CALLS = (("get", ""), ("get", "pdf/"), ("get", "xlsx/"), ("get", "csv/"), ("delete", ""))


def test_another_organizations_report_is_404_everywhere(taxpayer, other_organization_admin, api):
    from reporting.models import TaxReport

    report = api(taxpayer, "post", "/api/tax-reports/yearly/", {"year": 2025}).json()
    for method, suffix in OBJECT_CALLS:
        response = api(other_organization_admin, method, f"/api/tax-reports/{report['id']}/{suffix}")
        assert response.status_code == 404, (method, suffix)
        assert response.json()["error"]["code"] == "not_found"
    assert api(other_organization_admin, "get", "/api/tax-reports/").json()["items"] == []
    assert TaxReport.objects.filter(pk=report["id"], status="COMPLETED").exists()
    assert api(taxpayer, "get", "/api/tax-reports/0123456789abcdef01234567/").status_code == 404
    assert api(taxpayer, "get", "/api/tax-reports/not-an-id/").status_code == 404
    assert api(taxpayer, "get", "/api/tax-reports/").json()["items"][0]["id"] == report["id"]


def test_a_plain_member_gets_403_and_the_organizations_staff_share_the_reports(taxpayer, make_user, api):
    from accounts.models import Role
    from reporting.models import TaxReport

    report = api(taxpayer, "post", "/api/tax-reports/yearly/", {"year": 2025}).json()
    member = make_user(role=Role.USER)  # same organization, no books
    for method, suffix in OBJECT_CALLS:
        response = api(member, method, f"/api/tax-reports/{report['id']}/{suffix}")
        assert response.status_code == 403, (method, suffix)
        assert response.json()["error"]["code"] == "permission_denied"
    assert api(member, "get", "/api/tax-reports/").status_code == 403
    for path, body in (("/api/tax-reports/yearly/", {"year": 2025}), ("/api/tax-reports/generate/",
                                                                       {"report_type": "ANNUAL", "year": 2025})):
        assert api(member, "post", path, body).status_code == 403
    assert TaxReport.objects.count() == 1

    # A manager of the same organization reads the accountant's report and may delete it.
    manager = make_user(role=Role.MANAGER)
    listed = api(manager, "get", "/api/tax-reports/").json()["items"]
    assert [(item["id"], item["requested_by"]) for item in listed] == [(report["id"], "taxpayer")]
    assert Decimal(api(manager, "get", f"/api/tax-reports/{report['id']}/").json()["net_gain_loss"]) == Decimal("19970")
    assert api(manager, "delete", f"/api/tax-reports/{report['id']}/").status_code == 204


def test_an_accountant_generates_the_organizations_report_and_is_notified(taxpayer, make_user, api):
    """The report covers the organization's books, whichever member recorded the transactions: an
    accountant who recorded nothing gets the taxpayer's figures; the notification is theirs."""
    from accounts.models import Notification
    from reporting.models import TaxReport

    accountant = make_user(username="bookkeeper", is_accountant=True)
    response = api(accountant, "post", "/api/tax-reports/yearly/", {"year": 2025, "method": "fifo"})
    assert response.status_code == 202, response.content
    report = TaxReport.objects.get(pk=response.json()["id"])
    assert (report.user_id, report.organization_id) == (accountant.pk, taxpayer.organization_id)
    assert report.net_gain_loss == Decimal("19970") and report.taxable_events == 4
    ready = Notification.objects.get(title="Tax report ready")
    assert ready.user_id == accountant.pk and ready.action_url == f"/app/tax-reports/#tax-report-{report.pk}"
    assert not Notification.objects.filter(user=taxpayer, title="Tax report ready").exists()


def test_two_organizations_with_different_methods_get_their_own_results(taxpayer, make_user, make_organization,
                                                                        api, tmp_path):
    """Acme (the taxpayer's books) uses FIFO by default; Initech, with the same Koinly history of its
    own, uses LIFO and reports in EUR. Each default report uses its organization's settings and
    its own transactions only (2024, hand-worked: FIFO gain 24,960, LIFO 19,965)."""
    from accounts.models import Role

    lifo = make_organization("Initech", cost_basis_method="lifo", reporting_fiat="EUR")
    owner = make_user(username="initech", role=Role.ADMIN, organization=lifo)
    source = tmp_path / "initech.csv"
    source.write_text(KOINLY.replace("USD", "EUR"))
    call_command("import_transactions", str(source), user="initech", format="universal", stdout=io.StringIO())

    acme = api(taxpayer, "post", "/api/tax-reports/yearly/", {"year": 2024}).json()
    initech = api(owner, "post", "/api/tax-reports/yearly/", {"year": 2024}).json()
    assert (acme["method"], acme["fiat"], Decimal(acme["net_gain_loss"])) == ("fifo", "USD", Decimal("24960"))
    assert (initech["method"], initech["fiat"], Decimal(initech["net_gain_loss"])) == ("lifo", "EUR",
                                                                                    Decimal("19965"))
    # A method named in the request wins over the organization's.
    fifo = api(owner, "post", "/api/tax-reports/yearly/", {"year": 2024, "method": "fifo"}).json()
    assert (fifo["method"], Decimal(fifo["net_gain_loss"])) == ("fifo", Decimal("24960"))
    assert [item["id"] for item in api(owner, "get", "/api/tax-reports/").json()["items"]] == [fifo["id"],
                                                                                               initech["id"]]


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
    def reports(n):
        return [TaxReport(organization=taxpayer.organization, user=taxpayer, report_type="DAILY", start_date=day,
                          end_date=day, method="fifo") for _ in range(n)]

    TaxReport.objects.bulk_create(reports(2))
    few = count_queries()
    TaxReport.objects.bulk_create(reports(20))
    many = count_queries()
    assert (few[1], many[1]) == (2, 22) and few[0] == many[0]


def test_admin_lists_reports_read_only_and_serves_their_files(taxpayer, api, make_user, client,
                                                              other_organization_admin):
    from accounts.models import Role
    from reporting.models import TaxReport

    report = api(taxpayer, "post", "/api/tax-reports/yearly/", {"year": 2025}).json()
    admin_user = make_user(role=Role.ADMIN)
    client.force_login(admin_user)
    changelist = client.get("/admin/reporting/taxreport/")
    assert changelist.status_code == 200 and "19970.00" in changelist.content.decode()
    change = client.get(f"/admin/reporting/taxreport/{report['id']}/change/")
    assert change.status_code == 200
    download = client.get(f"/admin/reporting/taxreport/{report['id']}/download/pdf/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert client.get(f"/admin/reporting/taxreport/{report['id']}/download/exe/").status_code == 404
    assert client.post(f"/admin/reporting/taxreport/{report['id']}/change/", {}).status_code == 403

    # A manager of the organization views the books too (core.permissions.can_view_books).
    client.force_login(make_user(role=Role.MANAGER))
    download = client.get(f"/admin/reporting/taxreport/{report['id']}/download/csv/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"asset,")

    # Another organization's admin: not in the list, the change page and the files are not found.
    client.force_login(other_organization_admin)
    changelist = client.get("/admin/reporting/taxreport/")
    assert changelist.status_code == 200 and "19970.00" not in changelist.content.decode()
    assert client.get(f"/admin/reporting/taxreport/{report['id']}/change/").status_code in (302, 404)
    assert client.get(f"/admin/reporting/taxreport/{report['id']}/download/pdf/").status_code == 404
    assert client.post(f"/admin/reporting/taxreport/{report['id']}/delete/", {"post": "yes"}).status_code in (302, 404)

    # A plain member never gets in.
    client.force_login(make_user(role=Role.USER))
    response = client.get(f"/admin/reporting/taxreport/{report['id']}/download/pdf/")
    assert response.status_code in (302, 403) and not getattr(response, "streaming", False)
    assert TaxReport.objects.count() == 1


def test_admin_delete_goes_through_the_service(taxpayer, api, make_user, client, settings):
    from accounts.models import Role
    from reporting.models import TaxReport

    report = api(taxpayer, "post", "/api/tax-reports/yearly/", {"year": 2025}).json()
    stored = TaxReport.objects.get(pk=report["id"])
    path = settings.MEDIA_ROOT / stored.file_path.name
    client.force_login(make_user(role=Role.MANAGER))
    response = client.post(f"/admin/reporting/taxreport/{report['id']}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not TaxReport.objects.exists() and not path.exists()
