"""The payroll engine (payroll/engine, pure Python): hand-worked payslips, then properties."""

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payroll.engine import (EXAMPLE_TABLE, Bracket, Deduction, PayInputs, PayrollError, WithholdingTable, cents,
                            compute_payslip, period_totals, prorate_fraction, table_in_force, token_amount,
                            withheld_tax)

JAN = dict(period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 1, 31))
FEB = dict(period_start=dt.date(2026, 2, 1), period_end=dt.date(2026, 2, 28))


def test_a_full_month_with_every_kind_of_earning_and_deduction():
    slip = compute_payslip(PayInputs(**JAN, basic_salary=D("4000"), housing_allowance=D("500"),
                                     transport_allowance=D("200"), other_allowances=D("100"), hourly_rate=D("25"),
                                     overtime_hours=D("10"), bonus=D("300"),
                                     other_deductions=(Deduction("loan", D("100"), "laptop loan"),)), EXAMPLE_TABLE)
    # overtime: 10 h x (1.5 x 25.00) = 375.00; gross 4000 + 500 + 200 + 100 + 375 + 300 = 5475.00
    assert slip.overtime_rate == D("37.5") and slip.overtime_amount == D("375.00")
    assert slip.gross == D("5475.00")
    # tax: 0 % of the first 1000, 10 % of 3000 = 300.00, 20 % of 1475 = 295.00
    assert slip.tax == D("595.00")
    assert slip.employee_insurance == D("273.75")  # 5 %
    assert slip.employer_insurance == D("438.00")  # 8 %, not deducted
    assert slip.other_deductions_total == D("100.00")
    assert slip.total_deductions == D("968.75")
    assert slip.net == D("4506.25")
    assert slip.employer_cost == D("5913.00")
    assert (slip.days_paid, slip.days_in_period) == (31, 31)


def test_the_example_table_worked_in_its_comment():
    slip = compute_payslip(PayInputs(**JAN, basic_salary=D("5000")), EXAMPLE_TABLE)
    assert (slip.tax, slip.employee_insurance, slip.employer_insurance, slip.net) == (
        D("500.00"), D("250.00"), D("400.00"), D("4250.00"))


def test_a_start_inside_the_period_prorates_salary_and_allowances_by_calendar_days():
    # employed from 11 January: 21 of 31 days
    slip = compute_payslip(PayInputs(**JAN, basic_salary=D("3100"), housing_allowance=D("310"), bonus=D("0"),
                                     employment_start=dt.date(2026, 1, 11)), EXAMPLE_TABLE)
    assert (slip.days_paid, slip.days_in_period) == (21, 31)
    assert slip.basic_salary == D("2100.00") and slip.housing_allowance == D("210.00")
    assert slip.gross == D("2310.00")
    assert slip.tax == D("131.00")  # 10 % of 1310
    assert slip.employee_insurance == D("115.50")
    assert slip.net == D("2063.50")


def test_a_leave_date_inside_the_period_prorates_too():
    slip = compute_payslip(PayInputs(**FEB, basic_salary=D("2800"), employment_end=dt.date(2026, 2, 14)),
                           EXAMPLE_TABLE)
    assert (slip.days_paid, slip.basic_salary) == (14, D("1400.00"))


def test_hourly_staff_are_paid_hours_times_rate_and_overtime_at_an_explicit_rate():
    slip = compute_payslip(PayInputs(**JAN, hourly_rate=D("18.75"), hours_worked=D("160"), overtime_hours=D("5"),
                                     overtime_rate=D("30")), EXAMPLE_TABLE)
    assert slip.hourly_pay == D("3000.00") and slip.overtime_amount == D("150.00")
    assert slip.gross == D("3150.00") and slip.tax == D("215.00") and slip.employee_insurance == D("157.50")
    assert slip.net == D("2777.50")


def test_hours_are_not_prorated():
    slip = compute_payslip(PayInputs(**JAN, hourly_rate=D("20"), hours_worked=D("10"),
                                     employment_start=dt.date(2026, 1, 20)), EXAMPLE_TABLE)
    assert slip.hourly_pay == D("200.00")


def test_rounding_is_half_even_to_cents_once_per_line():
    flat = WithholdingTable(effective_from=dt.date(2020, 1, 1), flat_rate=D("0.20"))
    assert cents(D("0.125")) == D("0.12") and cents(D("0.135")) == D("0.14") and cents(D("-0.125")) == D("-0.12")
    slip = compute_payslip(PayInputs(**JAN, bonus=D("1234.565")), flat)
    assert slip.bonus == D("1234.56")
    assert slip.tax == D("246.91")  # 20 % of 1234.56 = 246.912
    assert slip.net == D("987.65")
    third = compute_payslip(PayInputs(period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 1, 3),
                                      basic_salary=D("1000"), employment_start=dt.date(2026, 1, 3)), flat)
    assert third.basic_salary == D("333.33")


