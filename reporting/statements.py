"""Financial statements as plain Python (no Django): balance sheet, income statement and cash-flow
statement (indirect method), each with comparison columns. Fed plain data by reporting.selectors.

Input. The chart (`Account`: code, name, type, parent, system key) and, per column, `Snapshot`s: the
debit and credit totals of every account over booked entries up to the end of a day, with the crypto
units held on each crypto asset account then and the day's price (`Holding`, price None when the
store has none). A period is its opening snapshot (end of the day before it starts), its closing one
and `crypto_settled`: the net of each revenue/expense account on entries that also move a crypto
asset account (disposal gains and losses, income received in crypto, fees paid in crypto).

Rules.
- Cash is the "cash_and_bank" account and everything below it. Crypto asset accounts are the
  "crypto_assets" account, everything below it and any account with a "crypto:<asset>" key.
- Balance sheet at D: every account at its balance on its normal side, rolled up to the chart's
  hierarchy; crypto asset accounts at fair value (units held at D x price on D). An account whose
  units have no price, or whose lines never carried units, stays at cost and is listed in `unpriced`.
  Equity adds "Current earnings" (revenue - expenses of all time up to D: what closing entries have
  not yet moved to retained earnings) and the fair-value adjustment (fair value - cost) as its own
  line. Assets = liabilities + equity then holds exactly (Decimal) and is asserted.
- Income statement for a period: revenue and expenses (period movements, rolled up) and net income,
  all at cost as booked. Choice: the change in unrealised fair value over the period is NOT part of
  net income (the ledger carries crypto at cost; only disposals realise gains). It is shown below
  net income as a separate line with "Result including unrealised fair-value change", unless the
  caller turns it off.
- Cash flow (indirect) for a period: starts from net income (at cost, so no fair-value adjustment is
  needed). Operating: revenue/expense results settled in crypto are taken out (non-cash, or part of a
  disposal's proceeds), then changes in every other non-cash asset and every liability that is not a
  loan (working capital). Investing: net change of the crypto asset accounts at cost plus those
  crypto-settled results, i.e. purchases at cost and disposals at proceeds. Financing: equity
  accounts (owners' capital in and out, distributions from retained earnings) and loans (liability
  accounts whose name or key says "loan"). Every non-cash account is in exactly one place, so the net
  change equals the cash accounts' own change: asserted.
Amounts are exact Decimals; rounding to cents happens only when printed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from core.money import EXACT, ZERO
from ledger.double_entry import account_tree

BALANCE_SHEET = "BALANCE_SHEET"
INCOME_STATEMENT = "INCOME_STATEMENT"
CASH_FLOW = "CASH_FLOW"

ASSET, LIABILITY, EQUITY, REVENUE, EXPENSE = "asset", "liability", "equity", "revenue", "expense"
ACCOUNT_TYPES = (ASSET, LIABILITY, EQUITY, REVENUE, EXPENSE)
DEBIT_NORMAL = (ASSET, EXPENSE)
CASH_KEY = "cash_and_bank"
CRYPTO_KEY = "crypto_assets"
CRYPTO_KEY_PREFIX = "crypto:"


class StatementError(Exception):
    """Books the statements cannot be drawn from (unknown account, unbalanced books)."""

    def __init__(self, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details or {}


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    account_type: str
    parent: str = ""
    system_key: str | None = None


@dataclass(frozen=True)
class Holding:
    """Units of `asset` on a crypto asset account at a snapshot's day, and that day's price (or None)."""

    account_code: str
    asset: str
    quantity: Decimal
    price: Decimal | None


@dataclass(frozen=True)
class Snapshot:
    day: dt.date
    totals: Mapping[str, tuple[Decimal, Decimal]]  # account code -> (debits, credits) up to the end of `day`
    holdings: Sequence[Holding] = ()


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    opening: Snapshot  # at the end of the day before `start`
    closing: Snapshot  # at the end of `end`
    crypto_settled: Mapping[str, Decimal] = field(default_factory=dict)  # P&L code -> debits - credits


@dataclass(frozen=True)
class Column:
    label: str
    as_of: dt.date | None = None
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass
class Line:
    key: str
    label: str
    amounts: list[Decimal]
    level: int = 0
    account_code: str = ""


@dataclass
class Section:
    key: str
    title: str
    lines: list[Line]
    total: list[Decimal]


@dataclass
class Statement:
    kind: str
    currency: str
    columns: list[Column]
    sections: list[Section]
    totals: dict[str, list[Decimal]]
    unpriced: list[list[str]]  # per column
    notes: list[str] = field(default_factory=list)

    def section(self, key: str) -> Section:
        return next(section for section in self.sections if section.key == key)

    def line(self, key: str) -> Line:
        return next(line for section in self.sections for line in section.lines if line.key == key)

    def total(self, key: str, column: int = 0) -> Decimal:
        return self.totals[key][column]


# --- periods -----------------------------------------------------------------------------------------

def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before [start, end] (both inclusive)."""
    length = (end - start).days + 1
    return start - dt.timedelta(days=length), start - dt.timedelta(days=1)


