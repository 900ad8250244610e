"""Back-office pages of wallets: the wallets the member may see, with an on-chain balance refresh
(HTMX). The portfolio page is the reporting app's (reporting/portfolio_views.py)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from core import permissions
from core.errors import DomainError
from core.http_status import http_status_of
from wallets.selectors import wallet_list_for
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
    error, balance, status = "", None, 200
    try:
        balance = wallet_balance_refresh(actor=request.user, wallet=wallet)
    except DomainError as exc:
        # htmx swaps only 2xx answers: the error is shown in the row, a plain post gets the status.
        error, status = exc.message, 200 if request.htmx else http_status_of(exc)
    wallet.refresh_from_db()
    return render(request, "wallets/_wallet_row.html", {"wallet": wallet, "balance": balance, "error": error,
                                                        "all_wallets": permissions.can_view_all_wallets(request.user)},
                  status=status)
