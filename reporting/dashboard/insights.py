"""Insights: observations computed from the data by fixed rules (pure: plain data in, plain data out;
no Django). Each carries the numbers behind it and the page that acts on it.

Rules (thresholds are `Thresholds` fields):
- concentration: one asset above `concentration_share` of the priced holdings' value;
- unusual outflow: an outflow of the last `recent_days` worth more than `outflow_factor` times the
  median of the same wallet's earlier outflows (needs `outflow_min_history` earlier ones);
- fees trend: fees paid in the last `fee_window_days` against the window before it, up by more than
  `fee_increase_share` (needs fees in both windows);
- harvestable losses and lots turning long-term within `long_term_horizon_days` (reporting.tax_analysis,
  the functions the tax report's analysis uses, over the engine's open lots);
- stale prices: held assets whose newest price is older than `stale_price_hours`, or that have none;
- unmonitored wallets: active wallets with an address the chain monitor does not watch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

from reporting.tax_analysis import harvestable_losses, turning_long_term

ZERO = Decimal(0)
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Thresholds:
    concentration_share: Decimal = Decimal("0.5")
    outflow_factor: Decimal = Decimal("5")
    outflow_min_history: int = 5
    recent_days: int = 30
    fee_window_days: int = 30
    fee_increase_share: Decimal = Decimal("0.5")
    long_term_horizon_days: int = 30
    stale_price_hours: int = 24


@dataclass(frozen=True)
class Outflow:
    wallet: str
    at: dt.datetime
    value: Decimal
    transaction_id: str = ""


@dataclass(frozen=True)
class Fee:
    at: dt.datetime
    value: Decimal


@dataclass
class InsightInput:
    fiat: str
    now: dt.datetime
    today: dt.date
    holdings: dict[str, Decimal] = field(default_factory=dict)  # asset -> value now (priced only)
    outflows: list[Outflow] = field(default_factory=list)
    fees: list[Fee] = field(default_factory=list)
    open_lots: list = field(default_factory=list)  # ledger.cost_basis Lot
    prices: dict[str, Decimal] = field(default_factory=dict)  # asset -> current price
    held_assets: list[str] = field(default_factory=list)
    price_times: dict[str, dt.datetime | None] = field(default_factory=dict)  # asset -> newest price's time
    unmonitored_wallets: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Insight:
    kind: str
    severity: str
    title: str
    message: str
    figures: dict
    link: str


LINKS = {"portfolio": "/app/portfolio/", "transactions": "/admin/wallets/transaction/",
         "tax": "/app/tax-reports/", "prices": "/admin/wallets/pricequote/", "wallets": "/app/wallets/"}


def _money(value: Decimal, fiat: str) -> str:
    return f"{value.quantize(Decimal('0.01')):,} {fiat}"


def concentration(data: InsightInput, limits: Thresholds) -> list[Insight]:
    total = sum(data.holdings.values(), ZERO)
    if total <= 0:
        return []
    found = []
    for asset, value in sorted(data.holdings.items(), key=lambda item: (-item[1], item[0])):
        share = value / total
        if share > limits.concentration_share:
            percent = (share * 100).quantize(Decimal("0.1"))
            found.append(Insight("concentration", WARNING, f"{asset} is {percent}% of the portfolio",
                                 f"{asset} is worth {_money(value, data.fiat)} of {_money(total, data.fiat)} held "
                                 f"({percent}%), above the {(limits.concentration_share * 100).normalize():f}% "
                                 "limit: one price move moves most of the books.",
                                 {"asset": asset, "value": value, "total": total, "share": share.quantize(Decimal("0.0001")),
                                  "threshold": limits.concentration_share}, LINKS["portfolio"]))
    return found


def unusual_outflows(data: InsightInput, limits: Thresholds) -> list[Insight]:
    recent_from = data.now - dt.timedelta(days=limits.recent_days)
    found = []
    by_wallet: dict[str, list[Outflow]] = {}
    for outflow in sorted(data.outflows, key=lambda o: o.at):
        by_wallet.setdefault(outflow.wallet, []).append(outflow)
    for wallet, outflows in sorted(by_wallet.items()):
        for index, outflow in enumerate(outflows):
            if outflow.at < recent_from:
                continue
            history = [o.value for o in outflows[:index] if o.value > 0]
            if len(history) < limits.outflow_min_history:
                continue
            typical = Decimal(median(history))
            if typical > 0 and outflow.value > limits.outflow_factor * typical:
                times = (outflow.value / typical).quantize(Decimal("0.1"))
                found.append(Insight("unusual_outflow", WARNING, f"Unusual outflow from {wallet}",
                                     f"{_money(outflow.value, data.fiat)} left {wallet} on {outflow.at.date().isoformat()}, "
                                     f"{times} times its typical outflow of {_money(typical, data.fiat)} "
                                     f"(median of {len(history)} earlier ones).",
                                     {"wallet": wallet, "value": outflow.value, "typical": typical, "times": times,
                                      "history": len(history), "transaction_id": outflow.transaction_id,
                                      "at": outflow.at},
                                     LINKS["transactions"] + (f"{outflow.transaction_id}/change/"
                                                              if outflow.transaction_id else "")))
    return found


def fees_trend(data: InsightInput, limits: Thresholds) -> list[Insight]:
    window = dt.timedelta(days=limits.fee_window_days)
    recent = sum((f.value for f in data.fees if data.now - window <= f.at <= data.now), ZERO)
    before = sum((f.value for f in data.fees if data.now - 2 * window <= f.at < data.now - window), ZERO)
    if before <= 0 or recent <= 0:
        return []
    change = (recent - before) / before
    if change <= limits.fee_increase_share:
        return []
    percent = (change * 100).quantize(Decimal("1"))
    return [Insight("fees_trend", INFO, f"Fees up {percent}%",
                    f"Fees paid in the last {limits.fee_window_days} days: {_money(recent, data.fiat)}, against "
                    f"{_money(before, data.fiat)} in the {limits.fee_window_days} days before ({percent}% more).",
                    {"recent": recent, "previous": before, "change": change.quantize(Decimal("0.0001")),
                     "window_days": limits.fee_window_days}, LINKS["transactions"])]


def tax_opportunities(data: InsightInput, limits: Thresholds) -> list[Insight]:
    found = []
    losses, _ = harvestable_losses(data.open_lots, data.prices)
    if losses:
        total = sum((item.loss for item in losses), ZERO)
        biggest = losses[0]
        found.append(Insight("harvestable_losses", INFO, f"{_money(total, data.fiat)} of losses could be harvested",
                             f"{len(losses)} holding(s) are worth less than they cost; the largest is {biggest.asset} "
                             f"(cost {_money(biggest.cost, data.fiat)}, now {_money(biggest.value, data.fiat)}).",
                             {"total": total, "lots": len(losses), "largest_asset": biggest.asset,
                              "largest_loss": biggest.loss}, LINKS["tax"]))
    soon = turning_long_term(data.open_lots, data.prices, as_of=data.today, horizon=limits.long_term_horizon_days)
    if soon:
        first = soon[0]
        found.append(Insight("turning_long_term", INFO,
                             f"{len(soon)} lot(s) turn long-term within {limits.long_term_horizon_days} days",
                             f"The first, {first.quantity.normalize():f} {first.asset} bought on "
                             f"{first.acquired.isoformat()}, is long-term from {first.long_term_from.isoformat()}: a "
                             "disposal after that date is taxed as a long-term gain.",
                             {"lots": len(soon), "first_asset": first.asset, "first_date": first.long_term_from,
                              "cost": sum((item.cost for item in soon), ZERO),
                              "horizon_days": limits.long_term_horizon_days}, LINKS["tax"]))
    return found


def stale_prices(data: InsightInput, limits: Thresholds) -> list[Insight]:
    oldest_fresh = data.now - dt.timedelta(hours=limits.stale_price_hours)
    missing = sorted(a for a in data.held_assets if data.price_times.get(a) is None)
    stale = sorted(a for a in data.held_assets
                   if data.price_times.get(a) is not None and data.price_times[a] < oldest_fresh)
    if not (missing or stale):
        return []
    parts = []
    if stale:
        parts.append(f"older than {limits.stale_price_hours} h for {', '.join(stale)}")
    if missing:
        parts.append(f"missing for {', '.join(missing)}")
    return [Insight("stale_prices", WARNING, "Prices need updating",
                    "Prices are " + " and ".join(parts) + ": values and P&L of these assets are out of date.",
                    {"stale": stale, "missing": missing, "max_age_hours": limits.stale_price_hours},
                    LINKS["prices"])]


def unmonitored_wallets(data: InsightInput, limits: Thresholds) -> list[Insight]:
    if not data.unmonitored_wallets:
        return []
    names = sorted(data.unmonitored_wallets)
    return [Insight("unmonitored_wallets", INFO, f"{len(names)} wallet(s) not monitored",
                    f"The chain monitor does not watch {', '.join(names)}: their transfers are not recorded "
                    "until monitoring is on.", {"wallets": names, "count": len(names)}, LINKS["wallets"])]


RULES = (concentration, unusual_outflows, fees_trend, tax_opportunities, stale_prices, unmonitored_wallets)


def insights_compute(data: InsightInput, limits: Thresholds | None = None) -> list[Insight]:
    """Every rule's findings: warnings first, then in rule order."""
    limits = limits or Thresholds()
    found = [insight for rule in RULES for insight in rule(data, limits)]
    return sorted(found, key=lambda insight: insight.severity != WARNING)
