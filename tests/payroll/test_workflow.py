"""Periods, payslips, approval, payment and the books, through the services."""

import datetime as dt
from decimal import Decimal as D

import pytest

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from payroll import services
from payroll.models import PayrollPeriod, Payslip
from tests.payroll.conftest import balances

pytestmark = pytest.mark.django_db


def _slips(period):
    return {p.employee.username: p for p in Payslip.objects.filter(period=period).select_related("employee")}


def test_a_new_period_drafts_a_payslip_for_every_active_verified_employee_with_a_profile(team, january):
    slips = _slips(january)
    assert sorted(slips) == ["alice", "bob", "carol"]
    alice, bob, carol = slips["alice"], slips["bob"], slips["carol"]
    # alice: 5000 + 500 + 200 = 5700 gross; tax 300 + 20 % of 1700 = 640; insurance 285; net 4775
    assert (alice.gross_salary, alice.tax, alice.insurance, alice.net_salary) == (
        D("5700.00"), D("640.00"), D("285.00"), D("4775.00"))
    assert alice.employer_insurance == D("456.00") and alice.payment_method == "bank"
    # bob, hourly: 160 h x 20 = 3200; tax 220; insurance 160; net 2820
    assert (bob.hourly_pay, bob.gross_salary, bob.net_salary) == (D("3200.00"), D("3200.00"), D("2820.00"))
    assert carol.payment_method == "crypto" and carol.wallet_address == "0x000000000000000000000000000000000000dEaD"
    assert carol.payout_intent_key == str(carol.pk)
    assert {s.payslip_id for s in slips.values()} == {"2026-01-001", "2026-01-002", "2026-01-003"}
    january.refresh_from_db()
    assert january.status == "draft" and january.payslip_count == 3 and january.currency == "USD"
    assert january.total_amount == sum((s.net_salary for s in slips.values()), D(0))
    assert january.total_gross == sum((s.gross_salary for s in slips.values()), D(0))


def test_a_start_inside_the_period_is_prorated(team):
    services.pay_profile_set(actor=team.manager, employee=team.no_profile, basic_salary="3100",
                             start_date=dt.date(2026, 1, 11), payment_method="cash")
    period = services.payroll_period_create(actor=team.manager, period_id="P", start_date=dt.date(2026, 1, 1),
                                            end_date=dt.date(2026, 1, 31), pay_date=dt.date(2026, 1, 31))
    slip = _slips(period)["unpaid"]
    assert (slip.days_paid, slip.days_in_period, slip.basic_salary) == (21, 31, D("2100.00"))


def test_period_ids_are_unique_per_organization(team, january, make_organization, make_user):
    with pytest.raises(Conflict) as exc:
        services.payroll_period_create(actor=team.admin, period_id="2026-01", start_date=dt.date(2026, 1, 1),
                                       end_date=dt.date(2026, 1, 31), pay_date=dt.date(2026, 1, 31))
    assert exc.value.code == "period_id_taken"
    other = make_organization("Other")
    boss = make_user("MANAGER", organization=other)
    services.withholding_example_install(actor=boss)
    services.payroll_period_create(actor=boss, period_id="2026-01", start_date=dt.date(2026, 1, 1),
                                   end_date=dt.date(2026, 1, 31), pay_date=dt.date(2026, 1, 31))
    assert PayrollPeriod.objects.filter(period_id="2026-01").count() == 2


def test_no_withholding_table_in_force_on_the_pay_date(team):
    with pytest.raises(Conflict) as exc:
        services.payroll_period_create(actor=team.manager, period_id="old", start_date=dt.date(1999, 1, 1),
                                       end_date=dt.date(1999, 1, 31), pay_date=dt.date(1999, 1, 31))
    assert exc.value.code == "no_withholding_table"


