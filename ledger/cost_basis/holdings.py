"""What is held, per (scope, asset): lots in a heap (fifo/lifo/hifo) or an average-cost pool (acb)."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import count

from .model import VARIOUS, InsufficientHoldings, Lot, LotMatch
from .terms import pool_term, term

ZERO = Decimal(0)


@dataclass
class LotPiece:
    """A lot, or the part of one that moved or was consumed. Mutable only inside a book."""

    lot_id: int
    acquired: date
    quantity: Decimal
    cost: Decimal
    ref: str
    key: tuple  # consumption order, fixed when the lot is created so splits keep their place


@dataclass
class PoolPiece:
    quantity: Decimal
    cost: Decimal
    earliest: date | None  # earliest / latest acquisition feeding the pool since it was last empty
    latest: date | None


def _split_cost(cost: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    return cost if part == whole else cost * part / whole


class LotBook:
    """Specific-lot identification. The heap key decides which lot goes first."""

    def __init__(self, method: str):
        self.method = method
        self.heaps: dict[tuple[str, str], list] = {}
        self.held: dict[tuple[str, str], Decimal] = {}
        self._uid = count()

    def _key(self, lot_id: int, quantity: Decimal, cost: Decimal) -> tuple:
        if self.method == "fifo":
            return (lot_id,)
        if self.method == "lifo":
            return (-lot_id,)
        return (-(cost / quantity), lot_id)  # hifo: highest cost per unit, then the earliest

    def add(self, scope: str, asset: str, lot_id: int, acquired: date, quantity: Decimal, cost: Decimal, ref: str):
        piece = LotPiece(lot_id, acquired, quantity, cost, ref, self._key(lot_id, quantity, cost))
        self.put(scope, asset, [piece])

    def put(self, scope: str, asset: str, pieces: list[LotPiece]) -> None:
        heap = self.heaps.setdefault((scope, asset), [])
        total = ZERO
        for piece in pieces:
            heapq.heappush(heap, (piece.key, next(self._uid), piece))
            total += piece.quantity
        self.held[(scope, asset)] = self.held.get((scope, asset), ZERO) + total

    def held_quantity(self, scope: str, asset: str) -> Decimal:
        return self.held.get((scope, asset), ZERO)

    def take(self, scope: str, asset: str, quantity: Decimal, when: datetime) -> list[LotPiece]:
        held = self.held.get((scope, asset), ZERO)
        if held < quantity:
            raise InsufficientHoldings(asset, when, quantity - held, scope)
        heap = self.heaps[(scope, asset)]
        taken: list[LotPiece] = []
        remaining = quantity
        while remaining:
            top = heap[0][2]
            if top.quantity <= remaining:
                heapq.heappop(heap)
                taken.append(top)
                remaining -= top.quantity
            else:
                part_cost = _split_cost(top.cost, remaining, top.quantity)
                taken.append(LotPiece(top.lot_id, top.acquired, remaining, part_cost, top.ref, top.key))
                top.quantity -= remaining
                top.cost -= part_cost
                remaining = ZERO
        self.held[(scope, asset)] = held - quantity
        return taken

    @staticmethod
    def split(piece: LotPiece, quantity: Decimal) -> tuple[LotPiece, LotPiece]:
        part_cost = _split_cost(piece.cost, quantity, piece.quantity)
        first = LotPiece(piece.lot_id, piece.acquired, quantity, part_cost, piece.ref, piece.key)
        rest = LotPiece(
            piece.lot_id, piece.acquired, piece.quantity - quantity, piece.cost - part_cost, piece.ref, piece.key
        )
        return first, rest

    @staticmethod
    def matched(pieces: list[LotPiece], disposed: date) -> tuple[tuple[LotMatch, ...], date | str, str]:
        matches = tuple(LotMatch(p.lot_id, p.acquired, p.quantity, p.cost, "lot") for p in pieces)
        dates = {p.acquired for p in pieces}
        terms = {term(acquired, disposed) for acquired in dates}
        return matches, (dates.pop() if len(dates) == 1 else VARIOUS), (terms.pop() if len(terms) == 1 else VARIOUS)

    def open_lots(self) -> list[Lot]:
        lots = []
        for (scope, asset), heap in self.heaps.items():
            for _, _, piece in heap:
                if piece.quantity:
                    lots.append(Lot(asset, scope, piece.quantity, piece.acquired, piece.cost, piece.lot_id, piece.ref))
        return lots


class PoolBook:
    """Average cost: one pool per (scope, asset)."""

    method = "acb"

    def __init__(self):
        self.pools: dict[tuple[str, str], PoolPiece] = {}

    def add(self, scope: str, asset: str, lot_id: int, acquired: date, quantity: Decimal, cost: Decimal, ref: str):
        self.put(scope, asset, [PoolPiece(quantity, cost, acquired, acquired)])

    def put(self, scope: str, asset: str, pieces: list[PoolPiece]) -> None:
        pool = self.pools.setdefault((scope, asset), PoolPiece(ZERO, ZERO, None, None))
        for piece in pieces:
            pool.quantity += piece.quantity
            pool.cost += piece.cost
            pool.earliest = piece.earliest if pool.earliest is None else min(pool.earliest, piece.earliest)
            pool.latest = piece.latest if pool.latest is None else max(pool.latest, piece.latest)

    def held_quantity(self, scope: str, asset: str) -> Decimal:
        pool = self.pools.get((scope, asset))
        return pool.quantity if pool else ZERO

    def take(self, scope: str, asset: str, quantity: Decimal, when: datetime) -> list[PoolPiece]:
        pool = self.pools.get((scope, asset))
        held = pool.quantity if pool else ZERO
        if held < quantity:
            raise InsufficientHoldings(asset, when, quantity - held, scope)
        part_cost = _split_cost(pool.cost, quantity, pool.quantity)
        piece = PoolPiece(quantity, part_cost, pool.earliest, pool.latest)
        pool.quantity -= quantity
        pool.cost -= part_cost
        if not pool.quantity:
            pool.earliest = pool.latest = None
        return [piece]

    @staticmethod
    def split(piece: PoolPiece, quantity: Decimal) -> tuple[PoolPiece, PoolPiece]:
        part_cost = _split_cost(piece.cost, quantity, piece.quantity)
        return (
            PoolPiece(quantity, part_cost, piece.earliest, piece.latest),
            PoolPiece(piece.quantity - quantity, piece.cost - part_cost, piece.earliest, piece.latest),
        )

    @staticmethod
    def matched(pieces: list[PoolPiece], disposed: date) -> tuple[tuple[LotMatch, ...], date | str, str]:
        matches = tuple(LotMatch(None, VARIOUS, p.quantity, p.cost, "pool") for p in pieces)
        terms = {pool_term(p.earliest, p.latest, disposed) for p in pieces}
        return matches, VARIOUS, (terms.pop() if len(terms) == 1 else VARIOUS)

    def open_lots(self) -> list[Lot]:
        return [
            Lot(asset, scope, pool.quantity, VARIOUS, pool.cost)
            for (scope, asset), pool in self.pools.items()
            if pool.quantity
        ]