def same_day_a_year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


# --- the chart ---------------------------------------------------------------------------------------

class Chart:
    """Accounts in tree order with their levels, and which ones are cash and crypto."""

    def __init__(self, accounts: Iterable[Account]):
        self.by_code = {account.code: account for account in accounts}
        bad = sorted(code for code, a in self.by_code.items() if a.account_type not in ACCOUNT_TYPES)
        if bad:
            raise StatementError("unknown_account_type", f"Accounts of an unknown type: {', '.join(bad)}.",
                                 {"account_codes": bad})
        # A parent of another type (impossible through the services) would mix sections: cut there.
        parent_of = {code: (a.parent if a.parent in self.by_code
                            and self.by_code[a.parent].account_type == a.account_type else "")
                     for code, a in self.by_code.items()}
        self.tree = account_tree(parent_of)
        self.codes = sorted(self.by_code, key=lambda code: self.tree[code].path)
        self.cash = self._below_key(CASH_KEY)
        keyed = {code for code, a in self.by_code.items() if (a.system_key or "").startswith(CRYPTO_KEY_PREFIX)}
        self.crypto = (self._below_key(CRYPTO_KEY) | keyed) - self.cash

    def _below_key(self, key: str) -> set[str]:
        roots = {code for code, a in self.by_code.items() if a.system_key == key}
        return {code for code in self.by_code if roots & set(self.tree[code].path)}

    def of_type(self, account_type: str) -> list[str]:
        return [code for code in self.codes if self.by_code[code].account_type == account_type]

    def is_root(self, code: str) -> bool:
        return self.tree[code].level == 0

    def is_loan(self, code: str) -> bool:
        account = self.by_code[code]
        return account.account_type == LIABILITY and (
            "loan" in account.name.lower() or "loan" in (account.system_key or "").lower())

    def check_known(self, codes: Iterable[str]) -> None:
        unknown = sorted(set(codes) - set(self.by_code))
        if unknown:
            raise StatementError("unknown_account", f"Entries use accounts not in the chart: {', '.join(unknown)}.",
                                 {"account_codes": unknown})


def _net(totals: Mapping[str, tuple[Decimal, Decimal]], code: str) -> Decimal:
    debit, credit = totals.get(code, (ZERO, ZERO))
    return debit - credit


def _normal(chart: Chart, code: str, net: Decimal) -> Decimal:
    return net if chart.by_code[code].account_type in DEBIT_NORMAL else -net


def _rolled(chart: Chart, own: Mapping[str, Decimal]) -> dict[str, Decimal]:
    rolled = dict.fromkeys(chart.codes, ZERO)
    for code in chart.codes:
        amount = own.get(code, ZERO)
        if amount:
            for ancestor in chart.tree[code].path:
                rolled[ancestor] += amount
    return rolled


