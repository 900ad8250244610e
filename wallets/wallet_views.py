"""Back-office pages of one wallet (HTMX), calling wallets.services and wallets.transfers only:

- create (`/app/wallets/new/`): generate or import a private key (stored encrypted by the service,
  never shown again), or watch an address (MetaMask / hardware: watch-only);
- detail (`/app/wallets/<id>/`): balances per asset read from the node (refreshed live when the
  monitor records a change: `wallet.balance_changed`, dispatched by static/backoffice/wallets.js),
  receive (address, QR code, EIP-681 URI), send, recent movements and sends;
- send: asset, amount, recipient (EIP-55 checked), the gas tiers with their expected wait and fiat
  cost, the password when the session is not approved; one idempotency key per rendered form, so a
  double click (or a resubmitted form) sends once;
- a send's row polls the node while the send is open (the status read settles it in the books once
  it has the required confirmations), so it goes PENDING -> CONFIRMED on the page; a fee bump for a
  BROADCAST or STUCK send.

Who: what a person may see is wallets.selectors.wallet_list_for (another organization's wallet, or
a colleague's for a plain member, is a 404); what they may do is checked by the services
(core.permissions); the send form asks `can_send_from_wallet` first so a viewer who may not send
gets the 403 page before any input is read. Every DomainError is shown inline: an htmx request gets
200 (htmx swaps only 2xx answers), a plain request the error's status; never a 500."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import user_session_get
from accounts.sessions import require_approved_session, session_approve
from core import permissions
from core.errors import DomainError, ErrorCode, InvalidInput
from core.http_status import http_status_of
from core.jsonapi.auth import BROWSER_SESSION_KEY, client_ip
from wallets import gas, networks, services, transfers
from wallets.addresses import address_normalise
from wallets.models import OPEN_TRANSFER_STATUSES, Cryptocurrency, OutgoingTransfer, TransferStatus, WalletType
from wallets.prices import price_current
from wallets.selectors import organization_fiat, transaction_list_for, wallet_list_for

RECENT_ROWS = 10
CREATE_MODES = {"generate": "Generate a new key", "import": "Import a private key", "watch": "Watch an address"}
WATCH_TYPES = (WalletType.METAMASK, WalletType.HARDWARE)


# --- helpers ------------------------------------------------------------------------------------------

def _visible_wallet(request, wallet_id):
    wallet = wallet_list_for(request.user).filter(pk=wallet_id).first()
    if wallet is None:
        raise Http404
    return wallet


def _visible_transfer(request, transfer_id) -> OutgoingTransfer:
    """A send of a wallet the person may see (404 otherwise)."""
    transfer = OutgoingTransfer.objects.for_actor(request.user).filter(pk=transfer_id).first()
    if transfer is None or not wallet_list_for(request.user).filter(pk=transfer.wallet_id).exists():
        raise Http404
    return transfer


def _status(request, exc: DomainError) -> int:
    return 200 if request.htmx else http_status_of(exc)


def _assets():
    return list(Cryptocurrency.objects.filter(is_active=True).order_by("contract_address", "symbol"))


def _browser_session(request):
    session_id = request.session.get(BROWSER_SESSION_KEY)
    return user_session_get(session_id=session_id) if session_id else None


def _session_approved(session) -> bool:
    try:
        require_approved_session(session)
    except DomainError:
        return False
    return True


def _recent_transfers(request, wallet) -> list[OutgoingTransfer]:
    return list(OutgoingTransfer.objects.for_actor(request.user).filter(wallet_id=wallet.pk)
                .prefetch_related("cryptocurrency").order_by("-created_at")[:RECENT_ROWS])


def _send_context(request, wallet, *, form=None, error="", field_errors=None) -> dict:
    return {"wallet": wallet, "assets": _assets(), "form": form or {}, "error": error,
            "field_errors": field_errors or {}, "idempotency_key": uuid.uuid4().hex, "fee_tiers": gas.TIER_NAMES,
            "session_approved": _session_approved(_browser_session(request)),
            "can_send": wallet.has_private_key and permissions.can_send_from_wallet(request.user, wallet)}


def _transfer_view(transfer: OutgoingTransfer, status_read: dict | None = None) -> OutgoingTransfer:
    """The send as the page shows it: PENDING while open (with confirmations when mined)."""
    transfer.page_status = "PENDING" if transfer.status in (TransferStatus.PREPARED, TransferStatus.BROADCAST) \
        else transfer.status
    transfer.is_open = transfer.status in OPEN_TRANSFER_STATUSES
    transfer.confirmations = (status_read or {}).get("confirmations")
    transfer.required_confirmations = (status_read or {}).get("required_confirmations")
    return transfer


# --- create ---------------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def wallet_create_page(request):
    """Generate or import a key, or watch an address. The key field is never rendered back."""
    form = {"mode": "generate", "wallet_type": WalletType.METAMASK}
    error, status = "", 200
    if request.method == "POST":
        form = {name: request.POST.get(name, "").strip()
                for name in ("name", "mode", "address", "wallet_type", "network")}
        mode = form["mode"] if form["mode"] in CREATE_MODES else "generate"
        try:
            if mode == "watch":
                if form["wallet_type"] not in WATCH_TYPES:
                    raise InvalidInput(ErrorCode.VALIDATION_ERROR, "Pick MetaMask or Hardware for a watched address.")
                wallet = services.wallet_create(user=request.user, name=form["name"], wallet_type=form["wallet_type"],
                                                address=form["address"], network=form["network"])
            else:
                private_key = request.POST.get("private_key", "") if mode == "import" else ""
                if mode == "import" and not private_key.strip():
                    raise InvalidInput(ErrorCode.INVALID_PRIVATE_KEY, "Paste the private key to import.")
                wallet = services.wallet_create(user=request.user, name=form["name"],
                                                wallet_type=WalletType.PRIVATE_KEY, private_key=private_key,
                                                address=form["address"] if mode == "import" else "",
                                                network=form["network"])
        except DomainError as exc:
            error, status = exc.message, http_status_of(exc)
        else:
            url = reverse("backoffice-wallet-detail", args=[wallet.pk])
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    return render(request, "wallets/wallet_new.html",
                  {"form": form, "error": error, "modes": CREATE_MODES, "watch_types": WATCH_TYPES,
                   "networks": networks.networks()},
                  status=status if not request.htmx else 200)


# --- detail ---------------------------------------------------------------------------------------------

@login_required
@require_GET
def wallet_detail_page(request, wallet_id):
    wallet = _visible_wallet(request, wallet_id)
    transactions = list(transaction_list_for(request.user, wallet_id=wallet.pk)[:RECENT_ROWS])
    try:
        receive, receive_error = services.wallet_receive_request(wallet=wallet), ""
    except DomainError as exc:
        receive, receive_error = None, exc.message
    context = {
        **_send_context(request, wallet),
        "transactions": transactions,
        "transfers": [_transfer_view(t) for t in _recent_transfers(request, wallet)],
        "receive": receive, "receive_error": receive_error,
        "owner": wallet.user if permissions.can_view_all_wallets(request.user) else None,
        "fiat": organization_fiat(request.user),
    }
    return render(request, "wallets/wallet_detail.html", context)


@login_required
@require_GET
def wallet_row(request, wallet_id):
    """The list's row of one wallet with its stored balance (refreshed live after the monitor)."""
    wallet = _visible_wallet(request, wallet_id)
    if permissions.can_view_all_wallets(request.user):
        wallet = wallet_list_for(request.user).filter(pk=wallet.pk).select_related("user").first()
    return render(request, "wallets/_wallet_row.html",
                  {"wallet": wallet, "all_wallets": permissions.can_view_all_wallets(request.user)})


