"""Tax-planning analysis of a report (pure: plain data in, plain data out; no Django).

Three concrete findings, each computed from the data, never invented:
- **Loss harvesting**: open lots worth less than they cost at the current price; selling them would
  realise that loss against the period's gains.
- **Turning long-term soon**: open lots whose first anniversary falls within the next `horizon` days
  after `as_of`; waiting past it makes a disposal long-term.
- **Method comparison**: the period's net gain under every cost-basis method for the same trades.
The text (`analysis_text`) states them in sentences; figures are rounded to cents only there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from core.money import ZERO, format_fiat, format_quantity
from ledger.cost_basis import Lot, anniversary


@dataclass(frozen=True)
class HarvestableLoss:
    asset: str
    wallet: str
    quantity: Decimal
    cost: Decimal
    value: Decimal

    @property
    def loss(self) -> Decimal:
        return self.cost - self.value


@dataclass(frozen=True)
class TurningLongTerm:
    asset: str
    wallet: str
    quantity: Decimal
    acquired: dt.date
    long_term_from: dt.date  # the first day a disposal is long-term
    cost: Decimal
    value: Decimal | None


@dataclass
class Analysis:
    harvestable: list[HarvestableLoss] = field(default_factory=list)
    turning_long: list[TurningLongTerm] = field(default_factory=list)
    method_nets: dict[str, Decimal] = field(default_factory=dict)
    method_errors: dict[str, str] = field(default_factory=dict)
    unpriced_assets: list[str] = field(default_factory=list)

    @property
    def harvestable_total(self) -> Decimal:
        return sum((item.loss for item in self.harvestable), ZERO)


def harvestable_losses(open_lots: list[Lot], prices: dict[str, Decimal]) -> tuple[list[HarvestableLoss], list[str]]:
    """Lots (or pools) whose current value is below their cost, largest loss first; plus the assets
    held that have no price (they cannot be judged)."""
    found, unpriced = [], set()
    for lot in open_lots:
        price = prices.get(lot.asset)
        if price is None:
            unpriced.add(lot.asset)
            continue
        value = lot.quantity * price
        if value < lot.cost:
            found.append(HarvestableLoss(lot.asset, lot.wallet, lot.quantity, lot.cost, value))
    found.sort(key=lambda item: (-item.loss, item.asset))
    return found, sorted(unpriced)


def turning_long_term(open_lots: list[Lot], prices: dict[str, Decimal], *, as_of: dt.date,
                      horizon: int = 60) -> list[TurningLongTerm]:
    """Dated lots that become long-term within `horizon` days after `as_of` (pools have no date)."""
    found = []
    for lot in open_lots:
        if not isinstance(lot.acquired, dt.date):
            continue
        long_from = anniversary(lot.acquired) + dt.timedelta(days=1)
        if as_of < long_from <= as_of + dt.timedelta(days=horizon):
            price = prices.get(lot.asset)
            found.append(TurningLongTerm(lot.asset, lot.wallet, lot.quantity, lot.acquired, long_from, lot.cost,
                                         lot.quantity * price if price is not None else None))
    found.sort(key=lambda item: (item.long_term_from, item.asset))
    return found


def _money(value: Decimal) -> str:
    return format_fiat(value, None, symbol=False)  # cents, half-even, thousands separators


def analysis_text(analysis: Analysis, *, method: str, fiat: str, net: Decimal) -> str:
    """Plain sentences with the figures; one paragraph per finding that exists."""
    lines = []
    if analysis.harvestable:
        biggest = analysis.harvestable[0]
        lines.append(
            f"Unrealised losses of {_money(analysis.harvestable_total)} {fiat} could be harvested across "
            f"{len(analysis.harvestable)} holding(s); the largest is {format_quantity(biggest.quantity, biggest.asset)} "
            f"costing {_money(biggest.cost)} and now worth {_money(biggest.value)} (a loss of {_money(biggest.loss)})."
            + (" Selling before the period ends would offset part of the net gain of "
               f"{_money(net)} {fiat}." if net > 0 else "")
        )
    for item in analysis.turning_long[:5]:
        worth = f", now worth {_money(item.value)} {fiat}" if item.value is not None else ""
        lines.append(
            f"{format_quantity(item.quantity, item.asset)} bought on {item.acquired.isoformat()} becomes long-term on "
            f"{item.long_term_from.isoformat()} (cost {_money(item.cost)}{worth}); disposing of it after that date "
            "makes any gain long-term."
        )
    if len(analysis.turning_long) > 5:
        lines.append(f"{len(analysis.turning_long) - 5} more lot(s) also turn long-term within the horizon.")
    if len(analysis.method_nets) > 1 and method in analysis.method_nets:
        chosen = analysis.method_nets[method]
        best_method = min(analysis.method_nets, key=lambda m: (analysis.method_nets[m], m))
        others = ", ".join(f"{m.upper()} {_money(v)}" for m, v in sorted(analysis.method_nets.items()))
        if analysis.method_nets[best_method] < chosen:
            lines.append(
                f"Net gain by method for this period: {others}. {best_method.upper()} would report "
                f"{_money(chosen - analysis.method_nets[best_method])} {fiat} less than {method.upper()}; "
                "check which methods your tax authority allows before changing, and apply one method consistently."
            )
        else:
            lines.append(f"Net gain by method for this period: {others}. {method.upper()} already gives the lowest "
                         "net gain of the methods compared.")
    if analysis.unpriced_assets:
        lines.append("No current price for " + ", ".join(analysis.unpriced_assets)
                     + ": enter prices to include them in the analysis.")
    if not lines:
        lines.append("Nothing to suggest: no unrealised losses, no lots turning long-term soon, and every method "
                     "gives the same result.")
    return "\n\n".join(lines)