class _Builder:
    """Lines of one section for every column: a line shows when any column has an amount (or always)."""

    def __init__(self, key: str, title: str, columns: int):
        self.key, self.title, self.columns = key, title, columns
        self.specs: dict[str, tuple[str, int, str, bool]] = {}
        self.amounts: dict[str, list[Decimal]] = {}

    def put(self, column: int, key: str, label: str, amount: Decimal, *, level: int = 0, code: str = "",
            always: bool = False) -> None:
        self.specs.setdefault(key, (label, level, code, always))
        self.amounts.setdefault(key, [ZERO] * self.columns)[column] += amount

    def build(self, total: list[Decimal]) -> Section:
        lines = [Line(key, label, self.amounts[key], level, code)
                 for key, (label, level, code, always) in self.specs.items()
                 if always or any(self.amounts[key])]
        return Section(self.key, self.title, lines, total)


# --- balance sheet -----------------------------------------------------------------------------------

@dataclass
class _Position:
    own: dict[str, Decimal]  # every account on its normal side, crypto at fair value where priced
    fair_value_adjustment: Decimal
    current_earnings: Decimal
    unpriced: list[str]


def _position(chart: Chart, snapshot: Snapshot) -> _Position:
    chart.check_known(snapshot.totals)
    held: dict[str, list[Holding]] = {}
    for holding in snapshot.holdings:
        held.setdefault(holding.account_code, []).append(holding)
    own, unpriced, adjustment = {}, [], ZERO
    for code in chart.codes:
        net = _net(snapshot.totals, code)
        own[code] = _normal(chart, code, net)
        if code not in chart.crypto:
            continue
        holdings = held.get(code, [])
        if not holdings:
            if net:
                unpriced.append(f"{code} (no units recorded)")
            continue
        missing = sorted({h.asset for h in holdings if h.price is None and h.quantity})
        if missing:
            unpriced.extend(missing)  # at cost
            continue
        fair_value = sum((h.quantity * h.price for h in holdings if h.quantity), ZERO)
        own[code] = fair_value
        adjustment += fair_value - net
    earnings = sum((own[c] for c in chart.of_type(REVENUE)), ZERO) - sum((own[c] for c in chart.of_type(EXPENSE)), ZERO)
    return _Position(own, adjustment, earnings, sorted(set(unpriced)))


def balance_sheet(accounts: Iterable[Account], snapshots: Sequence[Snapshot], *, currency: str,
                  labels: Sequence[str] | None = None) -> Statement:
    """The balance sheet at each snapshot's day (the first is the main column)."""
    chart = Chart(accounts)
    n = len(snapshots)
    with localcontext(EXACT):
        positions = [_position(chart, snapshot) for snapshot in snapshots]
        sections, totals = [], {}
        for account_type, key, title in ((ASSET, "assets", "Assets"), (LIABILITY, "liabilities", "Liabilities"),
                                         (EQUITY, "equity", "Equity")):
            builder = _Builder(key, title, n)
            section_total = [ZERO] * n
            for column, position in enumerate(positions):
                rolled = _rolled(chart, position.own)
                for code in chart.of_type(account_type):
                    builder.put(column, f"account:{code}", chart.by_code[code].name, rolled[code],
                                level=chart.tree[code].level, code=code)
                    if chart.is_root(code):
                        section_total[column] += rolled[code]
                if account_type == EQUITY:
                    builder.put(column, "current_earnings", "Current earnings (not yet closed)",
                                position.current_earnings, always=True)
                    builder.put(column, "fair_value_adjustment", "Unrealised gains on crypto (fair value)",
                                position.fair_value_adjustment, always=True)
                    section_total[column] += position.current_earnings + position.fair_value_adjustment
            sections.append(builder.build(section_total))
            totals[f"total_{key}"] = section_total
        totals["total_liabilities_and_equity"] = [a + b for a, b in zip(totals["total_liabilities"],
                                                                        totals["total_equity"])]
        totals["current_earnings"] = [p.current_earnings for p in positions]
        totals["fair_value_adjustment"] = [p.fair_value_adjustment for p in positions]
    for column, snapshot in enumerate(snapshots):
        assets, other = totals["total_assets"][column], totals["total_liabilities_and_equity"][column]
        if assets != other:
            raise StatementError("unbalanced_books", f"On {snapshot.day}: assets {assets} differ from liabilities "
                                 f"and equity {other}; the books do not balance.",
                                 {"day": snapshot.day.isoformat(), "assets": str(assets), "other": str(other)})
    columns = [Column(_label(labels, i, snapshot.day.isoformat()), as_of=snapshot.day)
               for i, snapshot in enumerate(snapshots)]
    return Statement(BALANCE_SHEET, currency, columns, sections, totals, [p.unpriced for p in positions],
                     notes=["Crypto at fair value (units held x price of the day); without a price, at cost."])


