"""HMRC share-matching for cryptoassets (CRYPTO22200 onwards), one person, one pool per asset.

Order of identification, per asset:
1. same day (TCGA92/S105): all acquisitions of a day are one acquisition, all disposals of a day are
   one disposal, matched as far as possible;
2. the 30 days after the disposal (TCGA92/S106A, "bed and breakfasting"): what is still unmatched
   of a disposal, taken in date order, is matched with acquisitions of the next 30 days, earliest
   first, as far as they are not already matched (same day first, then earlier disposals);
3. the section 104 pool (TCGA92/S104) at its average cost at the time.
A gift is a disposal (CRYPTO22100) and is matched like any other. A loss (`lost`) is no disposal
(CRYPTO22400): it takes no part in rules 1 and 2; its units leave the section 104 pool at the pool's
average cost, after the day's own acquisitions and disposals are dealt with.
Whole history is needed before anything is final: a disposal's cost depends on up to 30 days after it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .classify import Acquire, Dispose, Leave, Move, TransitIn, TransitOut
from .model import VARIOUS, Disposal, InsufficientHoldings, Lot, LotMatch, Removal, TradeError
from .terms import pool_term

ZERO = Decimal(0)
THIRTY_DAYS = timedelta(days=30)


@dataclass
class _Day:
    order: int  # position of the day's first movement, so same-day rows keep input order
    acquired_quantity: Decimal = ZERO
    acquired_cost: Decimal = ZERO
    disposals: list = field(default_factory=list)  # (quantity, proceeds, kind, ref, wallet)
    leaves: list = field(default_factory=list)  # (quantity, label, ref, wallet): losses, out of the pool
    unmatched_acquired: Decimal = ZERO
    unmatched_acquired_cost: Decimal = ZERO
    unmatched_disposed: Decimal = ZERO
    matches: list = field(default_factory=list)  # (LotMatch, term)


def _take(day: _Day, quantity: Decimal) -> Decimal:
    """Remove `quantity` of the day's unmatched acquisition and return its share of the cost."""
    if quantity == day.unmatched_acquired:
        cost = day.unmatched_acquired_cost
    else:
        cost = day.unmatched_acquired_cost * quantity / day.unmatched_acquired
    day.unmatched_acquired -= quantity
    day.unmatched_acquired_cost -= cost
    return cost