@login_required
@require_GET
def wallet_balances(request, wallet_id):
    """Balances per asset read from the node (stored ETH balance updated)."""
    wallet = _visible_wallet(request, wallet_id)
    error, balances, status = "", None, 200
    try:
        balances = services.wallet_balance_refresh(actor=request.user, wallet=wallet)
    except DomainError as exc:
        error, status = exc.message, _status(request, exc)
    return render(request, "wallets/_wallet_balances.html", {"wallet": wallet, "balances": balances, "error": error},
                  status=status)


@login_required
@require_GET
def wallet_activity(request, wallet_id):
    """The wallet's recent movements (refreshed live with the balances)."""
    wallet = _visible_wallet(request, wallet_id)
    return render(request, "wallets/_wallet_activity.html", {
        "wallet": wallet, "transactions": list(transaction_list_for(request.user, wallet_id=wallet.pk)[:RECENT_ROWS])})


@login_required
@require_GET
def wallet_receive(request, wallet_id):
    wallet = _visible_wallet(request, wallet_id)
    error, receive, status = "", None, 200
    try:
        receive = services.wallet_receive_request(wallet=wallet, asset=request.GET.get("asset", "ETH"),
                                                  amount=request.GET.get("amount", "").strip() or None)
    except DomainError as exc:
        error, status = exc.message, _status(request, exc)
    return render(request, "wallets/_wallet_receive.html",
                  {"wallet": wallet, "receive": receive, "error": error, "assets": _assets(),
                   "form": request.GET}, status=status)