def _label(labels, index: int, default: str) -> str:
    return labels[index] if labels and index < len(labels) and labels[index] else default


def _period_label(period: Period) -> str:
    return f"{period.start.isoformat()} – {period.end.isoformat()}"


# --- income statement --------------------------------------------------------------------------------

def _movement(chart: Chart, period: Period) -> dict[str, Decimal]:
    chart.check_known(period.opening.totals)
    chart.check_known(period.closing.totals)
    return {code: _net(period.closing.totals, code) - _net(period.opening.totals, code) for code in chart.codes}


def income_statement(accounts: Iterable[Account], periods: Sequence[Period], *, currency: str,
                     include_fair_value: bool = True, labels: Sequence[str] | None = None) -> Statement:
    chart = Chart(accounts)
    n = len(periods)
    revenue, expenses = _Builder("revenue", "Revenue", n), _Builder("expenses", "Expenses", n)
    other = _Builder("fair_value", "Unrealised fair-value change (not in net income)", n)
    totals = {name: [ZERO] * n for name in ("total_revenue", "total_expenses", "net_income")}
    if include_fair_value:
        totals["fair_value_change"] = [ZERO] * n
        totals["result_including_fair_value"] = [ZERO] * n
    unpriced = []
    with localcontext(EXACT):
        for column, period in enumerate(periods):
            movement = _movement(chart, period)
            own = {code: _normal(chart, code, movement[code]) for code in chart.codes}
            rolled = _rolled(chart, own)
            for builder, account_type, total in ((revenue, REVENUE, "total_revenue"),
                                                 (expenses, EXPENSE, "total_expenses")):
                for code in chart.of_type(account_type):
                    builder.put(column, f"account:{code}", chart.by_code[code].name, rolled[code],
                                level=chart.tree[code].level, code=code)
                    if chart.is_root(code):
                        totals[total][column] += rolled[code]
            net_income = totals["total_revenue"][column] - totals["total_expenses"][column]
            totals["net_income"][column] = net_income
            if include_fair_value:
                opening, closing = _position(chart, period.opening), _position(chart, period.closing)
                change = closing.fair_value_adjustment - opening.fair_value_adjustment
                other.put(column, "fair_value_change", "Change in unrealised fair value of crypto", change, always=True)
                totals["fair_value_change"][column] = change
                totals["result_including_fair_value"][column] = net_income + change
                unpriced.append(sorted(set(opening.unpriced) | set(closing.unpriced)))
            else:
                unpriced.append([])
    sections = [revenue.build(totals["total_revenue"]), expenses.build(totals["total_expenses"])]
    if include_fair_value:
        sections.append(other.build(totals["fair_value_change"]))
    columns = [Column(_label(labels, i, _period_label(p)), start=p.start, end=p.end) for i, p in enumerate(periods)]
    notes = ["Net income is at cost, as booked; gains count when realised by a disposal."]
    if include_fair_value:
        notes.append("The change in unrealised fair value of crypto held is shown apart, below net income.")
    return Statement(INCOME_STATEMENT, currency, columns, sections, totals, unpriced, notes)


# --- cash flow ---------------------------------------------------------------------------------------

