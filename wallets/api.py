"""/api/wallets/ and /api/blockchain/. Wallets: the user's wallets (owner-scoped), balances read from the chain, monitoring, and
the EIP-191 ownership proof of watch-only wallets. No private key ever appears in a response."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from accounts.selectors import user_session_get
from core.jsonapi.auth import BROWSER_SESSION_KEY, api_auth
from core.jsonapi.errors import ApiError
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.types import ObjectIdStr
from wallets import services, transfers
from wallets.selectors import wallet_list_for

router = Router(tags=["wallets"])


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class WalletOut(Schema):
    id: ObjectIdStr
    name: str
    address: str
    wallet_type: str
    is_active: bool
    balance: Decimal
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
    return get_object_or_404(wallet_list_for(request.user), wallet_id)


@router.get("/", response=list[WalletOut], auth=api_auth, summary="List your wallets")
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
    return services.wallet_update(wallet=_own(request, wallet_id), **payload.dict())


@router.delete("/{oid:wallet_id}/", response=MessageOut, auth=api_auth, summary="Delete a wallet without history")
def wallet_delete(request, wallet_id: str):
    services.wallet_delete(wallet=_own(request, wallet_id))
    return {"message": "Deleted."}


class TokenBalanceOut(Schema):
    symbol: str
    contract_address: str
    decimals: int
    balance: Decimal


class BalanceOut(Schema):
    address: str
    eth: Decimal
    tokens: list[TokenBalanceOut]
    as_of: datetime


@router.get("/{oid:wallet_id}/balance/", response=BalanceOut, auth=api_auth,
            summary="ETH and token balances read from the node")
def wallet_balance(request, wallet_id: str):
    return services.wallet_balance_refresh(wallet=_own(request, wallet_id))


class MonitorIn(StrictSchema):
    from_block: int | None = Field(None, ge=0, description="default: the current block")


@router.post("/{oid:wallet_id}/monitor/", response=WalletOut, auth=api_auth, summary="Enable monitoring")
def wallet_monitor(request, wallet_id: str, payload: MonitorIn = None):
    return services.wallet_monitoring_enable(wallet=_own(request, wallet_id),
                                             from_block=payload.from_block if payload else None)


class ChallengeOut(Schema):
    message: str


@router.post("/{oid:wallet_id}/challenge/", response=ChallengeOut, auth=api_auth,
             summary="Get a message to sign (EIP-191) proving you control a wallet")
def wallet_challenge(request, wallet_id: str):
    return {"message": services.wallet_ownership_challenge(wallet=_own(request, wallet_id))}


class SignatureIn(StrictSchema):
    signature: str = Field(min_length=2, max_length=200)


@router.post("/{oid:wallet_id}/verify-ownership/", response=WalletOut, auth=api_auth,
             summary="Prove control of a wallet with the signed challenge")
def wallet_verify_ownership(request, wallet_id: str, payload: SignatureIn):
    return services.wallet_ownership_verify(wallet=_own(request, wallet_id), signature=payload.signature)


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
    amount: Decimal
    asset: str
    gas_limit: int
    max_fee_per_gas: Decimal
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
    value_eth: Decimal
    nonce: int
    block_number: int | None
    gas_used: int | None
    effective_gas_price: int | None
    fee_eth: Decimal | None


@blockchain_router.get("/transaction/{txhash:tx_hash}/", response=TxStatusOut, auth=api_auth,
                       summary="Transaction details from the node")
def transaction_detail(request, tx_hash: str):
    return transfers.transaction_status(tx_hash=tx_hash)


@blockchain_router.get("/transaction-status/{txhash:tx_hash}/", response=TxStatusOut, auth=api_auth,
                       summary="Pending, confirmed (with confirmations) or failed, and the fee paid")
def transaction_status(request, tx_hash: str):
    return transfers.transaction_status(tx_hash=tx_hash)


class FeeTierOut(Schema):
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    cost_eth: Decimal
    cost_fiat: Decimal | None


class GasEstimateOut(Schema):
    gas_limit: int
    base_fee_per_gas: int
    fiat_currency: str
    tiers: dict[str, FeeTierOut]


@blockchain_router.get("/estimate-gas/", response=GasEstimateOut, auth=api_auth, summary="Estimate gas and fees")
def estimate_gas(request, from_address: str, to: str, amount: Decimal, asset: str = "ETH"):
    if amount <= 0:
        raise ApiError(422, "invalid_amount", "The amount must be positive.")
    return transfers.gas_estimate(from_address=from_address, to=to, amount=amount, asset=asset)


class WalletMonitoringIn(StrictSchema):
    wallet_id: ObjectIdStr
    from_block: int | None = Field(None, ge=0)


@blockchain_router.post("/wallet-monitoring/", response=WalletOut, auth=api_auth, summary="Enable wallet monitoring")
def wallet_monitoring(request, payload: WalletMonitoringIn):
    return services.wallet_monitoring_enable(wallet=_own(request, payload.wallet_id), from_block=payload.from_block)
