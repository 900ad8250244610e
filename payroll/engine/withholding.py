"""Withholding tables: what is withheld from a payslip (tax by brackets or at a flat rate, the
employee's insurance) and what the employer adds (employer insurance). An organization keeps a
history of versions; the version in force on the pay date applies (`table_in_force`).

Brackets are marginal and apply to one payslip's gross pay: each bracket's rate applies to the slice
of gross pay up to its `up_to` (None: no upper bound), above the previous bracket's bound. A flat
table (`flat_rate`) taxes the whole gross at one rate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from payroll.engine.rounding import EXACT, PayrollError, ZERO, to_money
from decimal import Decimal


@dataclass(frozen=True)
class Bracket:
    up_to: Decimal | None  # upper bound of the slice of gross pay (per payslip); None = no bound
    rate: Decimal  # 0.10 = 10 %


@dataclass(frozen=True)
class WithholdingTable:
    effective_from: dt.date
    brackets: tuple[Bracket, ...] = ()
    flat_rate: Decimal | None = None
    employee_insurance_rate: Decimal = Decimal(0)
    employer_insurance_rate: Decimal = Decimal(0)
    name: str = ""

    def validate(self) -> "WithholdingTable":
        """The table, checked: rates in [0, 1], either brackets or a flat rate, bounds increasing and
        the last bracket unbounded."""
        if (self.flat_rate is None) == (not self.brackets):
            raise PayrollError("invalid_withholding_table", "A table has either brackets or a flat rate.")
        rates = [("employee_insurance_rate", self.employee_insurance_rate),
                 ("employer_insurance_rate", self.employer_insurance_rate)]
        if self.flat_rate is not None:
            rates.append(("flat_rate", self.flat_rate))
        rates += [(f"brackets[{i}].rate", b.rate) for i, b in enumerate(self.brackets)]
        for field, rate in rates:
            rate = to_money(rate, field)
            if rate > 1:
                raise PayrollError("invalid_withholding_table", f"{field}: a rate is between 0 and 1.",
                                   {"field": field})
        previous = Decimal(0)
        for i, bracket in enumerate(self.brackets):
            last = i == len(self.brackets) - 1
            if bracket.up_to is None:
                if not last:
                    raise PayrollError("invalid_withholding_table", "Only the last bracket is unbounded.")
                continue
            if last:
                raise PayrollError("invalid_withholding_table", "The last bracket has no upper bound.")
            bound = to_money(bracket.up_to, f"brackets[{i}].up_to")
            if bound <= previous:
                raise PayrollError("invalid_withholding_table", "Bracket bounds increase.")
            previous = bound
        return self


def withheld_tax(gross: Decimal, table: WithholdingTable) -> Decimal:
    """The tax on one payslip's gross pay, exact (not yet rounded)."""
    if table.flat_rate is not None:
        return EXACT.multiply(gross, Decimal(table.flat_rate))
    tax, lower = Decimal(0), Decimal(0)
    for bracket in table.brackets:
        upper = gross if bracket.up_to is None else min(gross, Decimal(bracket.up_to))
        if upper > lower:
            tax = EXACT.add(tax, EXACT.multiply(EXACT.subtract(upper, lower), Decimal(bracket.rate)))
        if bracket.up_to is None or gross <= Decimal(bracket.up_to):
            break
        lower = Decimal(bracket.up_to)
    return tax


def table_in_force(tables, pay_date: dt.date) -> WithholdingTable:
    """The version with the latest `effective_from` on or before the pay date."""
    candidates = [t for t in tables if t.effective_from <= pay_date]
    if not candidates:
        raise PayrollError("no_withholding_table", f"No withholding table is in force on {pay_date.isoformat()}.",
                           {"pay_date": pay_date.isoformat()})
    return max(candidates, key=lambda t: t.effective_from)


# ONE documented EXAMPLE table. It is NOT the law of any country: an illustration of the format that
# an organization replaces with its own jurisdiction's figures. Amounts are per payslip (a month):
#   gross up to 1,000.00 ........ 0 %
#   1,000.00 to 4,000.00 ........ 10 % of the slice
#   4,000.00 to 10,000.00 ....... 20 % of the slice
#   above 10,000.00 ............. 30 % of the slice
#   employee insurance 5 % of gross (withheld); employer insurance 8 % of gross (an extra cost).
# Worked: gross 5,000.00 -> tax 0 + 300.00 + 200.00 = 500.00; employee insurance 250.00;
#         employer insurance 400.00; net 4,250.00 (before other deductions).
EXAMPLE_TABLE = WithholdingTable(
    effective_from=dt.date(2000, 1, 1),
    name="Example table (illustrative, not any country's law)",
    brackets=(Bracket(Decimal("1000"), Decimal("0")), Bracket(Decimal("4000"), Decimal("0.10")),
              Bracket(Decimal("10000"), Decimal("0.20")), Bracket(None, Decimal("0.30"))),
    employee_insurance_rate=Decimal("0.05"),
    employer_insurance_rate=Decimal("0.08"),
)

__all__ = ["EXAMPLE_TABLE", "Bracket", "WithholdingTable", "ZERO", "table_in_force", "withheld_tax"]
