"""The pure double-entry rules (no database): line checks, exact sums, reversal, cycles, roll-ups."""

from decimal import Decimal

import pytest

from ledger.double_entry import (
    EntryRuleError,
    account_tree,
    balances_rolled_up,
    lines_reversed,
    lines_validate,
    parent_cycle,
)


def line(code, debit=None, credit=None):
    return {"account_code": code, "debit_amount": debit, "credit_amount": credit}


def test_sums_of_the_largest_amounts_are_exact():
    big = Decimal("49999999999999999999999999.99999999")  # 34 digits; the default context keeps only 28
    total = Decimal("99999999999999999999999999.99999998")
    lines, debit, credit = lines_validate([line("a", big), line("a", big), line("b", credit=total)])
    assert debit == credit == total
    with pytest.raises(EntryRuleError) as refused:
        lines_validate([line("a", big), line("a", big), line("b", credit=Decimal("99999999999999999999999999.99999999"))])
    assert refused.value.code == "unbalanced" and refused.value.details["difference"] == "-1E-8"


@pytest.mark.parametrize("lines, code", [
    ([line("a", Decimal("Infinity")), line("b", credit=Decimal(1))], "invalid_amount"),
    ([line("a", "x"), line("b", credit=1)], "invalid_amount"),
    ([line("", 1), line("b", credit=1)], "missing_account"),
    ([line("a", Decimal("1e26")), line("b", credit=Decimal("1e26"))], "amount_too_large"),
    ([line("a", 1)] * 501, "too_many_lines"),
])
def test_rule_errors(lines, code):
    with pytest.raises(EntryRuleError) as refused:
        lines_validate(lines)
    assert refused.value.code == code


def test_trailing_zeros_beyond_eight_decimals_are_not_extra_precision():
    lines, debit, _ = lines_validate([line("a", Decimal("1.0000000000")), line("b", credit=Decimal(1))])
    assert debit == 1


def test_reversal_swaps_sides():
    lines, _, _ = lines_validate([line("a", Decimal(5)), line("b", credit=Decimal(5))])
    assert [(l["account_code"], l["debit_amount"], l["credit_amount"]) for l in lines_reversed(lines)] == [
        ("a", 0, 5), ("b", 5, 0)]


def test_parent_cycles():
    parent_of = {"1": "", "2": "1", "3": "2", "4": ""}
    assert parent_cycle("1", "3", parent_of) == ["1", "3", "2", "1"]
    assert parent_cycle("1", "1", parent_of) == ["1", "1"]
    assert parent_cycle("4", "3", parent_of) is None
    assert parent_cycle("3", "4", parent_of) is None


def test_tree_and_roll_up_survive_bad_data():
    parent_of = {"1": "", "2": "1", "3": "2", "x": "y", "y": "x", "orphan": "missing"}
    tree = account_tree(parent_of)
    assert (tree["3"].level, tree["3"].path) == (2, ("1", "2", "3"))
    assert tree["orphan"].level == 0
    assert {tree["x"].level, tree["y"].level} == {0, 1}  # the cycle is cut, not followed forever
    rolled = balances_rolled_up(parent_of, {"3": Decimal(7), "2": Decimal(-2)})
    assert (rolled["1"], rolled["2"], rolled["3"]) == (5, 5, 7)