def cash_flow(accounts: Iterable[Account], periods: Sequence[Period], *, currency: str,
              labels: Sequence[str] | None = None) -> Statement:
    chart = Chart(accounts)
    n = len(periods)
    operating = _Builder("operating", "Operating activities", n)
    investing = _Builder("investing", "Investing activities", n)
    financing = _Builder("financing", "Financing activities", n)
    names = ("net_income", "net_cash_operating", "net_cash_investing", "net_cash_financing", "net_change_in_cash",
             "cash_at_start", "cash_at_end")
    totals = {name: [ZERO] * n for name in names}
    pnl = set(chart.of_type(REVENUE)) | set(chart.of_type(EXPENSE))
    with localcontext(EXACT):
        for column, period in enumerate(periods):
            movement = _movement(chart, period)
            unknown = sorted(set(period.crypto_settled) - pnl)
            if unknown:
                raise StatementError("invalid_crypto_settled", "Crypto-settled amounts are for revenue and expense "
                                     f"accounts only: {', '.join(unknown)}.", {"account_codes": unknown})
            net_income = -sum((movement[code] for code in pnl), ZERO)
            sums = {"operating": net_income, "investing": ZERO, "financing": ZERO}
            operating.put(column, "net_income", "Net income", net_income, always=True)
            settled_total = ZERO
            for code in chart.codes:
                settled = period.crypto_settled.get(code, ZERO)
                if code in pnl and settled:
                    # Out of operating: a result that moved crypto, not cash (or part of a disposal's proceeds).
                    operating.put(column, f"settled:{code}", f"{chart.by_code[code].name} settled in crypto",
                                  settled, code=code)
                    sums["operating"] += settled
                    settled_total += settled
            for code in chart.codes:
                account = chart.by_code[code]
                if code in pnl or code in chart.cash:
                    continue
                flow = -movement[code]  # an asset going up uses cash; a liability or equity going up brings it
                if code in chart.crypto:
                    investing.put(column, f"account:{code}", f"{account.name}: bought and sold, at cost", flow,
                                  code=code)
                    sums["investing"] += flow
                elif account.account_type == EQUITY or chart.is_loan(code):
                    financing.put(column, f"account:{code}", account.name, flow, code=code)
                    sums["financing"] += flow
                else:
                    operating.put(column, f"account:{code}", f"Change in {account.name.lower()}", flow, code=code)
                    sums["operating"] += flow
            investing.put(column, "crypto_results", "Disposal results, income and fees settled in crypto",
                          -settled_total)
            sums["investing"] -= settled_total
            cash_start = sum((_net(period.opening.totals, code) for code in chart.cash), ZERO)
            cash_end = sum((_net(period.closing.totals, code) for code in chart.cash), ZERO)
            change = sums["operating"] + sums["investing"] + sums["financing"]
            if change != cash_end - cash_start:
                raise StatementError("cash_flow_mismatch", f"{_period_label(period)}: the activities add up to "
                                     f"{change} but cash changed by {cash_end - cash_start}.",
                                     {"activities": str(change), "cash_change": str(cash_end - cash_start)})
            for name, value in (("net_income", net_income), ("net_cash_operating", sums["operating"]),
                                ("net_cash_investing", sums["investing"]), ("net_cash_financing", sums["financing"]),
                                ("net_change_in_cash", change), ("cash_at_start", cash_start),
                                ("cash_at_end", cash_end)):
                totals[name][column] = value
    sections = [operating.build(totals["net_cash_operating"]), investing.build(totals["net_cash_investing"]),
                financing.build(totals["net_cash_financing"])]
    columns = [Column(_label(labels, i, _period_label(p)), start=p.start, end=p.end) for i, p in enumerate(periods)]
    notes = ["Indirect method from net income at cost. Cash: the cash and bank accounts.",
             "Crypto bought shows at cost under investing; crypto sold at its proceeds (cost plus realised result)."]
    return Statement(CASH_FLOW, currency, columns, sections, totals, [[] for _ in periods], notes)


# --- plain JSON (stored, exported) -------------------------------------------------------------------

def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def statement_as_json(statement: Statement) -> dict:
    """The statement as plain JSON, amounts as exact strings."""
    def amounts(values):
        return [str(value) for value in values]

    return {
        "kind": statement.kind,
        "currency": statement.currency,
        "columns": [{"label": c.label, "as_of": _day(c.as_of), "start": _day(c.start), "end": _day(c.end)}
                    for c in statement.columns],
        "sections": [{"key": s.key, "title": s.title, "total": amounts(s.total),
                      "lines": [{"key": line.key, "label": line.label, "level": line.level,
                                 "account_code": line.account_code, "amounts": amounts(line.amounts)}
                                for line in s.lines]} for s in statement.sections],
        "totals": {name: amounts(values) for name, values in statement.totals.items()},
        "unpriced": statement.unpriced,
        "notes": statement.notes,
    }
