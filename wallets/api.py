"""/api/wallets/, /api/blockchain/, /api/transactions/, /api/exchange-rates/ and /api/portfolio/.

Every object is looked up among those the caller may see (wallets.selectors: their organization's,
and for a plain member only their own), so another organization's id, or a colleague's for a plain
member, is a 404. What they may do with a visible object is checked by the service
(core.permissions): e.g. an accountant sees every wallet but gets 403 when sending from one. No
private key ever appears in a response."""


import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.http import HttpResponse
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate
from pydantic import ConfigDict

from accounts.selectors import user_session_get
from core.jsonapi.auth import BROWSER_SESSION_KEY, api_auth
from core.jsonapi.errors import ApiError
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.types import Amount, FiatAmount, ObjectIdStr
from wallets import imports, services, transfers
from wallets.selectors import (organization_fiat, transaction_get_for, transaction_history_for,
                               transaction_list_for, wallet_list_for)

router = Router(tags=["wallets"])


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class WalletOut(Schema):
    id: ObjectIdStr
    name: str
    address: str
    wallet_type: str
    is_active: bool
    balance: Amount
    has_private_key: bool
    monitoring_enabled: bool
    monitor_from_block: int | None
    last_authenticated: datetime | None
    created_at: datetime
    updated_at: datetime


class WalletIn(StrictSchema):
    name: str = Field(min_length=1, max_length=100)
    wallet_type: str = Field("Private Key", max_length=20, description="Private Key, MetaMask or Hardware")
    address: str = Field("", max_length=42, description="watch-only wallets; optional check for imports")
    private_key: str = Field("", max_length=66, description="import an existing key (Private Key wallets)")


class WalletUpdateIn(StrictSchema):
    name: str | None = Field(None, min_length=1, max_length=100)
    is_active: bool | None = None


class MessageOut(Schema):
    message: str


def _own(request, wallet_id):
    """A wallet the caller may see (404 otherwise)."""
    return get_object_or_404(wallet_list_for(request.user), wallet_id)


@router.get("/", response=list[WalletOut], auth=api_auth,
            summary="List your wallets (every wallet of the organization for managers and accountants)")
@paginate(LimitOffsetNoCount)
def wallet_list(request):
    return wallet_list_for(request.user)


@router.post("/", response={201: WalletOut}, auth=api_auth, summary="Create or import a wallet")
def wallet_create(request, payload: WalletIn):
    return Status(201, services.wallet_create(user=request.user, **payload.dict()))


@router.get("/{oid:wallet_id}/", response=WalletOut, auth=api_auth, summary="Wallet details")
def wallet_detail(request, wallet_id: str):
    return _own(request, wallet_id)


@router.put("/{oid:wallet_id}/", response=WalletOut, auth=api_auth, summary="Rename or (de)activate a wallet")
def wallet_put(request, wallet_id: str, payload: WalletUpdateIn):
    return services.wallet_update(actor=request.user, wallet=_own(request, wallet_id), **payload.dict())


@router.delete("/{oid:wallet_id}/", response=MessageOut, auth=api_auth, summary="Delete a wallet without history")
def wallet_delete(request, wallet_id: str):
    services.wallet_delete(actor=request.user, wallet=_own(request, wallet_id))
    return {"message": "Deleted."}


class TokenBalanceOut(Schema):
    symbol: str
    contract_address: str
    decimals: int
    balance: Amount


class BalanceOut(Schema):
    address: str
    eth: Amount
    tokens: list[TokenBalanceOut]
    as_of: datetime


@router.get("/{oid:wallet_id}/balance/", response=BalanceOut, auth=api_auth,
            summary="ETH and token balances read from the node")
def wallet_balance(request, wallet_id: str):
    return services.wallet_balance_refresh(actor=request.user, wallet=_own(request, wallet_id))


class MonitorIn(StrictSchema):
    from_block: int | None = Field(None, ge=0, description="default: the current block")


@router.post("/{oid:wallet_id}/monitor/", response=WalletOut, auth=api_auth, summary="Enable monitoring")
def wallet_monitor(request, wallet_id: str, payload: MonitorIn = None):
    return services.wallet_monitoring_enable(actor=request.user, wallet=_own(request, wallet_id),
                                             from_block=payload.from_block if payload else None)


class ChallengeOut(Schema):
    message: str