# --- send -----------------------------------------------------------------------------------------------

def _amount(raw: str) -> Decimal:
    try:
        value = Decimal((raw or "").strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, "Enter the amount as a number, e.g. 0.25.",
                           {"field": "amount"}) from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, "The amount must be more than 0.", {"field": "amount"})
    return value


def _recipient(raw: str) -> str:
    try:
        return address_normalise(raw)
    except DomainError as exc:
        exc.details = {**(exc.details or {}), "field": "to"}
        raise


@login_required
@require_GET
def wallet_gas(request, wallet_id):
    """The gas tiers (slow / normal / fast) of the send the form describes, with the expected wait,
    the cost in ETH and in the organization's fiat, and the fiat value of the amount."""
    wallet = _visible_wallet(request, wallet_id)
    data = request.GET
    context = {"wallet": wallet, "error": "", "estimate": None}
    status = 200
    if not (data.get("to") and data.get("amount")):
        context["error"] = "Enter a recipient and an amount to see the fees."
        return render(request, "wallets/_wallet_gas.html", context)
    try:
        amount, to = _amount(data.get("amount", "")), _recipient(data.get("to", ""))
        asset = (data.get("asset") or "ETH").upper()
        fiat = organization_fiat(request.user)
        estimate = transfers.gas_estimate(from_address=wallet.address, to=to, amount=amount, asset=asset,
                                          fiat=fiat, organization=request.user.organization_id)
        for tier in estimate["tiers"].values():
            tier["tip_gwei"] = Decimal(tier["max_priority_fee_per_gas"]).scaleb(-9)
        context["estimate"] = estimate
        try:
            context["amount_fiat"] = amount * price_current(symbol=asset, fiat=fiat,
                                                            organization=request.user.organization_id)
        except DomainError:
            context["amount_fiat"] = None
        chosen = data.get("fee_tier") or "normal"
        context.update(fiat=fiat, asset=asset, amount=amount,
                       fee_tier=chosen if chosen in gas.TIER_NAMES else "normal")
    except DomainError as exc:
        context["error"], status = exc.message, _status(request, exc)
    return render(request, "wallets/_wallet_gas.html", context, status=status)


