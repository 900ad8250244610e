"""The journal entry of each transaction, from the cost-basis engine's view of it (pure: no Django).

`plan_journals(trades, keys, result)` turns every trade into one balanced entry plan: its lines name
accounts by their chart role ("bank", "crypto:ETH", "realised_gains", ...), the service maps roles to
codes. Costs of what leaves come from the engine's `Result` (the owner's method), so the books and the
tax report agree. Rules, per kind of trade (P fiat paid, R fiat received, F a fiat fee, fv a crypto
fee's fiat value, c the cost the engine matched):

    buy     Dr crypto:X  P + F (or P + fv)      Cr bank  P + F (fiat fee) or P (crypto fee)
    sell    Dr bank      R - F                  Cr crypto:X c,  gain or loss on (R - F - fv) - c
    swap    Dr crypto:B  net worth              Cr crypto:A c,  gain or loss; Cr bank F for a fiat fee
    income  Dr crypto:X  fair value + F (or fv) Cr crypto_income fair value; Cr bank F for a fiat fee
                                                (rule 10.4: the fee is part of the asset's cost, not
                                                less income and no gas)
    receive Dr crypto:X  fair value + F (or fv) Cr equity fair value (an unlabelled deposit: owner
                                                contribution); Cr bank F for a fiat fee
    spend   Dr general_expenses (value - fee)   Cr crypto:X c,  gain or loss
    salary  Dr payroll_liabilities value        Cr crypto:X c,  gain or loss on value - c
            (a spend labelled "salary": payroll's payout of net pay it accrued as a liability. The coins
            settle the liability at their full value; the network fee is the company's, booked to
            gas_fees as for any send, so it is not also taken off the value: the books' gain is the
            tax engine's gain plus the fee, which the tax report counts as a cost of the disposal)
    gift, uk/acb (a disposal at market value, rule 10.1)
            Dr general_expenses (value - fee)   Cr crypto:X c,  gain or loss (the gift given away at
                                                its market value)
    gift, fifo/lifo/hifo; lost (every method: written off, rule 10.2)
            Dr general_expenses c               Cr crypto:X c (no gain or loss)
    fee-only row (rule 10.5): a crypto fee is Cr crypto:FEE c, gain or loss, Dr gas_fees fv; a fiat
            fee is Dr gas_fees F, Cr bank F (an expense, no holdings change)
    crypto fee    Cr crypto:FEE c, gain or loss on fv - c; outside a buy/sell/swap/income/receive
                  also Dr gas_fees fv (there its value is in the trade's cost or proceeds already)
    fiat fee outside a buy/sell/swap/income/receive: Dr gas_fees F, Cr bank F (for a spend or a uk/acb
                  gift the fee came off the proceeds, so the expense line is value - F and gas F)
Own transfers and transfers to or from another wallet of the user's move no value between accounts
(one crypto account per asset): their entry is their fee, and with no fee there is nothing to book.
Every line on a crypto account carries the asset and quantity. A plan that does not balance (beyond the
engine's 50-digit rounding) is a bug and raises; `rounded_lines` then balances it exactly at 8 places.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from decimal import Decimal

from core.money import FIAT_DECIMALS, ZERO
from ledger.cost_basis import Disposal, Removal, Result, Trade
from ledger.cost_basis.classify import Acquire, Dispose, Leave, operations

CONTEXT = decimal.Context(prec=100, rounding=decimal.ROUND_HALF_EVEN)
# The engine works at 50 significant digits, so its costs and fee values carry rounding in the 50th
# digit: a plan may be off by that much, far below the books' 8 places (rounded_lines balances it exactly).
TOLERANCE = Decimal("1e-20")


class JournalPlanError(ValueError):
    """The engine's result and the trades do not fit together, or a plan does not balance."""


@dataclass
class PlannedLine:
    account: str  # chart role: "bank", "crypto:ETH", "realised_gains", ...
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    asset: str = ""
    quantity: Decimal | None = None
    description: str = ""


@dataclass
class EntryPlan:
    key: str
    trade: Trade
    kind: str
    description: str
    lines: list[PlannedLine] = field(default_factory=list)

    @property
    def total_debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)