@router.post("/{oid:wallet_id}/challenge/", response=ChallengeOut, auth=api_auth,
             summary="Get a message to sign (EIP-191) proving you control a wallet")
def wallet_challenge(request, wallet_id: str):
    return {"message": services.wallet_ownership_challenge(actor=request.user, wallet=_own(request, wallet_id))}


class SignatureIn(StrictSchema):
    signature: str = Field(min_length=2, max_length=200)


@router.post("/{oid:wallet_id}/verify-ownership/", response=WalletOut, auth=api_auth,
             summary="Prove control of a wallet with the signed challenge")
def wallet_verify_ownership(request, wallet_id: str, payload: SignatureIn):
    return services.wallet_ownership_verify(actor=request.user, wallet=_own(request, wallet_id),
                                            signature=payload.signature)


# --- /api/blockchain/ --------------------------------------------------------------------------------

blockchain_router = Router(tags=["blockchain"])


class SendIn(StrictSchema):
    wallet_id: ObjectIdStr
    to: str = Field(max_length=42)
    amount: Decimal = Field(gt=0, max_digits=34)
    asset: str = Field("ETH", max_length=20, description="ETH or a tracked ERC-20 symbol")


class TransferOut(Schema):
    id: ObjectIdStr
    tx_hash: str
    status: str
    nonce: int
    to_address: str
    amount: Amount
    asset: str
    gas_limit: int
    max_fee_per_gas: Amount
    created_at: datetime


def _current_session(request):
    session = getattr(request, "user_session", None)
    if session is None and hasattr(request, "session"):
        session_id = request.session.get(BROWSER_SESSION_KEY)
        session = user_session_get(session_id=session_id) if session_id else None
    return session


def _transfer_out(transfer):
    return {"id": transfer.pk, "tx_hash": transfer.tx_hash, "status": transfer.status, "nonce": transfer.nonce,
            "to_address": transfer.to_address, "amount": transfer.amount, "asset": transfer.cryptocurrency.symbol,
            "gas_limit": transfer.gas_limit, "max_fee_per_gas": transfer.max_fee_per_gas,
            "created_at": transfer.created_at}


@blockchain_router.post("/send-eth/", response={200: TransferOut, 201: TransferOut}, auth=api_auth,
                        summary="Send ETH or an ERC-20 token (needs an approved session and an Idempotency-Key)")
def send(request, payload: SendIn):
    wallet = _own(request, payload.wallet_id)
    transfer, created = transfers.transfer_send(
        user=request.user, session=_current_session(request), wallet=wallet, to=payload.to, amount=payload.amount,
        asset=payload.asset, idempotency_key=request.headers.get("Idempotency-Key", ""))
    return Status(201 if created else 200, _transfer_out(transfer))


class TxStatusOut(Schema):
    hash: str
    status: str
    confirmations: int
    from_address: str
    to_address: str | None
    value_eth: Amount
    nonce: int
    block_number: int | None
    gas_used: int | None
    effective_gas_price: int | None
    fee_eth: Amount | None


@blockchain_router.get("/transaction/{txhash:tx_hash}/", response=TxStatusOut, auth=api_auth,
                       summary="Transaction details from the node")
def chain_transaction_detail(request, tx_hash: str):
    return transfers.transaction_status(tx_hash=tx_hash)


@blockchain_router.get("/transaction-status/{txhash:tx_hash}/", response=TxStatusOut, auth=api_auth,
                       summary="Pending, confirmed (with confirmations) or failed, and the fee paid")
def chain_transaction_status(request, tx_hash: str):
    return transfers.transaction_status(tx_hash=tx_hash)


class FeeTierOut(Schema):
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    cost_eth: Amount
    cost_fiat: FiatAmount | None


class GasEstimateOut(Schema):
    gas_limit: int
    base_fee_per_gas: int
    fiat_currency: str
    tiers: dict[str, FeeTierOut]


@blockchain_router.get("/estimate-gas/", response=GasEstimateOut, auth=api_auth, summary="Estimate gas and fees")
def estimate_gas(request, from_address: str, to: str, amount: Decimal, asset: str = "ETH"):
    if amount <= 0:
        raise ApiError(422, "invalid_amount", "The amount must be positive.")
    return transfers.gas_estimate(from_address=from_address, to=to, amount=amount, asset=asset,
                                  fiat=organization_fiat(request.user), organization=request.user.organization_id)


class WalletMonitoringIn(StrictSchema):
    wallet_id: ObjectIdStr
    from_block: int | None = Field(None, ge=0)