@login_required
@require_POST
def wallet_send(request, wallet_id):
    """The send form's hx-post: the form again (a new idempotency key once this one was used) with
    the send's row on top of the wallet's sends, or the form with the error inline."""
    wallet = _visible_wallet(request, wallet_id)
    if not permissions.can_send_from_wallet(request.user, wallet):
        raise PermissionDenied("Only the wallet's owner or a manager can send from it.")
    data = request.POST
    form = {name: data.get(name, "").strip() for name in ("asset", "amount", "to", "fee_tier")}
    field_errors: dict[str, str] = {}
    try:
        amount, to = _amount(form["amount"]), _recipient(form["to"])
        key = data.get("idempotency_key", "").strip()
        if not key:
            raise InvalidInput(ErrorCode.IDEMPOTENCY_KEY_REQUIRED, "The form is out of date: reload the page.")
        session = _browser_session(request)
        password = data.get("password", "")
        if password and session is not None and not _session_approved(session):
            try:
                session = session_approve(session=session, password=password, ip=client_ip(request))
            except DomainError as exc:
                exc.details = {**exc.details, "field": "password"}
                raise
        if not _session_approved(session):
            raise InvalidInput(ErrorCode.SESSION_NOT_APPROVED, "Enter your password to approve this send.",
                               {"field": "password"})
        transfer, _ = transfers.transfer_send(user=request.user, session=session, wallet=wallet, to=to, amount=amount,
                                              asset=form["asset"] or "ETH", idempotency_key=key,
                                              fee_tier=form["fee_tier"] or "normal")
    except DomainError as exc:
        field = (exc.details or {}).get("field") if isinstance(exc.details, dict) else None
        if field:
            field_errors[field] = exc.message
        context = _send_context(request, wallet, form=form, error="" if field else exc.message,
                                field_errors=field_errors)
        return render(request, "wallets/_wallet_send.html", context, status=_status(request, exc))
    context = _send_context(request, wallet)
    context.update(sent=_transfer_view(transfer),
                   transfers=[_transfer_view(t) for t in _recent_transfers(request, wallet)])
    return render(request, "wallets/_wallet_send.html", context)


@login_required
@require_GET
def transfer_row(request, transfer_id):
    """One send's row. While it is open, the node is asked (which settles a send that has the
    required confirmations, in the books too) and the row keeps polling; once settled the wallet's
    balances are recorded and pushed to open pages."""
    transfer = _visible_transfer(request, transfer_id)
    status_read, error = None, ""
    if transfer.status in OPEN_TRANSFER_STATUSES and transfer.status != TransferStatus.PREPARED:
        try:
            status_read = transfers.transaction_status(tx_hash=transfer.tx_hash, network=transfer.network or None)
        except DomainError as exc:
            error = exc.message
        transfer.refresh_from_db()
        if transfer.status not in OPEN_TRANSFER_STATUSES:
            services.wallet_balances_record(wallet_ids=[transfer.wallet_id])
    return render(request, "wallets/_transfer_row.html", {"transfer": _transfer_view(transfer, status_read),
                                                           "error": error})


@login_required
@require_POST
def transfer_fee_bump(request, transfer_id):
    """Replace an open send by the same payment and nonce with a higher fee."""
    transfer = _visible_transfer(request, transfer_id)
    error, status = "", 200
    try:
        transfer = services.transfer_fee_bump_request(actor=request.user, transfer=transfer)
    except DomainError as exc:
        error, status = exc.message, _status(request, exc)
        transfer.refresh_from_db()
    return render(request, "wallets/_transfer_row.html", {"transfer": _transfer_view(transfer), "error": error},
                  status=status)


# --- proof of ownership (watch-only wallets) -------------------------------------------------------------

@login_required
@require_POST
def wallet_ownership(request, wallet_id):
    """Prove control of a watched address: `action=challenge` gives a message to sign in the wallet
    that holds the key (EIP-191 personal_sign, single use, 5 minutes); `signature=` checks it."""
    wallet = _visible_wallet(request, wallet_id)
    context = {"wallet": wallet, "error": "", "challenge": "", "verified": False}
    status = 200
    try:
        if request.POST.get("action") == "challenge":
            context["challenge"] = services.wallet_ownership_challenge(actor=request.user, wallet=wallet)
        else:
            wallet = services.wallet_ownership_verify(actor=request.user, wallet=wallet,
                                                      signature=request.POST.get("signature", "").strip())
            context.update(wallet=wallet, verified=True)
    except DomainError as exc:
        context["error"], status = exc.message, _status(request, exc)
    return render(request, "wallets/_wallet_ownership.html", context, status=status)