class UKBook:
    def __init__(self):
        self.days: dict[str, dict[date, _Day]] = {}
        self.held: dict[str, Decimal] = {}
        self.in_transit: dict[str, Decimal] = {}
        self._order = 0

    def _day(self, asset: str, when) -> _Day:
        self._order += 1
        days = self.days.setdefault(asset, {})
        day = days.get(when.date())
        if day is None:
            day = days[when.date()] = _Day(self._order)
        return day

    def _leave_holdings(self, asset: str, quantity: Decimal, when) -> None:
        held = self.held.get(asset, ZERO)
        if held < quantity:
            raise InsufficientHoldings(asset, when, quantity - held)
        self.held[asset] = held - quantity

    # Movements: holdings are checked as they happen; matching waits for the whole history.
    def acquire(self, op: Acquire, when, lot_id: int, ref: str) -> None:
        day = self._day(op.asset, when)
        day.acquired_quantity += op.quantity
        day.acquired_cost += op.cost
        self.held[op.asset] = self.held.get(op.asset, ZERO) + op.quantity

    def dispose(self, op: Dispose, when, ref: str) -> None:
        self._leave_holdings(op.asset, op.quantity, when)
        self._day(op.asset, when).disposals.append((op.quantity, op.proceeds, op.kind, ref, op.wallet))

    def leave(self, op: Leave, when, ref: str) -> None:
        self._leave_holdings(op.asset, op.quantity, when)
        self._day(op.asset, when).leaves.append((op.quantity, op.label, ref, op.wallet))

    def move(self, op: Move, when) -> None:
        held = self.held.get(op.asset, ZERO)
        if held < op.quantity:
            raise InsufficientHoldings(op.asset, when, op.quantity - held)

    def transit_out(self, op: TransitOut, when) -> None:
        self._leave_holdings(op.asset, op.quantity, when)
        self.in_transit[op.asset] = self.in_transit.get(op.asset, ZERO) + op.quantity

    def transit_in(self, op: TransitIn, when, ref: str) -> None:
        waiting = self.in_transit.get(op.asset, ZERO)
        if waiting < op.quantity:
            raise TradeError(
                f"transfer in of {op.quantity} {op.asset} on {when.date().isoformat()} (ref={ref!r}) has only "
                f"{waiting} in transit: short by {op.quantity - waiting}; pair it with its transfer out "
                "or give the sending row a to_wallet"
            )
        self.in_transit[op.asset] = waiting - op.quantity
        self.held[op.asset] = self.held.get(op.asset, ZERO) + op.quantity

    def finish(self) -> tuple[list[Disposal], list[Removal], list[Lot]]:
        rows: list[tuple[int, Disposal]] = []
        removals: list[tuple[int, Removal]] = []
        open_lots: list[Lot] = []
        for asset, days in self.days.items():
            pool = self._match(asset, days, rows, removals)
            if pool[0]:
                open_lots.append(Lot(asset, "", pool[0], VARIOUS, pool[1]))
        rows.sort(key=lambda item: (item[1].date_disposed, item[0]))
        removals.sort(key=lambda item: (item[1].date, item[0]))
        open_lots.sort(key=lambda lot: lot.asset)
        return [row for _, row in rows], [removal for _, removal in removals], open_lots

    def _match(self, asset: str, days: dict[date, _Day], rows: list, removals: list) -> tuple[Decimal, Decimal]:
        ordered = sorted(days)
        for when in ordered:
            day = days[when]
            day.unmatched_acquired = day.acquired_quantity
            day.unmatched_acquired_cost = day.acquired_cost
            day.unmatched_disposed = sum((q for q, *_ in day.disposals), ZERO)  # losses are not matched
        # 1. same day
        for when in ordered:
            day = days[when]
            quantity = min(day.unmatched_acquired, day.unmatched_disposed)
            if quantity:
                cost = _take(day, quantity)
                day.unmatched_disposed -= quantity
                day.matches.append((LotMatch(None, when, quantity, cost, "same-day"), "short"))
        # 2. acquisitions in the 30 days after each disposal, earliest disposal first
        buying_days = [when for when in ordered if days[when].acquired_quantity]
        for when in ordered:
            day = days[when]
            index = bisect_right(buying_days, when)
            while day.unmatched_disposed and index < len(buying_days) and buying_days[index] <= when + THIRTY_DAYS:
                later = days[buying_days[index]]
                quantity = min(later.unmatched_acquired, day.unmatched_disposed)
                if quantity:
                    cost = _take(later, quantity)
                    day.unmatched_disposed -= quantity
                    day.matches.append((LotMatch(None, buying_days[index], quantity, cost, "30-day"), "short"))
                index += 1
        # 3. section 104 pool, in date order; a day's losses leave it after the day's disposals (at the
        # same average: taking at the average does not change it)
        pool_quantity, pool_cost = ZERO, ZERO
        earliest: date | None = None
        latest: date | None = None
        for when in ordered:
            day = days[when]
            if day.unmatched_acquired:
                pool_quantity += day.unmatched_acquired
                pool_cost += day.unmatched_acquired_cost
                earliest = earliest or when
                latest = when
            if day.unmatched_disposed:
                quantity = day.unmatched_disposed
                if pool_quantity < quantity:  # cannot happen after the running holdings check; kept as a guard
                    raise InsufficientHoldings(asset, when, quantity - pool_quantity)
                cost = pool_cost if quantity == pool_quantity else pool_cost * quantity / pool_quantity
                day.matches.append((LotMatch(None, VARIOUS, quantity, cost, "pool"), pool_term(earliest, latest, when)))
                pool_quantity -= quantity
                pool_cost -= cost
                if not pool_quantity:
                    earliest = latest = None
            for quantity, label, ref, wallet in day.leaves:
                if pool_quantity < quantity:  # cannot happen: the pool never holds less than is held
                    raise InsufficientHoldings(asset, when, quantity - pool_quantity)
                cost = pool_cost if quantity == pool_quantity else pool_cost * quantity / pool_quantity
                removals.append((day.order, Removal(asset, quantity, when, cost, label, wallet, ref,
                                                    (LotMatch(None, VARIOUS, quantity, cost, "pool"),))))
                pool_quantity -= quantity
                pool_cost -= cost
                if not pool_quantity:
                    earliest = latest = None
            if day.disposals:
                self._emit(asset, when, day, rows)
        return pool_quantity, pool_cost

    @staticmethod
    def _emit(asset: str, when: date, day: _Day, rows: list) -> None:
        """The day's single disposal (sales, swaps, spends, gifts and fees together)."""
        cost = sum((match.cost for match, _ in day.matches), ZERO)
        disposed = sum((q for q, *_ in day.disposals), ZERO)
        matches = tuple(match for match, _ in day.matches)
        terms = {term for _, term in day.matches}
        dates = {match.acquired for match in matches}
        acquired = dates.pop() if len(dates) == 1 else VARIOUS
        proceeds = sum((p for _, p, *_ in day.disposals), ZERO)

        def joined(values) -> str:
            return "+".join(dict.fromkeys(v for v in values if v))

        rows.append((day.order, Disposal(
            asset, disposed, acquired, when, proceeds, cost, proceeds - cost,
            terms.pop() if len(terms) == 1 else VARIOUS,
            joined(w for *_, w in day.disposals), ";".join(r for *_, r, _ in day.disposals if r),
            joined(k for _, _, k, *_ in day.disposals), matches,
        )))