def test_the_table_in_force_on_the_pay_date_applies(team):
    services.withholding_table_create(actor=team.manager, name="flat 2026", effective_from=dt.date(2026, 2, 1),
                                      flat_rate="0.25")
    jan = services.payroll_period_create(actor=team.manager, period_id="jan", start_date=dt.date(2026, 1, 1),
                                         end_date=dt.date(2026, 1, 31), pay_date=dt.date(2026, 1, 31))
    feb = services.payroll_period_create(actor=team.manager, period_id="feb", start_date=dt.date(2026, 2, 1),
                                         end_date=dt.date(2026, 2, 28), pay_date=dt.date(2026, 2, 28))
    assert _slips(jan)["alice"].tax == D("640.00")
    assert _slips(feb)["alice"].tax == D("1425.00")  # 25 % of 5700
    assert _slips(feb)["alice"].insurance == D("0.00")
    with pytest.raises(Conflict) as exc:
        services.withholding_table_create(actor=team.manager, name="again", effective_from=dt.date(2026, 2, 1),
                                          flat_rate="0.2")
    assert exc.value.code == "withholding_table_exists"
    with pytest.raises(InvalidInput) as exc:
        services.withholding_table_create(actor=team.manager, name="bad", effective_from=dt.date(2026, 3, 1),
                                          flat_rate="2")
    assert exc.value.code == "invalid_withholding_table"
    with pytest.raises(Forbidden):
        services.withholding_table_create(actor=team.alice, name="mine", effective_from=dt.date(2026, 4, 1),
                                          flat_rate="0")


def test_managers_edit_drafts_and_the_figures_and_totals_follow(team, january):
    slip = _slips(january)["alice"]
    slip = services.payslip_update(actor=team.manager, payslip=slip, overtime_hours="10", bonus_amount="300",
                                   other_deductions=[{"type": "loan", "amount": "100", "description": "laptop"}])
    # overtime 10 h x 1.5 x 25 = 375; gross 5700 + 375 + 300 = 6375
    assert slip.overtime_amount == D("375.00") and slip.gross_salary == D("6375.00")
    assert slip.other_deductions_total == D("100.00")
    assert slip.gross_salary - slip.total_deductions == slip.net_salary
    january.refresh_from_db()
    assert january.total_amount == sum((s.net_salary for s in _slips(january).values()), D(0))


def test_nobody_edits_or_approves_their_own_payslip_and_employees_do_neither(team, make_user):
    services.pay_profile_set(actor=team.admin, employee=team.manager, basic_salary="6000", payment_method="bank")
    period = services.payroll_period_create(actor=team.manager, period_id="own", start_date=dt.date(2026, 1, 1),
                                            end_date=dt.date(2026, 1, 31), pay_date=dt.date(2026, 1, 31))
    own = _slips(period)["mgr"]
    for action in (lambda: services.payslip_approve(actor=team.manager, payslip=own),
                   lambda: services.payslip_update(actor=team.manager, payslip=own, bonus_amount="1000")):
        with pytest.raises(Forbidden) as exc:
            action()
        assert exc.value.code == "own_payslip"
    with pytest.raises(Forbidden):
        services.pay_profile_set(actor=team.manager, employee=team.manager, basic_salary="9000")
    with pytest.raises(Forbidden):
        services.payslip_approve(actor=team.alice, payslip=_slips(period)["bob"])
    assert services.payslip_approve(actor=team.admin, payslip=own).approval_status == "approved"
    with pytest.raises(Conflict) as exc:
        services.payslip_approve(actor=team.admin, payslip=own)
    assert exc.value.code == "payslip_not_draft"
    with pytest.raises(Conflict):
        services.payslip_update(actor=team.admin, payslip=own, bonus_amount="1")


def test_crypto_needs_a_wallet(team, january):
    with pytest.raises(InvalidInput) as exc:
        services.pay_profile_set(actor=team.manager, employee=team.no_profile, basic_salary="1",
                                 payment_method="crypto")
    assert exc.value.code == "employee_wallet_missing"
    slip = services.payslip_update(actor=team.manager, payslip=_slips(january)["bob"], payment_method="crypto")
    with pytest.raises(Conflict) as exc:
        services.payslip_approve(actor=team.manager, payslip=slip)
    assert exc.value.code == "employee_wallet_missing"