def _q(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _kind(trade: Trade, fiat: str) -> str:
    def is_fiat(asset: str) -> bool:
        return asset.upper() == fiat.upper()

    label = (trade.label or "").strip().lower()
    if trade.to_wallet or label == "transfer":
        return "transfer"
    if trade.sent_asset and trade.received_asset:
        return "buy" if is_fiat(trade.sent_asset) else "sell" if is_fiat(trade.received_asset) else "swap"
    if trade.received_asset:
        return "fiat" if is_fiat(trade.received_asset) else "receive"
    if trade.sent_asset:
        return "fiat" if is_fiat(trade.sent_asset) else "send"
    return "fee"


def _matched_costs(trades: list[Trade], keys: list[str], result: Result, fiat: str):
    """For every trade, the engine's cost of each Dispose op (in op order) and of each Leave op.

    Immediate methods write one disposal per Dispose op with the trade's ref; uk writes one row per
    asset and day whose refs are joined with ";" - its cost is shared out by quantity."""
    by_ref: dict[str, list[Disposal]] = {}
    merged: list[Disposal] = []
    for disposal in result.disposals:
        (merged if ";" in disposal.ref else by_ref.setdefault(disposal.ref, [])).append(disposal)
    removals: dict[str, list[Removal]] = {}
    for removal in result.removals:
        for ref in removal.ref.split(";"):
            removals.setdefault(ref, []).append(removal)

    ops_of = [operations(trade, index, fiat, result.method)[0] for index, trade in enumerate(trades)]
    # uk rows merged over several trades: each Dispose op takes cost in proportion to its quantity.
    share: dict[tuple[str, int], Decimal] = {}
    index_of = {key: i for i, key in enumerate(keys)}
    with decimal.localcontext(CONTEXT):
        for disposal in merged:
            members = []
            for ref in disposal.ref.split(";"):
                i = index_of.get(ref)
                if i is None:
                    raise JournalPlanError(f"disposal of {disposal.asset} names an unknown trade {ref!r}")
                for n, op in enumerate(ops_of[i]):
                    if isinstance(op, Dispose) and op.asset == disposal.asset and trades[i].date.date() == disposal.date_disposed:
                        members.append((ref, n, op.quantity))
            total = sum((q for _, _, q in members), ZERO)
            for ref, n, quantity in members:
                share[(ref, n)] = disposal.cost_basis * quantity / total if total else ZERO

    costs: dict[str, dict[int, Decimal]] = {}
    for i, (trade, key) in enumerate(zip(trades, keys)):
        own = list(by_ref.get(key, []))
        mine_removals = list(removals.get(key, []))
        costs[key] = {}
        for n, op in enumerate(ops_of[i]):
            if isinstance(op, Dispose):
                if (key, n) in share:
                    costs[key][n] = share[(key, n)]
                    continue
                match = next((d for d in own if (d.asset, d.quantity, d.kind) == (op.asset, op.quantity, op.kind)), None)
                if match is None:
                    raise JournalPlanError(f"no disposal of {_q(op.quantity)} {op.asset} found for trade {key!r}")
                own.remove(match)
                costs[key][n] = match.cost_basis
            elif isinstance(op, Leave):
                match = next((r for r in mine_removals if r.asset == op.asset), None)
                if match is None:
                    raise JournalPlanError(f"no removal of {op.asset} found for trade {key!r}")
                mine_removals.remove(match)
                costs[key][n] = match.cost if match.quantity == op.quantity else \
                    match.cost * op.quantity / match.quantity
    return ops_of, costs


def plan_journals(trades: list[Trade], keys: list[str], result: Result) -> list[EntryPlan]:
    """One plan per trade that has something to book (see the module docstring)."""
    if len(trades) != len(keys) or len(set(keys)) != len(keys):
        raise JournalPlanError("every trade needs one unique key")
    fiat = result.fiat
    with decimal.localcontext(CONTEXT):
        ops_of, costs = _matched_costs(trades, keys, result, fiat)
        plans = []
        for trade, key, ops in zip(trades, keys, ops_of):
            plan = _plan(trade, key, ops, costs[key], fiat)
            if plan.lines:
                if abs(plan.total_debit - plan.total_credit) > TOLERANCE:
                    raise JournalPlanError(f"the entry of trade {key!r} does not balance: "
                                           f"{plan.total_debit} != {plan.total_credit}")
                plans.append(plan)
        return plans


def _plan(trade: Trade, key: str, ops: list, costs: dict[int, Decimal], fiat: str) -> EntryPlan:
    kind = _kind(trade, fiat)
    fiat_fee = trade.fee_amount if trade.fee_amount and trade.fee_asset.upper() == fiat.upper() else ZERO
    lines: list[PlannedLine] = []

    def add(account, debit=ZERO, credit=ZERO, *, asset="", quantity=None, description=""):
        if debit < 0:
            debit, credit = ZERO, credit - debit
        if credit < 0:
            credit, debit = ZERO, debit - credit
        if debit or credit:
            lines.append(PlannedLine(account, debit, credit, asset, quantity, description))

    words = []
    label = (trade.label or "").strip().lower()
    # The fee a spend's proceeds were lowered by (its crypto fee's value, or a fiat fee): a salary gives it back.
    fee_value = sum((op.proceeds for op in ops if isinstance(op, Dispose) and op.kind == "fee"), ZERO) + fiat_fee
    for n, op in enumerate(ops):
        if isinstance(op, Acquire):
            add(f"crypto:{op.asset}", debit=op.cost, asset=op.asset, quantity=op.quantity,
                description=f"{_q(op.quantity)} {op.asset} in")
            # The fair value received (the lot's cost less the fee, rule 10.4); the fee is credited
            # below (bank for a fiat fee, the fee asset's account for a crypto fee).
            value = op.value if op.value is not None else op.cost
            if op.income_label:
                add("crypto_income", credit=value, description=f"{op.income_label} {op.asset}")
                words.append(f"{op.income_label.capitalize()} {_q(op.quantity)} {op.asset}")
            elif kind == "receive":
                add("equity", credit=value, description=f"{op.asset} received (owner contribution)")
                words.append(f"Received {_q(op.quantity)} {op.asset}")
            elif kind == "buy":
                words.append(f"Buy {_q(op.quantity)} {op.asset}")
        elif isinstance(op, Dispose):
            cost = costs[n]
            salary = op.kind == "spend" and label == "salary"
            proceeds = op.proceeds + fee_value if salary else op.proceeds
            add(f"crypto:{op.asset}", credit=cost, asset=op.asset, quantity=op.quantity,
                description=f"{_q(op.quantity)} {op.asset} out at cost" + (" (fee)" if op.kind == "fee" else ""))
            gain = proceeds - cost
            if gain > 0:
                add("realised_gains", credit=gain, description=f"gain on {op.asset}")
            elif gain < 0:
                add("realised_losses", debit=-gain, description=f"loss on {op.asset}")
            if salary:
                add("payroll_liabilities", debit=proceeds, description=f"net pay settled in {op.asset}")
                words.append(f"Salary of {_q(op.quantity)} {op.asset}")
            elif op.kind == "spend":
                add("general_expenses", debit=op.proceeds, description=f"paid in {op.asset}")
                words.append(f"{(trade.label or 'payment').capitalize()} of {_q(op.quantity)} {op.asset}")
            elif op.kind == "gift":  # uk / acb: given away at market value (rule 10.1)
                add("general_expenses", debit=op.proceeds, description=f"gift of {op.asset} at market value")
                words.append(f"Gift of {_q(op.quantity)} {op.asset}")
            elif op.kind == "fee" and kind not in ("buy", "sell", "swap", "receive"):
                add("gas_fees", debit=op.proceeds, description=f"network fee in {op.asset}")
            elif op.kind == "sell":
                words.append(f"Sell {_q(op.quantity)} {op.asset}")
            elif op.kind == "swap":
                received = f"{_q(trade.received_amount)} {trade.received_asset}"
                words.append(f"Swap {_q(op.quantity)} {op.asset} for {received}")
        elif isinstance(op, Leave):
            cost = costs[n]
            add(f"crypto:{op.asset}", credit=cost, asset=op.asset, quantity=op.quantity,
                description=f"{_q(op.quantity)} {op.asset} out at cost")
            add("general_expenses", debit=cost, description=f"{op.label} of {op.asset}, written off at cost"
                if op.label == "lost" else f"{op.label} of {op.asset} at cost")
            words.append(f"{op.label.capitalize()} of {_q(op.quantity)} {op.asset}")

    # The fiat legs.
    if kind == "buy":
        add("bank", credit=trade.sent_amount + fiat_fee, description=f"paid in {fiat}")
    elif kind == "sell":
        add("bank", debit=trade.received_amount - fiat_fee, description=f"received in {fiat}")
    elif fiat_fee and kind == "swap":  # the fee lowered the proceeds: it is in the gain already
        add("bank", credit=fiat_fee, description=f"fee paid in {fiat}")
    elif fiat_fee and kind == "receive":  # the fee is in the asset's cost (rule 10.4)
        add("bank", credit=fiat_fee, description=f"fee paid in {fiat}")
    elif fiat_fee:
        add("gas_fees", debit=fiat_fee, description=f"fee paid in {fiat}")
        add("bank", credit=fiat_fee, description=f"fee paid in {fiat}")

    if not words:
        asset = trade.sent_asset or trade.received_asset or trade.fee_asset
        words.append({"transfer": f"Transfer of {asset}: network fee"}.get(kind, f"Network fee ({asset})"))
    return EntryPlan(key=key, trade=trade, kind=kind, description="; ".join(words), lines=lines)


def rounded_lines(plan: EntryPlan, places: int = FIAT_DECIMALS) -> list[PlannedLine]:
    """The plan's lines at the books' precision (half-even), still balanced exactly: the rounding
    difference (a few units of the last place) goes to the gain or loss line, else to the largest
    line of the side that is short. Lines that round to zero are dropped."""
    unit = Decimal(1).scaleb(-places)
    with decimal.localcontext(CONTEXT):
        lines = [PlannedLine(line.account, line.debit.quantize(unit), line.credit.quantize(unit), line.asset,
                             line.quantity, line.description) for line in plan.lines]
        difference = sum((line.debit for line in lines), ZERO) - sum((line.credit for line in lines), ZERO)
        if difference:
            gain_lines = [line for line in lines if line.account in ("realised_gains", "realised_losses")]
            target = gain_lines[0] if gain_lines else max(
                (line for line in lines if (line.credit if difference > 0 else line.debit)),
                key=lambda line: line.credit or line.debit)
            if target.credit:
                target.credit += difference
            else:
                target.debit -= difference
        return [line for line in lines if line.debit > 0 or line.credit > 0]
