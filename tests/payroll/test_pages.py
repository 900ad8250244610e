"""The payroll back-office pages and admin."""

import re
from decimal import Decimal as D

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


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_pages_show_the_network_fee_the_employee_bears_and_the_amount_sent(team, january):
    """The payout terms as the payout machinery fixes them (amount sent + fee charged = net pay): the
    employee's own page and the period grid show the fee and the amount sent, in the payout asset."""
    carol = Payslip.objects.get(period=january, employee=team.carol)
    Payslip.objects.filter(pk=carol.pk).update(
        payout_asset="ETH", payout_rate=D("3000"), payout_net_amount=D("0.9"), gas_fee_bearer="employee",
        gas_fee_charged=D("0.000441"), gas_fee_charged_fiat=D("1.32"), payout_amount=D("0.899559"))
    mine = _text(_client(team.carol).get("/app/payroll/my-payslips/").content.decode())
    assert "Net pay: 0.9 ETH" in mine
    assert "Network fee (borne by you): -0.000441 ETH (-$1.32)" in mine
    assert "Amount sent: 0.899559 ETH" in mine
    grid = _text(_client(team.manager).get(f"/app/payroll/periods/{january.pk}/").content.decode())
    assert "Network fee (borne by the employee): -0.000441 ETH (-$1.32)" in grid
    assert "Amount sent: 0.899559 ETH" in grid
    assert grid.count("Amount sent") == 1  # the bank and cash payslips have no crypto payout
    # the company bears the gas: the full net pay is sent, no fee is shown
    Payslip.objects.filter(pk=carol.pk).update(gas_fee_bearer="company", gas_fee_charged=None,
                                               gas_fee_charged_fiat=None, payout_amount=D("0.9"))
    for page in (_client(team.carol).get("/app/payroll/my-payslips/"),
                 _client(team.manager).get(f"/app/payroll/periods/{january.pk}/")):
        text = _text(page.content.decode())
        assert "Amount sent: 0.9 ETH" in text and "Network fee" not in text