def test_a_flat_table_and_the_table_in_force_on_the_pay_date():
    old = WithholdingTable(effective_from=dt.date(2025, 1, 1), flat_rate=D("0.10"))
    new = WithholdingTable(effective_from=dt.date(2026, 1, 1), flat_rate=D("0.15"))
    assert table_in_force([new, old], dt.date(2025, 12, 31)) is old
    assert table_in_force([new, old], dt.date(2026, 1, 1)) is new
    with pytest.raises(PayrollError) as exc:
        table_in_force([new, old], dt.date(2024, 12, 31))
    assert exc.value.code == "no_withholding_table"
    assert withheld_tax(D("1000.00"), new) == D("150.0000")


@pytest.mark.parametrize("table, code", [
    (WithholdingTable(effective_from=dt.date(2020, 1, 1)), "invalid_withholding_table"),
    (WithholdingTable(effective_from=dt.date(2020, 1, 1), flat_rate=D("1.5")), "invalid_withholding_table"),
    (WithholdingTable(effective_from=dt.date(2020, 1, 1), brackets=(Bracket(D("100"), D("0.1")),)),
     "invalid_withholding_table"),
    (WithholdingTable(effective_from=dt.date(2020, 1, 1), brackets=(
        Bracket(D("100"), D("0.1")), Bracket(D("50"), D("0.2")), Bracket(None, D("0.3")))), "invalid_withholding_table"),
    (WithholdingTable(effective_from=dt.date(2020, 1, 1), flat_rate=D("0.1"), employee_insurance_rate=D("-0.1")),
     "invalid_amount"),
])
def test_invalid_tables_are_refused(table, code):
    with pytest.raises(PayrollError) as exc:
        table.validate()
    assert exc.value.code == code


def test_the_example_table_is_valid():
    assert EXAMPLE_TABLE.validate() is EXAMPLE_TABLE


@pytest.mark.parametrize("inputs, code", [
    (PayInputs(**JAN, basic_salary=100.0), "invalid_amount"),
    (PayInputs(**JAN, basic_salary=D("-1")), "invalid_amount"),
    (PayInputs(**JAN, basic_salary=D("NaN")), "invalid_amount"),
    (PayInputs(**JAN, basic_salary=D("1000"), overtime_hours=D("2")), "overtime_rate_required"),
    (PayInputs(**JAN, basic_salary=D("100"), other_deductions=(Deduction("loan", D("200")),)), "negative_net_pay"),
    (PayInputs(**JAN, basic_salary=D("100"), employment_start=dt.date(2026, 2, 1)), "not_employed_in_period"),
    (PayInputs(period_start=dt.date(2026, 2, 1), period_end=dt.date(2026, 1, 1)), "invalid_period"),
])
def test_inputs_the_engine_refuses(inputs, code):
    with pytest.raises(PayrollError) as exc:
        compute_payslip(inputs, EXAMPLE_TABLE)
    assert exc.value.code == code


def test_token_amounts_are_exact_in_the_tokens_decimals():
    assert token_amount(D("4250.00"), D("2500"), 18) == (D("1.700000000000000000"), 1_700_000_000_000_000_000)
    quantity, units = token_amount(D("100.00"), D("3"), 6)  # 33.3333333... -> 33.333333
    assert (quantity, units) == (D("33.333333"), 33_333_333)
    assert token_amount(D("0.05"), D("0.1"), 0) == (D("0"), 0)  # 0.5 -> 0 half-even
    with pytest.raises(PayrollError):
        token_amount(D("1"), D("0"), 18)


# --- properties --------------------------------------------------------------------------------------

money = st.decimals(min_value=D("0"), max_value=D("50000"), places=3, allow_nan=False, allow_infinity=False)
small = st.decimals(min_value=D("0"), max_value=D("200"), places=2, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=D("0"), max_value=D("0.6"), places=4, allow_nan=False, allow_infinity=False)


@st.composite
def tables(draw):
    if draw(st.booleans()):
        return WithholdingTable(effective_from=dt.date(2000, 1, 1), flat_rate=draw(rates),
                                employee_insurance_rate=draw(rates) / 4, employer_insurance_rate=draw(rates) / 4)
    bounds = sorted(set(draw(st.lists(st.integers(1, 30000), min_size=0, max_size=4))))
    brackets = tuple(Bracket(D(b), draw(rates)) for b in bounds) + (Bracket(None, draw(rates)),)
    return WithholdingTable(effective_from=dt.date(2000, 1, 1), brackets=brackets,
                            employee_insurance_rate=draw(rates) / 4, employer_insurance_rate=draw(rates) / 4)


