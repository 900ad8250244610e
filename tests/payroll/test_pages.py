"""The payroll back-office pages and admin."""

import pytest
from django.test import Client

from payroll.models import Payslip

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_periods_grid_edit_approve_and_pay(team, january):
    manager = _client(team.manager)
    listing = manager.get("/app/payroll/").content.decode()
    assert "2026-01" in listing and "$10,245.00" in listing
    alice = Payslip.objects.get(period=january, employee=team.alice)
    grid = manager.get(f"/app/payroll/periods/{january.pk}/").content.decode()
    assert "Alice Archer" in grid and "$4,775.00" in grid and f"/app/payroll/payslips/{alice.pk}/approve/" in grid
    response = manager.post(f"/app/payroll/payslips/{alice.pk}/edit/", {"bonus_amount": "100", "overtime_hours": ""})
    assert response.status_code == 302
    assert Payslip.objects.get(pk=alice.pk).gross_salary == 5800
    manager.post(f"/app/payroll/payslips/{alice.pk}/approve/")
    assert Payslip.objects.get(pk=alice.pk).approval_status == "approved"
    refused = manager.post(f"/app/payroll/payslips/{alice.pk}/approve/", follow=True).content.decode()
    assert "already approved" in refused
    manager.post(f"/app/payroll/periods/{january.pk}/process/", {"reference": "PAGE-1"})
    assert Payslip.objects.get(pk=alice.pk).payment_reference == "PAGE-1"


def test_my_payslips_and_who_may_see_what(team, january):
    alice = _client(team.alice)
    assert alice.get("/app/payroll/").status_code == 403
    assert alice.get(f"/app/payroll/periods/{january.pk}/").status_code == 403
    mine = alice.get("/app/payroll/my-payslips/").content.decode()
    own = Payslip.objects.get(period=january, employee=team.alice)
    assert own.payslip_id in mine and f"/api/payslips/{own.pk}/download/" in mine
    assert "Bob" not in mine
    bob = Payslip.objects.get(period=january, employee=team.bob)
    assert alice.post(f"/app/payroll/payslips/{bob.pk}/approve/").status_code == 403
    download = alice.get(f"/api/payslips/{own.pk}/download/")  # the page's link works with the session cookie
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"


def test_admin_lists_and_pay_profile_form(team, january):
    admin = _client(team.admin)
    for model in ("payrollperiod", "payslip", "payprofile", "withholdingtable", "recurringpayment"):
        assert admin.get(f"/admin/payroll/{model}/").status_code == 200, model
    assert admin.get(f"/admin/payroll/payslip/{Payslip.objects.first().pk}/change/").status_code == 200
    assert admin.get("/admin/payroll/payprofile/add/").status_code == 200
    assert _client(team.alice).get("/admin/payroll/payslip/").status_code in (302, 403)
