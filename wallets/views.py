"""Back-office pages of wallets: the user's wallets with an on-chain balance refresh (HTMX)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from core.jsonapi.errors import ApiError
from wallets.selectors import wallet_list_for
from wallets.services import wallet_balance_refresh


@login_required
@require_GET
def wallet_page(request):
    return render(request, "wallets/wallets.html", {"wallets": list(wallet_list_for(request.user))})


@login_required
@require_POST
def wallet_balance_row(request, wallet_id):
    wallet = wallet_list_for(request.user).filter(pk=wallet_id).first()
    if wallet is None:
        raise Http404
    error, balance = "", None
    try:
        balance = wallet_balance_refresh(wallet=wallet)
    except ApiError as exc:
        error = exc.message
    wallet.refresh_from_db()
    return render(request, "wallets/_wallet_row.html", {"wallet": wallet, "balance": balance, "error": error})
