"""The portfolio page (HTMX): positions with their cost basis and P&L from the books' engine,
trades whose cost is unknown (data problems: listed, their assets without cost), pending
transactions, the value chart with its period picker, allocation; what the member may see, in the
organization's fiat (reporting.portfolio)."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import money
from core.errors import DomainError
from reporting.portfolio import (PortfolioData, portfolio_allocation_for, portfolio_data_for, portfolio_history_for,
                                 portfolio_value_for)

# Chart periods of the portfolio page: days of daily history ending today (the organization's day).
PORTFOLIO_PERIODS = {"7d": 7, "30d": 30, "90d": 90, "1y": 365, "3y": 3 * 365}
DEFAULT_PORTFOLIO_PERIOD = "30d"


def _history_chart_context(user, period: str, data: PortfolioData) -> dict:
    today = data.today
    history = portfolio_history_for(user, start=today - dt.timedelta(days=PORTFOLIO_PERIODS[period] - 1), end=today,
                                    data=data)
    return {"period": period, "periods": list(PORTFOLIO_PERIODS),
            "history_data": {"fiat": history["fiat"], "period": period,
                             "points": [{"date": p["date"].isoformat(), "value": money.plain(p["value"])}
                                        for p in history["points"]]}}


@login_required
@require_GET
def portfolio_page(request):
    data = portfolio_data_for(request.user)  # read once for the whole page
    value, error = None, ""
    try:
        value = portfolio_value_for(request.user, data=data)
    except DomainError as exc:  # no data problem (those are listed): the engine refuses the call itself
        error = exc.message
    allocation = portfolio_allocation_for(request.user, data=data)
    positions = [{**row, "quantity_display": money.plain(row["quantity"])} for row in (value or {}).get("positions", [])]
    allocation_data = {"fiat": data.fiat,
                       "slices": [{"name": a["name"], "value": money.plain(a["value"]), "share": money.plain(a["share"])}
                                  for a in allocation["by_asset"]]}
    return render(request, "reporting/portfolio.html", {
        "fiat": data.fiat, "value": value, "cost_basis_error": error, "positions": positions,
        "pending": data.pending, "allocation": allocation["by_asset"], "allocation_data": allocation_data,
        **_history_chart_context(request.user, DEFAULT_PORTFOLIO_PERIOD, data)})


@login_required
@require_GET
def portfolio_value_chart(request):
    """The value chart's data for another period (swapped in by the period picker)."""
    period = request.GET.get("period", DEFAULT_PORTFOLIO_PERIOD)
    if period not in PORTFOLIO_PERIODS:
        return HttpResponseBadRequest("Unknown period.")
    return render(request, "reporting/_portfolio_value_chart.html",
                  _history_chart_context(request.user, period, portfolio_data_for(request.user)))
