"""GET /api/dashboard/, /api/dashboard/insights/, /api/dashboard/analytics/ (thin).

Who: every member of an organization (`can_use_backoffice`), over what they may see: books roles
(accountants, managers, admins) the organization's books, a plain member their own wallets and
transactions (reporting.portfolio). Items awaiting someone and the cash balance follow the actor's
rules (reporting.dashboard.selectors)."""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpResponse

from ninja import Field, Router, Schema

from core import permissions
from core.jsonapi.auth import auth_requiring
from core.jsonapi.types import Amount, FiatAmount, ObjectIdStr
from reporting.dashboard.analytics import analytics_csv, analytics_for, analytics_xlsx
from reporting.dashboard.selectors import dashboard_for, insights_for

router = Router(tags=["dashboard"])
member_auth = auth_requiring(permissions.can_use_backoffice)


class ChangeOut(Schema):
    period: str  # 24h / 7d / 30d / ytd
    start_value: FiatAmount | None
    end_value: FiatAmount | None
    value_change: FiatAmount | None  # end less start, money put in or taken out included
    net_flows: FiatAmount | None
    pnl: FiatAmount | None  # the change less the money put in or taken out
    roi_percent: Amount | None
    unpriced: list[str]


class PortfolioFiguresOut(Schema):
    total_value: FiatAmount
    changes: list[ChangeOut]


class PnlOut(Schema):
    year_start: date
    realized_ytd: FiatAmount
    unrealized: FiatAmount
    cost_basis_method: str
    problems: int  # trades whose cost is unknown (their assets are left out of the P&L)


class CryptoBalanceOut(Schema):
    asset: str
    quantity: Amount
    value: FiatAmount | None


class BalancesOut(Schema):
    cash: FiatAmount | None  # the books' cash and bank; null for someone who may not view the books
    crypto_total: FiatAmount
    crypto: list[CryptoBalanceOut]
    unpriced: list[str]


class TypeTotalOut(Schema):
    count: int
    total_value: FiatAmount


class PeriodTransactionsOut(Schema):
    start: datetime
    count: int
    total_value: FiatAmount
    by_type: dict[str, TypeTotalOut]


class AwaitingOut(Schema):
    key: str
    label: str
    count: int
    url: str
    total: FiatAmount | None = None
    more: bool = Field(False, description="count is a floor: at least this many (counted up to a cap)")


class ActivityOut(Schema):
    kind: str
    id: ObjectIdStr
    at: datetime
    summary: str
    value: FiatAmount | None
    status: str


class DashboardOut(Schema):
    fiat: str
    as_of: datetime
    portfolio: PortfolioFiguresOut
    pnl: PnlOut
    balances: BalancesOut
    transactions: PeriodTransactionsOut
    awaiting: list[AwaitingOut]
    recent_activity: list[ActivityOut]


@router.get("/", response=DashboardOut, auth=member_auth, summary="Dashboard figures",
            description="Portfolio value and change, P&L year to date (the cost-basis engine, as the books), "
                        "balances, this month's transactions, items awaiting someone, recent activity.")
def dashboard(request):
    return dashboard_for(request.user)


class InsightOut(Schema):
    kind: str  # concentration, unusual_outflow, fees_trend, harvestable_losses, turning_long_term, ...
    severity: str  # warning / info
    title: str
    message: str
    figures: dict[str, Any]  # the numbers behind it (amounts as decimal strings)
    link: str  # the page that acts on it


class InsightsOut(Schema):
    fiat: str
    as_of: datetime
    phrasing: str  # "rules", or "rules+llm:<model>" when the optional language model reworded them
    insights: list[InsightOut]


@router.get("/insights/", response=InsightsOut, auth=member_auth, summary="Insights computed from the data",
            description="Rule-based observations (reporting.dashboard.insights) with their figures and a link.")
def insights(request):
    return insights_for(request.user)


class SeriesPointOut(Schema):
    bucket: date  # the bucket's first day (clipped to the period)
    portfolio_value: FiatAmount  # at the bucket's end
    unpriced: list[str]
    inflows: FiatAmount
    outflows: FiatAmount
    fees: FiatAmount
    realized_gains: FiatAmount
    income: FiatAmount


class AssetFlowOut(Schema):
    bucket: date
    asset: str
    inflow: FiatAmount
    outflow: FiatAmount


class CategoryFlowOut(Schema):
    bucket: date
    category: str
    inflow: FiatAmount
    outflow: FiatAmount


class BreakdownRowOut(Schema):
    name: str
    inflow: FiatAmount
    outflow: FiatAmount
    net: FiatAmount
    count: int


class BreakdownsOut(Schema):
    asset: list[BreakdownRowOut]
    wallet: list[BreakdownRowOut]
    category: list[BreakdownRowOut]
    counterparty: list[BreakdownRowOut]


class AnalyticsOut(Schema):
    fiat: str
    start: date
    end: date
    interval: str
    series: list[SeriesPointOut]
    flows_by_asset: list[AssetFlowOut]
    flows_by_category: list[CategoryFlowOut]
    breakdowns: BreakdownsOut


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/analytics/", response=AnalyticsOut, auth=member_auth, summary="Analytics over a custom period",
            description="Time series (portfolio value, inflows and outflows by asset and category, fees, realised "
                        "gains, income) per day, week or month, and breakdowns by asset, wallet, category and "
                        "counterparty. `format=csv` or `xlsx` gives the same data as a file. Periods ending before "
                        "they start, in the future, or longer than 5 years are 422.")
def analytics(request, start: date, end: date, interval: Literal["day", "week", "month"] = "day",
              format: Literal["json", "csv", "xlsx"] = "json"):
    answer = analytics_for(request.user, start=start, end=end, interval=interval)
    if format == "json":
        return answer
    name = f"analytics-{start.isoformat()}-{end.isoformat()}-{interval}"
    if format == "csv":
        response = HttpResponse(analytics_csv(answer), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    else:
        response = HttpResponse(analytics_xlsx(answer), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