def test_processing_pays_approved_bank_and_cash_payslips_and_books_them(team, january):
    slips = _slips(january)
    for name in ("alice", "bob"):
        services.payslip_approve(actor=team.manager, payslip=slips[name])
    paid = services.payroll_period_process(actor=team.manager, period=january, reference="BATCH-1")
    assert [p.employee.username for p in paid] == ["alice", "bob"]
    assert all(p.payment_status == "paid" and p.payment_reference == "BATCH-1" for p in paid)
    january.refresh_from_db()
    assert january.status == "processing"  # carol's draft is still open
    books = balances(team.organization.pk)
    alice, bob = (Payslip.objects.get(pk=p.pk) for p in paid)
    cost = alice.gross_salary + alice.employer_insurance + bob.gross_salary + bob.employer_insurance
    assert books["5200"] == cost  # salaries
    assert books["2300"] == -(alice.tax + bob.tax)  # tax payable, owed
    assert books["2200"] == -(alice.insurance + alice.employer_insurance + bob.insurance + bob.employer_insurance)
    assert books["1120"] == -alice.net_salary and books["1110"] == -bob.net_salary  # bank, cash
    assert sum(books.values(), D(0)) == 0  # the trial balance
    assert alice.accrual_entry_id and alice.payment_entry_id
    from accounts.models import Notification

    assert Notification.objects.filter(user=team.alice, type="PAYROLL").count() == 1


def test_a_batch_with_a_crypto_payslip_that_cannot_be_paid_pays_nothing(team, january):
    """No approved session, then no company wallet: refused before anything is written."""
    from accounts.sessions import session_approve, session_login

    slips = _slips(january)
    for slip in slips.values():
        services.payslip_approve(actor=team.manager, payslip=slip)
    with pytest.raises(Forbidden) as exc:
        services.payroll_period_process(actor=team.manager, period=january, reference="B")
    assert exc.value.code == "session_not_approved"
    _, session, _ = session_login(login=team.manager.username, password="Passw0rd!long", ip=None)
    with pytest.raises(Forbidden):  # logged in, not confirmed by password
        services.payroll_period_process(actor=team.manager, period=january, reference="B", session=session)
    session_approve(session=session, password="Passw0rd!long", ip=None)
    with pytest.raises(InvalidInput) as exc:
        services.payroll_period_process(actor=team.manager, period=january, reference="B", session=session)
    assert exc.value.code == "payout_wallet_required"
    assert not Payslip.objects.filter(payment_status="paid").exists()
    assert balances(team.organization.pk) == {}
    with pytest.raises(Forbidden) as exc:
        services.payslip_payment_process(actor=team.manager, payslip=slips["carol"], reference="x")
    assert exc.value.code == "session_not_approved"


def test_paying_one_payslip_then_the_rest_closes_the_period(team, january):
    slips = _slips(january)
    with pytest.raises(Conflict) as exc:
        services.payslip_payment_process(actor=team.manager, payslip=slips["alice"], reference="T1")
    assert exc.value.code == "payslip_not_approved"
    with pytest.raises(Conflict) as exc:
        services.payroll_period_process(actor=team.manager, period=january, reference="B")
    assert exc.value.code == "no_approved_payslips"
    services.payslip_approve(actor=team.manager, payslip=slips["alice"])
    with pytest.raises(InvalidInput) as exc:
        services.payslip_payment_process(actor=team.manager, payslip=slips["alice"], reference=" ")
    assert exc.value.code == "payment_reference_required"
    services.payslip_payment_process(actor=team.manager, payslip=slips["alice"], reference="T1")
    with pytest.raises(Conflict) as exc:
        services.payslip_payment_process(actor=team.manager, payslip=Payslip.objects.get(pk=slips["alice"].pk),
                                         reference="T1")
    assert exc.value.code == "payslip_already_paid"
    services.payslip_update(actor=team.manager, payslip=slips["carol"], payment_method="bank")
    services.payslip_approve(actor=team.admin, payslip=slips["carol"])
    services.payslip_approve(actor=team.admin, payslip=slips["bob"])
    services.payroll_period_process(actor=team.admin, period=january,
                                    references={slips["bob"].payslip_id: "R-BOB", slips["carol"].payslip_id: "R-C"})
    january.refresh_from_db()
    assert january.status == "paid" and january.paid_at is not None
    assert Payslip.objects.get(pk=slips["bob"].pk).payment_reference == "R-BOB"
    books = balances(team.organization.pk)
    assert sum(books.values(), D(0)) == 0
    assert books["1120"] + books["1110"] == -january.total_amount  # every net paid, no cent more or less
    with pytest.raises(Conflict) as exc:
        services.payroll_period_process(actor=team.admin, period=january, reference="again")
    assert exc.value.code == "payroll_period_closed"


