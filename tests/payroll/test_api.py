"""The payroll endpoints, exactly the spec's paths, on happy and unhappy paths, with tenancy."""

import pytest

from payroll.models import Payslip
from tests.payroll.conftest import JANUARY, balances

pytestmark = pytest.mark.django_db


def _payslip_of(period_body, user):
    return next(p for p in period_body["payslips"] if p["employee"] == str(user.pk))


@pytest.fixture
def period(team, api_as):
    response = api_as(team.manager)("POST", "/api/payroll/periods/", {**JANUARY, "description": "January"})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_list_get_update_a_period(team, api_as, period):
    manager, accountant_api = api_as(team.manager), None
    assert period["period_id"] == "2026-01" and period["status"] == "draft" and period["payslip_count"] == 3
    assert period["total_amount"] == "10245" and period["currency"] == "USD"  # 4775 + 2820 + 2650
    alice = _payslip_of(period, team.alice)
    assert alice["gross_salary"] == "5700" and alice["allowances"] == {"housing": "500", "transport": "200",
                                                                      "others": "0"}
    assert alice["deductions"] == {"tax": "640", "insurance": "285", "others": "0"}
    assert alice["payroll_period_id"] == "2026-01" and alice["approval_status"] == "draft"
    listed = manager("GET", "/api/payroll/periods/").json()
    assert [p["id"] for p in listed["items"]] == [period["id"]] and listed["next"] is None
    assert manager("GET", f"/api/payroll/periods/{period['id']}/").json()["payslips"][0]["payslip_id"] == "2026-01-001"
    updated = manager("PUT", f"/api/payroll/periods/{period['id']}/", {"description": "Jan payroll"})
    assert updated.status_code == 200 and updated.json()["description"] == "Jan payroll"
    again = manager("POST", "/api/payroll/periods/", JANUARY)
    assert again.status_code == 409 and again.json()["error"]["code"] == "period_id_taken"
    bad = manager("POST", "/api/payroll/periods/", {**JANUARY, "period_id": "2026-02", "end_date": "2025-12-31"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_range"
    unknown = manager("POST", "/api/payroll/periods/", {**JANUARY, "surprise": 1})
    assert unknown.status_code == 422
    accountant_api = api_as(team.alice)
    assert accountant_api("GET", "/api/payroll/periods/").status_code == 403
    assert accountant_api("POST", "/api/payroll/periods/", {**JANUARY, "period_id": "x"}).status_code == 403


def test_another_organizations_period_and_payslip_are_404(team, api_as, period, make_organization, make_user):
    from core.permissions import Role

    other = make_organization("Rival")
    rival = api_as(make_user(Role.ADMIN, organization=other))
    alice_slip = _payslip_of(period, team.alice)["id"]
    for method, path in (("GET", f"/api/payroll/periods/{period['id']}/"),
                         ("PUT", f"/api/payroll/periods/{period['id']}/"),
                         ("DELETE", f"/api/payroll/periods/{period['id']}/"),
                         ("POST", f"/api/payroll/periods/{period['id']}/process/"),
                         ("GET", f"/api/payslips/{alice_slip}/"),
                         ("POST", f"/api/payslips/{alice_slip}/approve/"),
                         ("GET", f"/api/payslips/{alice_slip}/pdf/"),
                         ("GET", f"/api/payslips/employee/{team.alice.pk}/")):
        response = rival(method, path, {} if method in ("PUT", "POST") else None)
        assert response.status_code == 404, (method, path, response.content)
    assert rival("GET", "/api/payslips/").json()["items"] == []


def test_an_employee_sees_only_their_own_payslips(team, api_as, period):
    alice = api_as(team.alice)
    mine, bobs = _payslip_of(period, team.alice), _payslip_of(period, team.bob)
    assert [p["id"] for p in alice("GET", "/api/payslips/").json()["items"]] == [mine["id"]]
    assert alice("GET", f"/api/payslips/{mine['id']}/").status_code == 200
    assert alice("GET", f"/api/payslips/{bobs['id']}/").status_code == 404
    assert alice("GET", f"/api/payslips/{bobs['id']}/pdf/").status_code == 404
    assert [p["id"] for p in alice("GET", f"/api/payslips/employee/{team.alice.pk}/").json()["items"]] == [mine["id"]]
    assert alice("GET", f"/api/payslips/employee/{team.bob.pk}/").status_code == 404
    manager = api_as(team.manager)
    assert [p["id"] for p in manager("GET", f"/api/payslips/employee/{team.bob.pk}/").json()["items"]] == [bobs["id"]]
    assert len(manager("GET", "/api/payslips/").json()["items"]) == 3
    assert len(manager("GET", f"/api/payslips/?period={period['id']}&approval_status=draft").json()["items"]) == 3
    assert alice("POST", f"/api/payslips/{mine['id']}/approve/").status_code == 403
    assert alice("PUT", f"/api/payslips/{mine['id']}/", {"bonus_amount": "1000000"}).status_code == 403


def test_edit_approve_and_pay_one_payslip(team, api_as, period):
    manager, admin = api_as(team.manager), api_as(team.admin)
    slip = _payslip_of(period, team.alice)
    edited = manager("PUT", f"/api/payslips/{slip['id']}/", {
        "overtime_hours": "10", "bonus_amount": "300",
        "other_deductions": [{"type": "loan", "amount": "100", "description": "laptop"}]})
    assert edited.status_code == 200, edited.content
    body = edited.json()
    assert body["overtime_amount"] == "375" and body["gross_salary"] == "6375"
    assert body["other_deductions"] == [{"type": "loan", "amount": "100.00", "description": "laptop"}]
    assert manager("PUT", f"/api/payslips/{slip['id']}/", {"bonus_amount": "-5"}).json()["error"]["code"] == \
        "invalid_amount"
    too_much = manager("PUT", f"/api/payslips/{slip['id']}/", {"other_deductions": [{"amount": "999999"}]})
    assert too_much.status_code == 422 and too_much.json()["error"]["code"] == "negative_net_pay"
    unapproved = manager("POST", f"/api/payslips/{slip['id']}/process-payment/", {"reference": "T-1"})
    assert unapproved.status_code == 409 and unapproved.json()["error"]["code"] == "payslip_not_approved"
    approved = admin("POST", f"/api/payslips/{slip['id']}/approve/")
    assert approved.status_code == 200 and approved.json()["approval_status"] == "approved"
    assert approved.json()["approved_by"] == str(team.admin.pk)
    twice = manager("POST", f"/api/payslips/{slip['id']}/approve/")
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "payslip_not_draft"
    assert manager("POST", f"/api/payslips/{slip['id']}/process-payment/", {}).status_code == 422
    paid = manager("POST", f"/api/payslips/{slip['id']}/process-payment/", {"reference": "T-1"})
    assert paid.status_code == 200, paid.content
    assert paid.json()["payment_status"] == "paid" and paid.json()["payment_reference"] == "T-1"
    again = manager("POST", f"/api/payslips/{slip['id']}/process-payment/", {"reference": "T-1"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "payslip_already_paid"
    assert sum(balances(team.organization.pk).values()) == 0


def test_own_payslip_approval_is_refused(team, api_as):
    from payroll import services

    services.pay_profile_set(actor=team.admin, employee=team.manager, basic_salary="7000", payment_method="bank")
    body = api_as(team.manager)("POST", "/api/payroll/periods/", JANUARY).json()
    own = _payslip_of(body, team.manager)
    response = api_as(team.manager)("POST", f"/api/payslips/{own['id']}/approve/")
    assert response.status_code == 403 and response.json()["error"]["code"] == "own_payslip"
    assert api_as(team.admin)("POST", f"/api/payslips/{own['id']}/approve/").status_code == 200


def test_processing_a_period(team, api_as, period):
    manager = api_as(team.manager)
    path = f"/api/payroll/periods/{period['id']}/process/"
    nothing = manager("POST", path, {"reference": "B-1"})
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "no_approved_payslips"
    for person in (team.alice, team.bob, team.carol):
        assert manager("POST", f"/api/payslips/{_payslip_of(period, person)['id']}/approve/").status_code == 200
    crypto = manager("POST", path, {"reference": "B-1"})  # a crypto payslip spends from a key: approved session
    assert crypto.status_code == 403 and crypto.json()["error"]["code"] == "session_not_approved"
    assert not Payslip.objects.filter(payment_status="paid").exists()
    carol = _payslip_of(period, team.carol)["id"]
    single = manager("POST", f"/api/payslips/{carol}/process-payment/", {"reference": "x"})
    assert single.status_code == 403 and single.json()["error"]["code"] == "session_not_approved"
    assert manager("POST", "/api/auth/confirm-password/", {"password": "Passw0rd!long"}).status_code == 200
    no_wallet = manager("POST", path, {"reference": "B-1"})
    assert no_wallet.status_code == 422 and no_wallet.json()["error"]["code"] == "payout_wallet_required"
    assert not Payslip.objects.filter(payment_status="paid").exists()
    # pay carol by bank instead: back to a draft is not possible once approved, so cancel and recreate
    Payslip.objects.filter(pk=carol).update(payment_method="bank")  # (a manager's decision, made in the data here)
    missing = manager("POST", path, {})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "payment_reference_required"
    done = manager("POST", path, {"reference": "B-1"})
    assert done.status_code == 200, done.content
    assert done.json()["period"]["status"] == "paid"
    assert len(done.json()["paid"]) == 3
    closed = manager("POST", path, {"reference": "B-2"})
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "payroll_period_closed"
    assert manager("DELETE", f"/api/payroll/periods/{period['id']}/").status_code == 409
    books = balances(team.organization.pk)
    assert sum(books.values()) == 0 and books["1120"] + books["1110"] == -sum(
        Payslip.objects.get(pk=p["id"]).net_salary for p in period["payslips"])


def test_crypto_payslip_of_an_employee_without_a_wallet(team, api_as, period):
    manager = api_as(team.manager)
    bob = _payslip_of(period, team.bob)["id"]
    assert manager("PUT", f"/api/payslips/{bob}/", {"payment_method": "crypto"}).status_code == 200
    response = manager("POST", f"/api/payslips/{bob}/approve/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "employee_wallet_missing"


def test_create_a_payslip_and_delete_a_draft_period(team, api_as, period):
    from payroll import services

    manager = api_as(team.manager)
    services.pay_profile_set(actor=team.manager, employee=team.no_profile, basic_salary="2000", payment_method="cash")
    made = manager("POST", "/api/payslips/", {"period_id": "2026-01", "employee": "unpaid", "bonus_amount": "5"})
    assert made.status_code == 201, made.content
    assert made.json()["payslip_id"] == "2026-01-004" and made.json()["gross_salary"] == "2005"
    by_id = manager("POST", "/api/payslips/", {"period_id": period["id"], "employee": str(team.no_profile.pk)})
    assert by_id.status_code == 409 and by_id.json()["error"]["code"] == "payslip_exists"
    assert manager("POST", "/api/payslips/", {"period_id": "nope", "employee": "unpaid"}).status_code == 404
    assert manager("POST", "/api/payslips/", {"period_id": "2026-01", "employee": "nobody"}).status_code == 404
    assert manager("POST", "/api/payslips/", {"period_id": "2026-01", "employee": "newbie"}).json()["error"][
        "code"] == "employee_not_verified"
    assert manager("DELETE", f"/api/payroll/periods/{period['id']}/").status_code == 204
    assert manager("GET", f"/api/payroll/periods/{period['id']}/").status_code == 404
    assert not Payslip.objects.filter(period_id=period["id"]).exists()


def test_cancel_a_period(team, api_as, period):
    manager = api_as(team.manager)
    response = manager("PUT", f"/api/payroll/periods/{period['id']}/", {"status": "cancelled"})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert {p["approval_status"] for p in response.json()["payslips"]} == {"cancelled"}
    assert response.json()["total_amount"] == "0"
    assert manager("PUT", f"/api/payroll/periods/{period['id']}/", {"status": "paid"}).status_code == 422
