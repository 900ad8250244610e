"""/api/portfolio/ (holdings, cost basis and P&L from the books' cost-basis engine, allocation,
performance, daily history) and /api/exchange-rates/portfolio-value/ (holdings valued in fiat), over
what the caller may see (reporting.portfolio)."""

import datetime as dt
from datetime import date, datetime
from typing import Literal

from ninja import Router, Schema

from core.jsonapi.auth import api_auth
from core.jsonapi.types import Amount, FiatAmount, ObjectIdStr
from reporting.portfolio import (portfolio_allocation_for, portfolio_history_for, portfolio_performance_for,
                                 portfolio_value_for)

portfolio_router = Router(tags=["portfolio"])
# Mounted at /api/exchange-rates/ beside wallets' exchange_rates_router (wallets cannot import reporting).
exchange_portfolio_router = Router(tags=["exchange-rates"])


class PortfolioPositionOut(Schema):
    asset: str
    quantity: Amount
    # False when a trade of this asset cannot be costed (listed in /value/'s `problems`): the cost
    # figures are then null, the quantity and value still shown.
    cost_known: bool
    average_buy_price: FiatAmount | None
    total_invested: FiatAmount | None  # the cost basis of the units held (the engine's open lots)
    current_price: FiatAmount | None
    current_value: FiatAmount | None
    unrealized_gain_loss: FiatAmount | None
    realized_gain_loss: FiatAmount | None  # gains less losses of this asset's disposals so far


class PortfolioProblemOut(Schema):
    key: str
    date: datetime
    transactions: list[ObjectIdStr]
    assets: list[str]
    reason: str


class InTransitOut(Schema):
    asset: str
    quantity: Amount
    cost: FiatAmount


class PendingOut(Schema):
    id: ObjectIdStr
    date: datetime
    type: str
    asset: str
    quantity: Amount
    wallet: str
    value: FiatAmount | None


@portfolio_router.get("/", response=list[PortfolioPositionOut], auth=api_auth,
                      summary="Balances per asset with cost basis, value and unrealised and realised P&L",
                      description="Cost basis from the organization's cost-basis method and lot scope (the "
                                  "books' engine); pending transactions are not held. An asset with a trade "
                                  "that cannot be costed keeps its quantity and value, its cost is null "
                                  "(cost_known false; the trade is listed in /value/'s problems).")
def portfolio(request):
    return portfolio_value_for(request.user)["positions"]


class PortfolioTotalOut(Schema):
    fiat: str
    total_invested: FiatAmount
    total_value: FiatAmount
    unrealized_gain_loss: FiatAmount
    value_without_cost: FiatAmount  # total_value = total_invested + unrealized_gain_loss + this
    unpriced: list[str]
    problems: list[PortfolioProblemOut]  # trades whose cost is unknown, and why
    as_of: date
    cost_basis_method: str
    lot_scope: str
    realized_gain_loss: FiatAmount
    in_transit: list[InTransitOut]
    pending: list[PendingOut]


@portfolio_router.get("/value/", response=PortfolioTotalOut, auth=api_auth, summary="Portfolio value",
                      description="Totals: total_value counts every priced position; total_invested and "
                                  "unrealized_gain_loss the priced positions whose cost is known; "
                                  "value_without_cost the others. `problems`: the trades the cost-basis engine "
                                  "cannot cost (no fiat value, more sold than held), listed, not blocking.")
def portfolio_value(request):
    return portfolio_value_for(request.user)


class AllocationOut(Schema):
    name: str
    value: FiatAmount
    share: Amount


class AllocationsOut(Schema):
    by_asset: list[AllocationOut]
    by_wallet: list[AllocationOut]


@portfolio_router.get("/allocation/", response=AllocationsOut, auth=api_auth,
                      summary="Allocation of the priced holdings by asset and by wallet")
def portfolio_allocation(request):
    return portfolio_allocation_for(request.user)


class PerformanceWindowOut(Schema):
    period: str
    start: datetime
    end: datetime
    start_value: FiatAmount
    end_value: FiatAmount
    inflows: FiatAmount
    outflows: FiatAmount
    net_flows: FiatAmount
    pnl: FiatAmount
    roi_percent: Amount | None
    unpriced: list[str]


class PerformanceOut(Schema):
    fiat: str
    as_of: datetime
    windows: list[PerformanceWindowOut]


@portfolio_router.get("/performance/", response=PerformanceOut, auth=api_auth,
                      summary="P&L and ROI over 24h, 7d, 30d, year to date and all time",
                      description="P&L = value now - value at the window's start - (money put in - money "
                                  "taken out during the window); ROI = P&L / Modified Dietz average capital. "
                                  "Assets without a needed price are listed in `unpriced` and left out.")
def portfolio_performance(request):
    return portfolio_performance_for(request.user)


class HistoryPointOut(Schema):
    date: date
    value: FiatAmount
    unpriced: list[str]


class PortfolioHistoryOut(Schema):
    fiat: str
    interval: str
    start: date
    end: date
    points: list[HistoryPointOut]


@portfolio_router.get("/history/", response=PortfolioHistoryOut, auth=api_auth,
                      summary="Daily value of your holdings (at most 3 years; default the last 30 days)")
def portfolio_history(request, start: dt.date | None = None, end: dt.date | None = None,
                      interval: Literal["day"] = "day"):
    return portfolio_history_for(request.user, start=start, end=end)


class PositionOut(Schema):
    asset: str
    quantity: Amount
    current_price: FiatAmount | None
    current_value: FiatAmount | None


class PortfolioValueOut(Schema):
    fiat: str
    total_value: FiatAmount
    positions: list[PositionOut]
    unpriced: list[str]


@exchange_portfolio_router.get("/portfolio-value/", response=PortfolioValueOut, auth=api_auth,
                               summary="Your holdings valued in fiat")
def exchange_portfolio_value(request):
    return portfolio_value_for(request.user)