@blockchain_router.post("/wallet-monitoring/", response=WalletOut, auth=api_auth, summary="Enable wallet monitoring")
def wallet_monitoring(request, payload: WalletMonitoringIn):
    return services.wallet_monitoring_enable(actor=request.user, wallet=_own(request, payload.wallet_id),
                                             from_block=payload.from_block)


# --- /api/transactions/ ------------------------------------------------------------------------------

transactions_router = Router(tags=["transactions"])


class TransactionOut(Schema):
    id: ObjectIdStr
    transaction_type: str
    wallet_id: ObjectIdStr | None
    asset: str
    amount: Amount
    price_at_transaction: FiatAmount | None
    usd_value: FiatAmount | None
    fee: Amount
    transaction_date: datetime
    description: str
    hash: str
    from_address: str
    to_address: str
    status: str
    source: str
    block_number: int | None
    gas_fee: Amount | None
    ai_category: str
    business_purpose: str
    tax_category: str
    is_business_expense: bool | None

    @staticmethod
    def resolve_asset(obj):
        return obj.cryptocurrency.symbol


class TransactionIn(StrictSchema):
    wallet_id: ObjectIdStr
    asset: str = Field(max_length=20)
    transaction_type: Literal["BUY", "SELL", "TRANSFER", "INCOME", "EXPENSE"]
    amount: Decimal = Field(gt=0, max_digits=34)
    transaction_date: datetime
    price_at_transaction: Decimal | None = Field(None, ge=0, max_digits=34)
    fee: Decimal = Field(Decimal(0), ge=0, max_digits=34)
    description: str = Field("", max_length=2000)
    hash: str = Field("", max_length=66)
    from_address: str = Field("", max_length=42)
    to_address: str = Field("", max_length=42)
    business_purpose: str = Field("", max_length=200)
    tax_category: str = Field("", max_length=64)
    is_business_expense: bool | None = None


class TransactionUpdateIn(StrictSchema):
    transaction_type: Literal["BUY", "SELL", "TRANSFER", "INCOME", "EXPENSE"] | None = None
    amount: Decimal | None = Field(None, gt=0, max_digits=34)
    transaction_date: datetime | None = None
    price_at_transaction: Decimal | None = Field(None, ge=0, max_digits=34)
    fee: Decimal | None = Field(None, ge=0, max_digits=34)
    description: str | None = Field(None, max_length=2000)
    business_purpose: str | None = Field(None, max_length=200)
    tax_category: str | None = Field(None, max_length=64)
    is_business_expense: bool | None = None


def _own_tx(request, transaction_id):
    """A transaction the caller may see (404 otherwise: another organization's, or a colleague's
    for a plain member); see wallets.selectors.transaction_get_for."""
    transaction = transaction_get_for(request.user, transaction_id)
    if transaction is None:
        raise ApiError(404, "not_found", "Not found.")
    return transaction


@transactions_router.get("/", response=list[TransactionOut], auth=api_auth, summary="List transactions")
@paginate(LimitOffsetNoCount)
def transaction_list(request, wallet_id: ObjectIdStr | None = None, asset: str | None = None,
                     transaction_type: str | None = None, status: str | None = None, category: str | None = None,
                     date_from: datetime | None = None, date_to: datetime | None = None,
                     ordering: Literal["date", "-date", "amount", "-amount"] = "-date"):
    return transaction_list_for(request.user, wallet_id=wallet_id, asset=asset, transaction_type=transaction_type,
                                status=status, category=category, date_from=date_from, date_to=date_to,
                                ordering=ordering)


@transactions_router.post("/", response={201: TransactionOut}, auth=api_auth, summary="Record a transaction")
def transaction_create(request, payload: TransactionIn):
    data = payload.dict()
    wallet = _own(request, data.pop("wallet_id"))
    return Status(201, services.transaction_create(actor=request.user, wallet=wallet, **data))


class HistoryRowOut(Schema):
    id: ObjectIdStr
    date: datetime
    type: str
    asset: str
    wallet: str
    change: Amount
    balance: Amount
    hash: str


class ImportReportOut(Schema):
    rows_read: int
    created: int
    duplicates_skipped: int
    ignored_fiat_only: int
    assets_created: list[str]


@transactions_router.post("/import/", response=ImportReportOut, auth=api_auth,
                          summary="Import a Koinly universal CSV (all rows or none)")
