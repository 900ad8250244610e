"""Back-office pages of wallets: the wallets the member may see with an on-chain balance refresh,
and the portfolio (positions, value and allocation charts) of what they may see, in the
organization's fiat (HTMX)."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core import money, permissions
from core.jsonapi.errors import ApiError
from wallets.selectors import (portfolio_allocation_for, portfolio_history_for, portfolio_movements_for,
                               portfolio_value_for, wallet_list_for)
from wallets.services import wallet_balance_refresh


@login_required
@require_GET
def wallet_page(request):
    """The wallets the member may see: their own, or every wallet of the organization (with its
    owner) for managers and accountants."""
    all_wallets = permissions.can_view_all_wallets(request.user)
    wallets = wallet_list_for(request.user)
    if all_wallets:
        wallets = wallets.select_related("user")
    return render(request, "wallets/wallets.html", {"wallets": list(wallets), "all_wallets": all_wallets})


@login_required
@require_POST
def wallet_balance_row(request, wallet_id):
    wallet = wallet_list_for(request.user).filter(pk=wallet_id).first()
    if wallet is None:
        raise Http404
    error, balance = "", None
    try:
        balance = wallet_balance_refresh(actor=request.user, wallet=wallet)
    except ApiError as exc:
        error = exc.message
    wallet.refresh_from_db()
    return render(request, "wallets/_wallet_row.html", {"wallet": wallet, "balance": balance, "error": error,
                                                        "all_wallets": permissions.can_view_all_wallets(request.user)})


# Chart periods of the portfolio page: days of daily history ending today.
PORTFOLIO_PERIODS = {"7d": 7, "30d": 30, "90d": 90, "1y": 365, "3y": 3 * 365}
DEFAULT_PORTFOLIO_PERIOD = "30d"




def _history_chart_context(user, period: str, movements: list[dict] | None = None) -> dict:
    today = timezone.localdate()
    history = portfolio_history_for(user, start=today - dt.timedelta(days=PORTFOLIO_PERIODS[period] - 1), end=today,
                                    movements=movements)
    return {"period": period, "periods": list(PORTFOLIO_PERIODS),
            "history_data": {"fiat": history["fiat"], "period": period,
                             "points": [{"date": p["date"].isoformat(), "value": money.plain(p["value"])}
                                        for p in history["points"]]}}


@login_required
@require_GET
def portfolio_page(request):
    movements = portfolio_movements_for(request.user)  # read once for the whole page
    value = portfolio_value_for(request.user, movements=movements)
    allocation = portfolio_allocation_for(request.user, movements=movements)
    positions = [{**row, "quantity_display": money.plain(row["quantity"])} for row in value["positions"]]
    allocation_data = {"fiat": value["fiat"],
                       "slices": [{"name": a["name"], "value": money.plain(a["value"]), "share": money.plain(a["share"])}
                                  for a in allocation["by_asset"]]}
    return render(request, "wallets/portfolio.html", {
        "value": value, "positions": positions, "allocation": allocation["by_asset"],
        "allocation_data": allocation_data,
        **_history_chart_context(request.user, DEFAULT_PORTFOLIO_PERIOD, movements)})


@login_required
@require_GET
def portfolio_value_chart(request):
    """The value chart's data for another period (swapped in by the period picker)."""
    period = request.GET.get("period", DEFAULT_PORTFOLIO_PERIOD)
    if period not in PORTFOLIO_PERIODS:
        return HttpResponseBadRequest("Unknown period.")
    return render(request, "wallets/_portfolio_value_chart.html", _history_chart_context(request.user, period))
