"""Double-entry rules as plain Python (no Django): line validation, reversal, account tree and
roll-up of balances. Fed plain data by ledger.services and ledger.selectors.

A line is a mapping with "account_code", "debit_amount" and "credit_amount" (Decimals).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext

from core.money import EXACT, FIAT_DECIMALS, FIAT_INTEGER_DIGITS, ZERO, is_quantized

MIN_LINES = 2
MAX_LINES = 500
MONEY_DECIMAL_PLACES = FIAT_DECIMALS  # ledger.models.MONEY (core.money.FIAT_AMOUNT)
MONEY_INTEGER_DIGITS = FIAT_INTEGER_DIGITS


class EntryRuleError(Exception):
    """A broken bookkeeping rule: `code` is stable, `details` says where."""

    def __init__(self, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


def _amount(value, *, line: int, side: str) -> Decimal:
    if value is None or value == "":
        return ZERO
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise EntryRuleError("invalid_amount", f"Line {line}: {side} is not a number.", {"line": line}) from None
    if not amount.is_finite():
        raise EntryRuleError("invalid_amount", f"Line {line}: {side} must be a finite number.", {"line": line})
    if amount < 0:
        raise EntryRuleError("negative_amount", f"Line {line}: {side} cannot be negative.", {"line": line})
    with localcontext(EXACT):
        if not is_quantized(amount, MONEY_DECIMAL_PLACES):
            # Never rounded silently: the books must hold exactly what was entered.
            raise EntryRuleError("too_many_decimals",
                                 f"Line {line}: {side} has more than {MONEY_DECIMAL_PLACES} decimals.", {"line": line})
        if amount >= Decimal(10) ** MONEY_INTEGER_DIGITS:
            raise EntryRuleError("amount_too_large", f"Line {line}: {side} is too large.", {"line": line})
    return amount


def _units(line: Mapping, number: int) -> tuple[str, Decimal | None]:
    """The optional asset units of a line: a positive quantity with its asset symbol, or neither."""
    asset = str(line.get("asset") or "").strip().upper()
    quantity = line.get("quantity")
    if quantity is None or quantity == "":
        if asset:
            raise EntryRuleError("missing_quantity", f"Line {number}: an asset needs its quantity.", {"line": number})
        return "", None
    if isinstance(quantity, float) or not isinstance(quantity, (Decimal, int, str)):
        raise EntryRuleError("invalid_quantity", f"Line {number}: the quantity must be a decimal number.",
                             {"line": number})
    try:
        quantity = Decimal(str(quantity))
    except ArithmeticError:
        raise EntryRuleError("invalid_quantity", f"Line {number}: the quantity must be a decimal number.",
                             {"line": number}) from None
    if not quantity.is_finite() or quantity <= 0:
        raise EntryRuleError("invalid_quantity", f"Line {number}: the quantity must be positive.", {"line": number})
    if not asset:
        raise EntryRuleError("missing_asset", f"Line {number}: a quantity needs its asset symbol.", {"line": number})
    if len(asset) > 20:
        raise EntryRuleError("invalid_asset", f"Line {number}: an asset symbol has at most 20 characters.",
                             {"line": number})
    return asset, quantity


def lines_validate(lines: Iterable[Mapping]) -> tuple[list[dict], Decimal, Decimal]:
    """Check the rules every entry obeys and return (normalised lines, total debit, total credit):
    at least two lines, each exactly one positive debit or credit, debits equal credits exactly."""
    lines = list(lines)
    if len(lines) < MIN_LINES:
        raise EntryRuleError("too_few_lines", f"An entry needs at least {MIN_LINES} lines.", {"lines": len(lines)})
    if len(lines) > MAX_LINES:
        raise EntryRuleError("too_many_lines", f"An entry has at most {MAX_LINES} lines.", {"lines": len(lines)})
    normalised = []
    total_debit = total_credit = ZERO
    for number, line in enumerate(lines, start=1):
        code = str(line.get("account_code") or "").strip()
        if not code:
            raise EntryRuleError("missing_account", f"Line {number}: an account code is required.", {"line": number})
        debit = _amount(line.get("debit_amount"), line=number, side="debit")
        credit = _amount(line.get("credit_amount"), line=number, side="credit")
        if debit and credit:
            raise EntryRuleError("debit_and_credit", f"Line {number}: a line is a debit or a credit, not both.",
                                 {"line": number})
        if not debit and not credit:
            raise EntryRuleError("zero_line", f"Line {number}: the debit or the credit must be positive.",
                                 {"line": number})
        with localcontext(EXACT):
            total_debit += debit
            total_credit += credit
        asset, quantity = _units(line, number)
        normalised.append({"account_code": code, "description": str(line.get("description") or "").strip(),
                           "debit_amount": debit, "credit_amount": credit, "asset": asset, "quantity": quantity})
    if total_debit != total_credit:
        with localcontext(EXACT):
            difference = total_debit - total_credit
        raise EntryRuleError("unbalanced", "Total debits must equal total credits.",
                             {"total_debit": str(total_debit), "total_credit": str(total_credit),
                              "difference": str(difference)})
    return normalised, total_debit, total_credit


def lines_reversed(lines: Iterable[Mapping]) -> list[dict]:
    """The lines of a reversing entry: every debit becomes a credit of the same amount and vice versa."""
    return [{"account_code": line["account_code"], "description": line.get("description", ""),
             "debit_amount": line["credit_amount"], "credit_amount": line["debit_amount"],
             "asset": line.get("asset", ""), "quantity": line.get("quantity")} for line in lines]


def parent_cycle(code: str, new_parent: str, parent_of: Mapping[str, str]) -> list[str] | None:
    """The cycle that making `new_parent` the parent of `code` would close (as a list of codes), or None.
    `parent_of` maps every account code to its current parent code ("" for none)."""
    path = [code]
    current = new_parent
    seen = {code}
    while current:
        path.append(current)
        if current in seen:
            return path if current == code else None  # a cycle not through `code` is older data: not ours
        seen.add(current)
        current = parent_of.get(current, "")
    return None


@dataclass(frozen=True)
class TreeNode:
    code: str
    level: int
    path: tuple[str, ...]  # codes from the root down to this one: sorting by it gives tree order


def account_tree(parent_of: Mapping[str, str]) -> dict[str, TreeNode]:
    """Level and path of every account. A parent missing from `parent_of` makes the account a root;
    a cycle (impossible through the services) is cut where it is found."""
    nodes: dict[str, TreeNode] = {}

    def build(code: str, trail: tuple[str, ...]) -> TreeNode:
        if code in nodes:
            return nodes[code]
        parent = parent_of.get(code, "")
        if parent and parent in parent_of and parent not in trail:
            parent_node = build(parent, (*trail, code))
            node = TreeNode(code, parent_node.level + 1, (*parent_node.path, code))
        else:
            node = TreeNode(code, 0, (code,))
        nodes[code] = node
        return node

    for code in parent_of:
        build(code, ())
    return nodes


def balances_rolled_up(parent_of: Mapping[str, str], net_by_code: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Each account's net (debits - credits) plus that of all its descendants."""
    tree = account_tree(parent_of)
    rolled = {code: ZERO for code in parent_of}
    for code, node in tree.items():
        net = net_by_code.get(code, ZERO)
        if net:
            with localcontext(EXACT):
                for ancestor in node.path:
                    rolled[ancestor] += net
    return rolled


def signed(net: Decimal, *, debit_normal: bool) -> Decimal:
    """A balance on the account's normal side: debits - credits for assets and expenses,
    credits - debits for liabilities, equity and revenue."""
    return net if debit_normal else -net