def transaction_import(request, file: UploadedFile = File(...), wallet_id: ObjectIdStr | None = Form(None)):
    if file.size > 20 * 1024 * 1024:
        raise ApiError(413, "payload_too_large", "The file is larger than 20 MB.")
    try:
        text = file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(422, "invalid_encoding", "The file is not UTF-8 text.") from None
    wallet = _own(request, wallet_id) if wallet_id else None
    return imports.transactions_import_universal(user=request.user, text=text, wallet=wallet)


@transactions_router.get("/export/", auth=api_auth, summary="Export as a Koinly universal CSV")
def transaction_export(request):
    response = HttpResponse(imports.transactions_export_universal(user=request.user), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="transactions-universal.csv"'
    return response


@transactions_router.get("/history/", response=list[HistoryRowOut], auth=api_auth,
                         summary="Movements in date order with the running balance per asset")
@paginate(LimitOffsetNoCount)
def transaction_history(request):
    return transaction_history_for(request.user)


@transactions_router.get("/category/{category}/", response=list[TransactionOut], auth=api_auth,
                         summary="Transactions of a category (AI or tax category)")
@paginate(LimitOffsetNoCount)
def transaction_by_category(request, category: str):
    return transaction_list_for(request.user, category=category[:64])


@transactions_router.get("/{oid:transaction_id}/", response=TransactionOut, auth=api_auth,
                         summary="Transaction details")
def transaction_detail(request, transaction_id: str):
    return _own_tx(request, transaction_id)


@transactions_router.put("/{oid:transaction_id}/", response=TransactionOut, auth=api_auth,
                         summary="Update a transaction (chain rows: business fields only)")
def transaction_put(request, transaction_id: str, payload: TransactionUpdateIn):
    return services.transaction_update(actor=request.user, transaction=_own_tx(request, transaction_id),
                                       **payload.dict(exclude_unset=True))


@transactions_router.delete("/{oid:transaction_id}/", response=MessageOut, auth=api_auth,
                            summary="Delete a manual transaction")
def transaction_delete(request, transaction_id: str):
    services.transaction_delete(actor=request.user, transaction=_own_tx(request, transaction_id))
    return {"message": "Deleted."}


# --- /api/exchange-rates/ ------------------------------------------------------------------------------
exchange_rates_router = Router(tags=["exchange rates"])


class RateOut(Schema):
    asset: str
    fiat: str
    price: FiatAmount
    source: str
    day: date | None
    as_of: datetime


@exchange_rates_router.get("/", response=list[RateOut], auth=api_auth,
                           summary="Current exchange rates (shared market data and your organization's own)")
def exchange_rates(request, fiat: str = "USD"):
    from wallets.models import PriceQuote

    def rank(quote):
        # a latest quote before a daily close; then the newest day; the organization's own on a tie
        if quote.day is None:
            return (1, quote.fetched_at.date(), quote.organization_id is not None, quote.fetched_at)
        return (0, quote.day, quote.organization_id is not None, quote.fetched_at)

    latest = {}
    for quote in PriceQuote.objects.for_actor(request.user).filter(fiat=fiat.upper()):
        if quote.symbol not in latest or rank(quote) > rank(latest[quote.symbol]):
            latest[quote.symbol] = quote
    return [{"asset": q.symbol, "fiat": q.fiat, "price": q.price, "source": q.source, "day": q.day,
             "as_of": q.fetched_at} for _, q in sorted(latest.items())]


class ConvertIn(StrictSchema):
    asset: str = Field(max_length=20)
    amount: Decimal = Field(ge=0, max_digits=34)
    fiat: str = Field("USD", min_length=3, max_length=3)
    date: dt.date | None = None


class ConvertOut(Schema):
    asset: str
    amount: Amount
    fiat: str
    price: FiatAmount
    value: FiatAmount
    day: date | None


@exchange_rates_router.post("/convert/", response=ConvertOut, auth=api_auth, summary="Convert crypto to fiat")
def exchange_convert(request, payload: ConvertIn):
    from wallets.prices import convert

    return convert(symbol=payload.asset, amount=payload.amount, fiat=payload.fiat, day=payload.date,
                   organization=request.user.organization_id)


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


@exchange_rates_router.get("/portfolio-value/", response=PortfolioValueOut, auth=api_auth,
                           summary="Your holdings valued in fiat")
def exchange_portfolio_value(request):
    from wallets.selectors import portfolio_value_for

    return portfolio_value_for(request.user)


class PriceAlertOut(Schema):
    id: ObjectIdStr
    asset: str
    direction: str
    threshold: FiatAmount
    fiat: str
    is_active: bool
    triggered_at: datetime | None
    last_price: FiatAmount | None
    created_at: datetime

    @staticmethod
    def resolve_asset(obj):
        return obj.symbol


class PriceAlertIn(StrictSchema):
    asset: str = Field(min_length=1, max_length=20)
    direction: Literal["above", "below"]
    threshold: Decimal = Field(gt=0, max_digits=34, decimal_places=8)
    fiat: str = Field("USD", min_length=3, max_length=3)


class PriceAlertUpdateIn(StrictSchema):
    asset: str | None = Field(None, min_length=1, max_length=20)
    direction: Literal["above", "below"] | None = None
    threshold: Decimal | None = Field(None, gt=0, max_digits=34, decimal_places=8)
    fiat: str | None = Field(None, min_length=3, max_length=3)
    is_active: bool | None = None
    rearm: bool = Field(False, description="fire again on the next crossing (also implied by a new condition)")


def _own_alert(request, alert_id):
    from wallets.selectors import price_alert_list_for

    return get_object_or_404(price_alert_list_for(request.user), alert_id)


@exchange_rates_router.get("/alerts/", response=list[PriceAlertOut], auth=api_auth, summary="Your price alerts")
@paginate(LimitOffsetNoCount)
def price_alert_list(request):
    from wallets.selectors import price_alert_list_for

    return price_alert_list_for(request.user)


@exchange_rates_router.post("/alerts/", response={201: PriceAlertOut}, auth=api_auth,
                            summary="Be notified once when a price goes above or below a threshold")
def price_alert_create(request, payload: PriceAlertIn):
    return Status(201, services.price_alert_create(user=request.user, symbol=payload.asset,
                                                   direction=payload.direction, threshold=payload.threshold,
                                                   fiat=payload.fiat))


@exchange_rates_router.get("/alerts/{oid:alert_id}/", response=PriceAlertOut, auth=api_auth, summary="A price alert")
def price_alert_detail(request, alert_id: str):
    return _own_alert(request, alert_id)


@exchange_rates_router.put("/alerts/{oid:alert_id}/", response=PriceAlertOut, auth=api_auth,
                           summary="Change or re-arm a price alert")
def price_alert_put(request, alert_id: str, payload: PriceAlertUpdateIn):
    changes = payload.dict(exclude_unset=True)
    if "asset" in changes:
        changes["symbol"] = changes.pop("asset")
    return services.price_alert_update(actor=request.user, alert=_own_alert(request, alert_id), **changes)


@exchange_rates_router.delete("/alerts/{oid:alert_id}/", response=MessageOut, auth=api_auth,
                              summary="Delete a price alert")
def price_alert_delete(request, alert_id: str):
    services.price_alert_delete(actor=request.user, alert=_own_alert(request, alert_id))
    return {"message": "Deleted."}


# --- /api/portfolio/ -------------------------------------------------------------------------------------
portfolio_router = Router(tags=["portfolio"])


class PortfolioPositionOut(Schema):
    asset: str
    quantity: Amount
    average_buy_price: FiatAmount | None
    total_invested: FiatAmount
    current_price: FiatAmount | None
    current_value: FiatAmount | None
    unrealized_gain_loss: FiatAmount | None


def _positions(request):
    from wallets.selectors import portfolio_value_for

    return portfolio_value_for(request.user)["positions"]


@portfolio_router.get("/", response=list[PortfolioPositionOut], auth=api_auth,
                      summary="Balances per asset with average buy price, invested, value and unrealised P&L")
def portfolio(request):
    return _positions(request)


class PortfolioTotalOut(Schema):
    fiat: str
    total_invested: FiatAmount
    total_value: FiatAmount
    unrealized_gain_loss: FiatAmount
    unpriced: list[str]


@portfolio_router.get("/value/", response=PortfolioTotalOut, auth=api_auth, summary="Portfolio value")
def portfolio_value(request):
    from wallets.selectors import portfolio_value_for

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
    from wallets.selectors import portfolio_allocation_for

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
    from wallets.selectors import portfolio_performance_for

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
    from wallets.selectors import portfolio_history_for

    return portfolio_history_for(request.user, start=start, end=end)
