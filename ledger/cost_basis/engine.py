"""`compute`: walk the trades in date order and apply each movement to the chosen book."""

from __future__ import annotations

import decimal
from collections import deque
from collections.abc import Iterable
from decimal import Decimal

from .classify import Acquire, Dispose, FeeExpense, Leave, Move, TransitIn, TransitOut, operations
from .holdings import LotBook, PoolBook
from .model import (
    IN_TRANSIT,
    LOT_SCOPES,
    METHODS,
    Disposal,
    Expense,
    IncomeEvent,
    InsufficientHoldings,
    Lot,
    Removal,
    Result,
    Trade,
    TradeError,
)
from .uk import UKBook

PRECISION = 50  # digits inside the engine (rule 7); the caller's decimal context is left alone
ZERO = Decimal(0)


def _context() -> decimal.Context:
    traps = [decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow]
    return decimal.Context(prec=PRECISION, rounding=decimal.ROUND_HALF_EVEN, traps=traps)


class _ImmediateBook:
    """fifo / lifo / hifo / acb: every movement is settled when it happens."""

    def __init__(self, holdings, lot_scope: str):
        self.holdings = holdings
        self.per_wallet = lot_scope == "wallet"
        self.disposals: list[Disposal] = []
        self.removals: list[Removal] = []
        self.transit: dict[str, deque] = {}

    def scope(self, wallet: str) -> str:
        return wallet if self.per_wallet else ""

    def acquire(self, op: Acquire, when, lot_id: int, ref: str) -> None:
        self.holdings.add(self.scope(op.wallet), op.asset, lot_id, when.date(), op.quantity, op.cost, ref)

    def dispose(self, op: Dispose, when, ref: str) -> None:
        pieces = self.holdings.take(self.scope(op.wallet), op.asset, op.quantity, when)
        matches, acquired, term = self.holdings.matched(pieces, when.date())
        cost = sum((m.cost for m in matches), ZERO)
        self.disposals.append(
            Disposal(op.asset, op.quantity, acquired, when.date(), op.proceeds, cost, op.proceeds - cost,
                     term, op.wallet, ref, op.kind, matches)
        )

    def leave(self, op: Leave, when, ref: str) -> None:
        pieces = self.holdings.take(self.scope(op.wallet), op.asset, op.quantity, when)
        matches, _, _ = self.holdings.matched(pieces, when.date())
        cost = sum((m.cost for m in matches), ZERO)
        self.removals.append(Removal(op.asset, op.quantity, when.date(), cost, op.label, op.wallet, ref, matches))

    def move(self, op: Move, when) -> None:
        source, target = self.scope(op.from_wallet), self.scope(op.to_wallet)
        if source == target:  # pooled lots: an own transfer is no event, but it cannot move more than is held
            held = self.holdings.held_quantity(source, op.asset)
            if held < op.quantity:
                raise InsufficientHoldings(op.asset, when, op.quantity - held, source)
            return
        self.holdings.put(target, op.asset, self.holdings.take(source, op.asset, op.quantity, when))

    def transit_out(self, op: TransitOut, when) -> None:
        pieces = self.holdings.take(self.scope(op.wallet), op.asset, op.quantity, when)
        self.transit.setdefault(op.asset, deque()).extend(pieces)

    def transit_in(self, op: TransitIn, when, ref: str) -> None:
        waiting = self.transit.get(op.asset, deque())
        in_transit = sum((p.quantity for p in waiting), ZERO)
        if in_transit < op.quantity:
            raise TradeError(
                f"transfer in of {op.quantity} {op.asset} on {when.date().isoformat()} (ref={ref!r}) has only "
                f"{in_transit} in transit: short by {op.quantity - in_transit}; pair it with its transfer out "
                "or give the sending row a to_wallet"
            )
        arrived, remaining = [], op.quantity
        while remaining:
            piece = waiting.popleft()
            if piece.quantity > remaining:
                piece, rest = self.holdings.split(piece, remaining)
                waiting.appendleft(rest)
            arrived.append(piece)
            remaining -= piece.quantity
        self.holdings.put(self.scope(op.wallet), op.asset, arrived)

    def finish(self) -> tuple[list[Disposal], list[Removal], list[Lot]]:
        lots = self.holdings.open_lots()
        for asset, waiting in self.transit.items():
            for piece in waiting:
                lot_id = getattr(piece, "lot_id", None)
                acquired = getattr(piece, "acquired", "various")
                ref = getattr(piece, "ref", "")
                lots.append(Lot(asset, IN_TRANSIT, piece.quantity, acquired, piece.cost, lot_id, ref))
        lots.sort(key=lambda lot: (lot.asset, lot.wallet, lot.lot_id if lot.lot_id is not None else -1))
        return self.disposals, self.removals, lots


