"""`compute_skipping`: the cost basis of every trade that can be costed, and why the others cannot.

Data problems are visible, not blocking (issue 19): one bad row (a trade without the fiat value it
needs, a sale of more than is held) must not stop the books of everything else. The rule:

1. Each trade is first checked on its own (`classify.operations`: amounts, assets, label, the
   values it needs); a trade that fails is skipped with the engine's message.
2. The rest is computed. If the history still fails (more leaves than is held, a transfer in with
   nothing in transit: problems that depend on the order), the first trade in date order whose
   inclusion makes it fail is found (by bisection over date-ordered prefixes) and skipped with the
   message the engine gave for that prefix; then again, until the history computes.

So a skipped acquisition may make later disposals of that asset uncostable too: they are skipped
and reported in turn, never costed from lots that do not exist. With nothing to skip, the result is
exactly `compute(trades)`. Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Sequence

from .classify import operations
from .engine import compute
from .model import InsufficientHoldings, Result, Trade, TradeError

FAILURES = (TradeError, InsufficientHoldings)


def compute_skipping(trades: Sequence[Trade], *, method: str, fiat: str = "USD", lot_scope: str = "all"
                     ) -> tuple[Result, dict[int, str]]:
    """(the result over the trades that can be costed, {index in `trades`: why it was skipped}).
    A bad call (unknown method, lot scope, fiat) still raises TradeError: that is no data problem."""
    trades = list(trades)
    compute([], method=method, fiat=fiat, lot_scope=lot_scope)  # the call itself is valid
    skipped: dict[int, str] = {}
    for index, trade in enumerate(trades):
        try:
            if not isinstance(trade, Trade):
                raise TradeError(f"trade #{index} is a {type(trade).__name__}, not a Trade")
            operations(trade, index, fiat.strip().upper(), method)
        except TradeError as exc:
            skipped[index] = str(exc)
    # Date order as the engine walks it (stable: equal dates keep input order).
    order = sorted((i for i in range(len(trades)) if i not in skipped), key=lambda i: trades[i].date)

    def attempt(indices: list[int]) -> tuple[Result | None, str]:
        try:
            return compute([trades[i] for i in sorted(indices)], method=method, fiat=fiat,
                           lot_scope=lot_scope), ""
        except FAILURES as exc:
            return None, str(exc)

    while True:
        result, reason = attempt(order)
        if result is not None:
            return result, skipped
        # The shortest failing prefix: its last trade is the first one the history cannot take.
        low, high, why = 1, len(order), reason  # attempt(order[:high]) fails
        while low < high:
            middle = (low + high) // 2
            _, failed = attempt(order[:middle])
            if failed:
                high, why = middle, failed
            else:
                low = middle + 1
        culprit = order[high - 1]
        skipped[culprit] = why
        order.remove(culprit)
