"""Plain data in and out of the cost-basis engine: trades, results, errors. No Django, no project imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

METHODS = ("fifo", "lifo", "hifo", "acb", "uk")
LOT_SCOPES = ("all", "wallet")

# Labels (case-insensitive) that decide what a one-sided trade is.
INCOME_LABELS = frozenset({"income", "reward", "airdrop", "mining", "staking"})
SPEND_LABELS = frozenset({"cost", "payment", "salary"})  # salary: payroll's payouts (ledger.journal_rules)
NO_GAIN_LABELS = frozenset({"gift", "lost"})  # on a send: leaves at cost, no gain row (a gift: US methods only)
GIFT_LABELS = frozenset({"gift"})  # on a send
# Methods under which a gift (sent) is a disposal at market value: HMRC CRYPTO22100 (uk), Canada's
# deemed disposition at fair market value (acb). fifo/lifo/hifo follow US rules: no disposal.
GIFT_DISPOSAL_METHODS = frozenset({"uk", "acb"})
TRANSFER_LABELS = frozenset({"transfer"})
RECEIVED_GIFT_LABELS = frozenset({"gift"})  # on a receive: an acquisition at fair value, not income

VARIOUS = "various"
IN_TRANSIT = "in transit"  # wallet name of lots sent by a one-sided transfer and not yet received


@dataclass(frozen=True)
class Trade:
    """One movement row, shaped like a Koinly universal CSV row. Amounts are Decimal, never float."""

    date: datetime
    sent_asset: str = ""
    sent_amount: Decimal | None = None
    received_asset: str = ""
    received_amount: Decimal | None = None
    fee_asset: str = ""
    fee_amount: Decimal | None = None
    fee_value: Decimal | None = None
    net_worth: Decimal | None = None
    label: str = ""
    wallet: str = ""
    to_wallet: str = ""
    ref: str = ""


@dataclass(frozen=True)
class LotMatch:
    """The part of one acquisition that a disposal used.

    `lot_id` is the id of the acquisition lot (same as `Lot.lot_id`) for fifo/lifo/hifo; `None` for
    pooled methods. `rule` says how it was matched: "lot" (fifo/lifo/hifo), "pool" (acb, uk section
    104), "same-day" or "30-day" (uk).
    """

    lot_id: int | None
    acquired: date | str
    quantity: Decimal
    cost: Decimal
    rule: str


@dataclass(frozen=True)
class Lot:
    """Something still held: a lot (fifo/lifo/hifo) or a pool (acb, uk; `acquired` may be "various")."""

    asset: str
    wallet: str
    quantity: Decimal
    acquired: date | str
    cost: Decimal
    lot_id: int | None = None
    ref: str = ""


@dataclass(frozen=True)
class Disposal:
    asset: str
    quantity: Decimal
    date_acquired: date | str
    date_disposed: date
    proceeds: Decimal
    cost_basis: Decimal
    gain: Decimal
    term: str  # short / long / various
    wallet: str
    ref: str
    kind: str  # sell / swap / spend / gift (uk, acb) / fee (uk same-day rows: kinds joined with "+")
    lots: tuple[LotMatch, ...] = ()


@dataclass(frozen=True)
class IncomeEvent:
    asset: str
    quantity: Decimal
    date: date
    value: Decimal
    label: str
    ref: str
    wallet: str = ""


@dataclass(frozen=True)
class Expense:
    """A fiat fee that is neither a cost of acquisition nor a cost of disposal: the fee of a fee-only
    row (gas of a failed or approval transaction paid in fiat), of an own transfer, of a fiat-only
    movement, or of a send that is no disposal (lost; a gift under fifo/lifo/hifo). No capital event:
    callers book it as an expense. `amount` is in the result's fiat."""

    amount: Decimal
    date: date
    label: str
    ref: str
    wallet: str = ""


@dataclass(frozen=True)
class Removal:
    """A quantity that left at its cost, with no gain or loss (not a disposal row): a loss (`lost`,
    every method) or a gift under fifo/lifo/hifo (under uk and acb a gift is a disposal)."""

    asset: str
    quantity: Decimal
    date: date
    cost: Decimal
    label: str
    wallet: str
    ref: str
    lots: tuple[LotMatch, ...] = ()  # the lots that left (fifo/lifo/hifo), the pool share (acb, uk)


@dataclass
class Result:
    disposals: list[Disposal]
    income: list[IncomeEvent]
    open_lots: list[Lot]
    fiat: str
    method: str
    lot_scope: str = "all"
    removals: list[Removal] = field(default_factory=list)
    expenses: list[Expense] = field(default_factory=list)


@dataclass(frozen=True)
class YearTotal:
    year: int
    proceeds: Decimal
    cost_basis: Decimal
    gains: Decimal
    losses: Decimal
    net: Decimal


class TradeError(ValueError):
    """A malformed trade or call (negative amount, missing fiat value, unknown method or label, ...)."""


class InsufficientHoldings(ValueError):
    """More of an asset leaves than is held at that moment."""

    def __init__(self, asset: str, date, shortfall: Decimal, wallet: str = ""):
        self.asset = asset
        self.date = date
        self.shortfall = shortfall
        self.wallet = wallet
        day = date.date().isoformat() if isinstance(date, datetime) else str(date)
        where = f" in wallet {wallet!r}" if wallet else ""
        super().__init__(
            f"insufficient {asset} holdings{where} on {day}: short by {format(shortfall.normalize(), 'f')} {asset}"
        )