def _checked(method: str, fiat: str, lot_scope: str) -> str:
    if method not in METHODS:
        raise TradeError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    if lot_scope not in LOT_SCOPES:
        raise TradeError(f"unknown lot_scope {lot_scope!r}: use one of {', '.join(LOT_SCOPES)}")
    if not isinstance(fiat, str) or not fiat.strip():
        raise TradeError("fiat must be a currency code such as 'USD'")
    if method == "uk" and lot_scope != "all":
        raise TradeError("method 'uk' pools per person (HMRC section 104): lot_scope must be 'all'")
    return fiat.strip().upper()


def _trade_checked(trade, index: int) -> Trade:
    if not isinstance(trade, Trade):
        raise TradeError(f"trade #{index} is a {type(trade).__name__}, not a Trade")
    return trade


def compute(trades: Iterable[Trade], *, method: str, fiat: str = "USD", lot_scope: str = "all") -> Result:
    """Capital gains of the whole history of `trades` (see the package docstring)."""
    run = ComputeRun(method=method, fiat=fiat, lot_scope=lot_scope)
    trades = [_trade_checked(trade, index) for index, trade in enumerate(trades)]
    with decimal.localcontext(run._context):
        planned = []
        for index, trade in enumerate(trades):  # validate everything before any arithmetic
            ops, _ = operations(trade, index, run.fiat, method)
            planned.append((trade, ops))
        planned.sort(key=lambda item: item[0].date)  # stable: same timestamp keeps input order
        for trade, ops in planned:
            run._apply_in_context(trade, ops)
    return run.finish()


class ComputeRun:
    """The same computation fed one trade at a time, in date order, for a history too large to hold
    (the tax report over a whole history, issue 17): `add(trade)` applies it at once, `finish()` gives
    the Result. Only the open lots and the rows of the result are kept, never the trades. Unlike
    `compute`, a malformed trade is found when it arrives, after the earlier ones were applied (the
    error is the same; an InsufficientHoldings before it can come first). A trade dated before the
    previous one is a ValueError: the caller sorts (equal timestamps keep arrival order, as in
    `compute`)."""

    def __init__(self, *, method: str, fiat: str = "USD", lot_scope: str = "all"):
        self.fiat, self.method, self.lot_scope = _checked(method, fiat, lot_scope), method, lot_scope
        if method == "uk":
            self._book = UKBook()
        elif method == "acb":
            self._book = _ImmediateBook(PoolBook(), lot_scope)
        else:
            self._book = _ImmediateBook(LotBook(method), lot_scope)
        self._income: list[IncomeEvent] = []
        self._expenses: list[Expense] = []
        self._lot_id = 0
        self._count = 0
        self._last = None
        self._context = _context()  # one for the run: making one per trade was a tenth of the engine

    def add(self, trade: Trade) -> None:
        index = self._count
        self._count += 1
        _trade_checked(trade, index)
        if self._last is not None and trade.date < self._last:
            raise ValueError(f"trade #{index} ({trade.date.isoformat()}) arrives after a later one "
                             f"({self._last.isoformat()}): feed ComputeRun in date order")
        with decimal.localcontext(self._context):
            ops, _ = operations(trade, index, self.fiat, self.method)
            self._apply_in_context(trade, ops)

    def _apply_in_context(self, trade: Trade, ops) -> None:
        self._last = trade.date
        book, when, ref = self._book, trade.date, trade.ref
        for op in ops:
            if isinstance(op, Acquire):
                self._lot_id += 1
                book.acquire(op, when, self._lot_id, ref)
                if op.income_label:  # the income is the fair value; the fee is a cost of acquisition (rule 10.4)
                    value = op.cost if op.value is None else op.value
                    self._income.append(
                        IncomeEvent(op.asset, op.quantity, when.date(), value, op.income_label, ref, op.wallet)
                    )
            elif isinstance(op, Dispose):
                book.dispose(op, when, ref)
            elif isinstance(op, Leave):
                book.leave(op, when, ref)
            elif isinstance(op, Move):
                book.move(op, when)
            elif isinstance(op, TransitOut):
                book.transit_out(op, when)
            elif isinstance(op, TransitIn):
                book.transit_in(op, when, ref)
            else:  # FeeExpense: no holdings change, no capital event (rule 10.5)
                assert isinstance(op, FeeExpense), op
                self._expenses.append(Expense(op.amount, when.date(), op.label, ref, op.wallet))

    def finish(self) -> Result:
        with decimal.localcontext(self._context):
            disposals, removals, open_lots = self._book.finish()
        return Result(disposals, self._income, open_lots, self.fiat, self.method, self.lot_scope, removals,
                      self._expenses)