def test_cancel_and_delete(team, january):
    with pytest.raises(Forbidden):
        services.payroll_period_delete(actor=team.alice, period=january)
    services.payslip_approve(actor=team.manager, payslip=_slips(january)["alice"])
    services.payslip_payment_process(actor=team.manager, payslip=_slips(january)["alice"], reference="T")
    with pytest.raises(Conflict):
        services.payroll_period_delete(actor=team.manager, period=january)
    with pytest.raises(Conflict):
        services.payroll_period_update(actor=team.manager, period=january, status="cancelled")
    other = services.payroll_period_create(actor=team.manager, period_id="x", start_date=dt.date(2026, 2, 1),
                                           end_date=dt.date(2026, 2, 28), pay_date=dt.date(2026, 2, 28))
    other = services.payroll_period_update(actor=team.manager, period=other, status="cancelled")
    assert other.status == "cancelled" and other.payslip_count == 0
    assert set(Payslip.objects.filter(period=other).values_list("approval_status", flat=True)) == {"cancelled"}
    draft = services.payroll_period_create(actor=team.manager, period_id="y", start_date=dt.date(2026, 3, 1),
                                           end_date=dt.date(2026, 3, 31), pay_date=dt.date(2026, 3, 31))
    services.payroll_period_delete(actor=team.manager, period=draft)
    assert not PayrollPeriod.objects.filter(pk=draft.pk).exists()
    assert not Payslip.objects.filter(period_id=draft.pk).exists()


def test_changing_a_draft_periods_dates_recomputes_its_payslips(team, january):
    period = services.payroll_period_update(actor=team.manager, period=january, start_date=dt.date(2026, 1, 1),
                                            end_date=dt.date(2026, 1, 15), pay_date=dt.date(2026, 1, 15))
    assert period.end_date == dt.date(2026, 1, 15)
    assert _slips(period)["alice"].days_in_period == 15


def test_adding_one_payslip_to_a_draft_period(team, january):
    services.pay_profile_set(actor=team.manager, employee=team.no_profile, basic_salary="1500", payment_method="cash")
    slip = services.payslip_create(actor=team.manager, period=january, employee=team.no_profile, bonus_amount="50")
    assert slip.payslip_id == "2026-01-004" and slip.gross_salary == D("1550.00")
    with pytest.raises(Conflict) as exc:
        services.payslip_create(actor=team.manager, period=january, employee=team.no_profile)
    assert exc.value.code == "payslip_exists"
    with pytest.raises(Conflict) as exc:
        services.payslip_create(actor=team.manager, period=january, employee=team.unverified)
    assert exc.value.code == "employee_not_verified"


def test_another_organizations_objects_are_not_found(team, january, make_organization, make_user):
    stranger = make_user("MANAGER", organization=make_organization("Else"))
    slip = _slips(january)["alice"]
    for action in (lambda: services.payslip_approve(actor=stranger, payslip=slip),
                   lambda: services.payroll_period_process(actor=stranger, period=january, reference="x"),
                   lambda: services.payroll_period_delete(actor=stranger, period=january),
                   lambda: services.pay_profile_set(actor=stranger, employee=team.alice, basic_salary="1")):
        with pytest.raises(NotFound):
            action()
