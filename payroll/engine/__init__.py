"""The payroll engine: the maths of a payslip, the withholding tables and the recurring-payment
calendar. Pure Python, fed plain data; imports nothing from Django or the project (like
ledger/cost_basis/). The services turn its `PayrollError` into the domain's errors.

    from payroll.engine import PayInputs, WithholdingTable, Bracket, compute_payslip, table_in_force

    table = table_in_force(tables, pay_date)              # the version in force on the pay date
    slip = compute_payslip(PayInputs(...), table)         # every figure in whole cents
    totals = period_totals([slip, ...])                   # sums of whole cents: nothing to round

Money is `Decimal` end to end (int accepted; float refused). Rounding happens in one place,
`cents()`, half-even to 0.01, once per line of the payslip (each earning, each deduction); gross,
total deductions, net and every period total are then sums and differences of whole cents, so
gross - deductions = net exactly, a period's total is exactly the sum of its payslips, and no cent is
created or lost between the payslips, the period and the journal.
"""

from payroll.engine.calendar import Frequency, add_months, next_occurrence, occurrence, occurrences_due
from payroll.engine.gas import GasCharge, employee_gas_charge
from payroll.engine.payout import token_amount
from payroll.engine.payslip import (
    Deduction,
    PayInputs,
    PayslipFigures,
    PeriodTotals,
    compute_payslip,
    period_totals,
    prorate_fraction,
)
from payroll.engine.rounding import PayrollError, cents, to_money
from payroll.engine.withholding import EXAMPLE_TABLE, Bracket, WithholdingTable, table_in_force, withheld_tax

__all__ = [
    "EXAMPLE_TABLE", "Bracket", "Deduction", "Frequency", "GasCharge", "employee_gas_charge", "PayInputs", "PayrollError", "PayslipFigures",
    "PeriodTotals", "WithholdingTable", "add_months", "cents", "compute_payslip", "next_occurrence", "occurrence",
    "occurrences_due", "period_totals", "prorate_fraction", "table_in_force", "to_money", "token_amount",
    "withheld_tax",
]
