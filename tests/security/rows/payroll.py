"""Access-matrix rows of payroll (/api/payroll/periods/, /api/payslips/) and the makers of its objects
in organization A: periods made through the API by A's manager, each drafting a payslip for A's plain
user (who has a pay profile); A's plain user reads their own payslips."""

import itertools

from tests.security.access_table import BOOKS, EVERYONE, STAFF, Rule

PERIODS = "/api/payroll/periods/"
PAYSLIP = "/api/payslips/{payslip_id}/"

API = {
    ("GET", PERIODS): Rule(BOOKS),
    ("POST", PERIODS): Rule(STAFF, body={"period_id": "matrix-made", "start_date": "2026-05-01",
                                         "end_date": "2026-05-31", "pay_date": "2026-05-31"},
                            note="B has no withholding table: 409, which is B's own answer"),
    ("GET", PERIODS + "{period_id}/"): Rule(BOOKS, obj="payroll_period"),
    ("PUT", PERIODS + "{period_id}/"): Rule(STAFF, obj="payroll_period", body={"description": "matrix edit"}),
    ("DELETE", PERIODS + "{period_id}/"): Rule(STAFF, obj="payroll_period", destructive=True),
    ("POST", PERIODS + "{period_id}/process/"): Rule(STAFF, obj="approved_period", destructive=True,
                                                     body={"reference": "matrix batch"}),
    ("GET", "/api/payslips/"): Rule(EVERYONE, note="one's own payslips; every payslip for the books roles"),
    ("POST", "/api/payslips/"): Rule(STAFF, obj="payroll_period",
                                     body={"period_id": "matrix-open", "employee": "a_user"},
                                     note="names A's period by its period_id: another organization's is 404"),
    ("GET", "/api/payslips/employee/{employee_id}/"): Rule(EVERYONE, obj="payroll_employee",
                                                          note="the employee themselves, or the books roles"),
    ("GET", PAYSLIP): Rule(EVERYONE, obj="payslip", note="A's plain user is the payslip's employee"),
    ("PUT", PAYSLIP): Rule(STAFF, obj="payslip", body={"bonus_amount": "10"}),
    ("POST", PAYSLIP + "approve/"): Rule(STAFF, obj="payslip", destructive=True),
    ("POST", PAYSLIP + "process-payment/"): Rule(STAFF, obj="approved_payslip", destructive=True,
                                                 body={"reference": "matrix transfer"}),
    ("POST", PAYSLIP + "send/"): Rule(STAFF, obj="approved_payslip"),
    ("GET", PAYSLIP + "pdf/"): Rule(EVERYONE, obj="payslip"),
    ("GET", PAYSLIP + "download/"): Rule(EVERYONE, obj="payslip"),
}

PAGES = {
    ("GET", "/app/payroll/"): Rule(BOOKS),
    ("GET", "/app/payroll/periods/{period_id}/"): Rule(BOOKS, obj="payroll_period"),
    ("POST", "/app/payroll/periods/{period_id}/process/"): Rule(STAFF, obj="approved_period", destructive=True,
                                                                body={"reference": "matrix page batch"}),
    ("POST", "/app/payroll/payslips/{payslip_id}/edit/"): Rule(STAFF, obj="payslip", body={"bonus_amount": "5"}),
    ("POST", "/app/payroll/payslips/{payslip_id}/approve/"): Rule(STAFF, obj="payslip", destructive=True),
    ("GET", "/app/payroll/my-payslips/"): Rule(EVERYONE),
}


def make_fresh(kit):
    from payroll import services
    from tests.security.world import SECRET

    numbers = itertools.count(1)
    ready = []
    manager = kit.actors["A:manager"]

    def setup():
        if ready:
            return
        ready.append(True)
        services.withholding_example_install(actor=manager.user)
        services.pay_profile_set(actor=manager.user, employee=kit.members["A:user"], basic_salary="3000",
                                 payment_method="bank", bank_details={"iban": SECRET})
        kit.ok(manager.api(kit.client, "POST", PERIODS, {
            "period_id": "matrix-open", "start_date": "2026-04-01", "end_date": "2026-04-30",
            "pay_date": "2026-04-30", "description": f"open {SECRET}"}), "open payroll period")

    def new_period_body():
        setup()
        return kit.ok(manager.api(kit.client, "POST", PERIODS, {
            "period_id": f"matrix-{next(numbers)}", "start_date": "2026-03-01", "end_date": "2026-03-31",
            "pay_date": "2026-03-31", "description": f"period {SECRET}"}), "payroll period")

    def own_payslip(body):
        user_id = str(kit.members["A:user"].pk)
        return next(p for p in body["payslips"] if p["employee"] == user_id)

    def new_period():
        body = new_period_body()
        kit.remember("payslip_in_period", own_payslip(body)["id"])
        return kit.remember("payroll_period", body["id"])

    def new_payslip():
        return kit.remember("payslip", own_payslip(new_period_body())["id"])

    def approved():
        body = new_period_body()
        payslip = own_payslip(body)
        kit.ok(manager.api(kit.client, "POST", f"/api/payslips/{payslip['id']}/approve/"), "approve payslip")
        return body, payslip

    def new_approved_payslip():
        return kit.remember("approved_payslip", approved()[1]["id"])

    def new_approved_period():
        return kit.remember("approved_period", approved()[0]["id"])

    def payroll_employee():
        return kit.remember("payroll_employee", kit.members["A:user"].pk)

    return {"payroll_period": new_period, "payslip": new_payslip, "approved_payslip": new_approved_payslip,
            "approved_period": new_approved_period, "payroll_employee": payroll_employee}
