"""The ledger's salary rule (ledger.journal_rules, pure), the one rule that books payroll's crypto
payouts: a spend labelled "salary" debits Payroll liabilities with the coins' full value, the gas goes
to Gas fees, nothing to General expenses; a "payment" keeps the spend rule."""

import datetime as dt
from decimal import Decimal as D

from ledger.cost_basis import Trade, compute
from ledger.journal_rules import plan_journals


def when(day):
    return dt.datetime(2026, 1, day, 12, tzinfo=dt.UTC)


def plans_of(trades):
    keys = [f"k{i}" for i in range(len(trades))]
    trades = [t.__class__(**{**t.__dict__, "ref": k}) for t, k in zip(trades, keys)]
    return {p.key: p for p in plan_journals(trades, keys, compute(trades, method="fifo"))}


def lines(plan):
    return sorted((l.account, l.debit, l.credit) for l in plan.lines)


BUY = Trade(when(1), sent_asset="USD", sent_amount=D("2000"), received_asset="ETH", received_amount=D("1"))


def test_salary_in_eth_settles_the_liability_at_full_value_and_books_the_gas():
    # 0.5 ETH paid as salary, worth 1,500 on the day (cost 1,000), gas 0.01 ETH (30 at the day's rate,
    # cost 20): Dr Payroll liabilities 1,500 (the value the employee received), Dr Gas fees 30;
    # Cr ETH 1,000 + 20 at cost; gains 500 and 10.
    salary = Trade(when(2), sent_asset="ETH", sent_amount=D("0.5"), net_worth=D("1500"), label="salary",
                   fee_asset="ETH", fee_amount=D("0.01"))
    plan = plans_of([BUY, salary])["k1"]
    assert lines(plan) == [
        ("crypto:ETH", 0, D("20.00")), ("crypto:ETH", 0, D("1000.0")), ("gas_fees", D("30"), 0),
        ("payroll_liabilities", D("1500"), 0), ("realised_gains", 0, D("10.00")), ("realised_gains", 0, D("500.0"))]
    assert plan.total_debit == plan.total_credit
    assert plan.description == "Salary of 0.5 ETH"
    assert not any(l.account == "general_expenses" for l in plan.lines)


def test_a_payment_keeps_the_spend_rule():
    payment = Trade(when(2), sent_asset="ETH", sent_amount=D("0.5"), net_worth=D("1500"), label="payment",
                    fee_asset="ETH", fee_amount=D("0.01"))
    plan = plans_of([BUY, payment])["k1"]
    assert ("general_expenses", D("1470"), 0) in lines(plan)
    assert not any(l.account == "payroll_liabilities" for l in plan.lines)


def test_salary_in_a_token_with_its_gas_in_eth():
    # 3,000 TUSD bought for 3,000; 2,997.4 paid as salary worth 2,997.40, gas 0.0013 ETH worth 2.60.
    buy_token = Trade(when(1), sent_asset="USD", sent_amount=D("3000"), received_asset="TUSD",
                      received_amount=D("3000"))
    salary = Trade(when(2), sent_asset="TUSD", sent_amount=D("2997.4"), net_worth=D("2997.40"), label="salary",
                   fee_asset="ETH", fee_amount=D("0.0013"), fee_value=D("2.60"))
    plan = plans_of([BUY, buy_token, salary])["k2"]
    got = lines(plan)
    assert ("payroll_liabilities", D("2997.40"), 0) in got and ("gas_fees", D("2.60"), 0) in got
    assert ("crypto:TUSD", 0, D("2997.4")) in got
    assert plan.total_debit == plan.total_credit


def test_salary_without_a_fee():
    salary = Trade(when(2), sent_asset="ETH", sent_amount=D("0.25"), net_worth=D("600"), label="salary")
    assert lines(plans_of([BUY, salary])["k1"]) == [
        ("crypto:ETH", 0, D("500.00")), ("payroll_liabilities", D("600"), 0), ("realised_gains", 0, D("100.00"))]