@st.composite
def inputs(draw):
    start = dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 700)))
    end = start + dt.timedelta(days=draw(st.integers(0, 40)))
    employment_start = draw(st.one_of(st.none(), st.integers(0, (end - start).days).map(
        lambda d: start + dt.timedelta(days=d))))
    first = employment_start or start
    employment_end = draw(st.one_of(st.none(), st.integers((first - start).days, (end - start).days).map(
        lambda d: start + dt.timedelta(days=d))))
    return PayInputs(period_start=start, period_end=end, basic_salary=draw(money), housing_allowance=draw(money) / 10,
                     transport_allowance=draw(money) / 10, other_allowances=draw(money) / 10,
                     hourly_rate=draw(small) + D("0.01"), hours_worked=draw(small), overtime_hours=draw(small) / 10,
                     overtime_multiple=draw(st.sampled_from([D("1"), D("1.25"), D("1.5"), D("2")])),
                     bonus=draw(money) / 5,
                     other_deductions=tuple(Deduction("other", a) for a in draw(st.lists(small, max_size=3))),
                     employment_start=employment_start, employment_end=employment_end)


def _whole_cents(value: D) -> bool:
    return value == value.quantize(D("0.01"))


@settings(max_examples=400, deadline=None)
@given(inputs(), tables())
def test_every_payslip_is_whole_cents_and_gross_minus_deductions_is_net(pay, table):
    try:
        slip = compute_payslip(pay, table)
    except PayrollError as exc:
        assert exc.code == "negative_net_pay"
        return
    amounts = [slip.basic_salary, slip.housing_allowance, slip.transport_allowance, slip.other_allowances,
               slip.hourly_pay, slip.overtime_amount, slip.bonus, slip.gross, slip.tax, slip.employee_insurance,
               slip.employer_insurance, slip.other_deductions_total, slip.total_deductions, slip.net]
    assert all(_whole_cents(a) and a >= 0 for a in amounts)
    assert slip.gross == (slip.basic_salary + slip.allowances_total + slip.hourly_pay + slip.overtime_amount
                          + slip.bonus)
    assert slip.total_deductions == slip.tax + slip.employee_insurance + slip.other_deductions_total
    assert slip.gross - slip.total_deductions == slip.net
    assert 0 < slip.days_paid <= slip.days_in_period
    # the tax never exceeds the top rate of the table on the gross (plus half a cent of rounding)
    top = table.flat_rate if table.flat_rate is not None else max(b.rate for b in table.brackets)
    assert slip.tax <= slip.gross * top + D("0.005")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(inputs(), st.sampled_from(["crypto", "bank", "cash"])), min_size=0, max_size=12), tables())
def test_a_periods_totals_are_the_sums_of_its_payslips_and_the_journal_balances(pays, table):
    slips, methods = [], {}
    for pay, method in pays:
        try:
            slip = compute_payslip(pay, table)
        except PayrollError:
            continue
        slips.append(slip)
        methods[id(slip)] = method
    totals = period_totals(slips, method_of=lambda s: methods[id(s)])
    assert totals.count == len(slips)
    assert totals.net == sum((s.net for s in slips), D("0"))
    assert totals.gross == sum((s.gross for s in slips), D("0"))
    assert sum(totals.by_method.values(), D("0")) == totals.net
    # no cent created or lost: what the employer spends is exactly what is paid or owed to someone
    assert totals.employer_cost == (totals.net + totals.tax + totals.employee_insurance + totals.employer_insurance
                                    + totals.other_deductions)
    assert all(_whole_cents(v) for v in (totals.gross, totals.net, totals.tax, totals.employee_insurance,
                                          totals.employer_insurance, totals.other_deductions))


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=D("0"), max_value=D("100000"), places=2), tables())
def test_bracket_tax_is_continuous_and_never_decreases_with_gross(gross, table):
    more = gross + D("0.01")
    assert withheld_tax(more, table) >= withheld_tax(gross, table)
    top = table.flat_rate if table.flat_rate is not None else max(b.rate for b in table.brackets)
    assert withheld_tax(more, table) - withheld_tax(gross, table) <= D("0.01") * top


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
def test_prorating_counts_inclusive_days(a, b, c):
    start = dt.date(2026, 1, 1)
    end = start + dt.timedelta(days=a)
    employed_from = start + dt.timedelta(days=b)
    paid, total = prorate_fraction(start, end, employed_from, employed_from + dt.timedelta(days=c))
    assert total == a + 1
    expected = max(0, min(a, b + c) - b + 1) if b <= a else 0
    assert paid == expected
