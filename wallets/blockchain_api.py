"""/api/blockchain/: sends (ETH and ERC-20, exactly once), transaction status and gas estimates
read from the node, and switching on wallet monitoring."""

from datetime import datetime
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from accounts.selectors import user_session_get
from core.errors import ErrorCode, InvalidInput
from core.jsonapi.auth import BROWSER_SESSION_KEY, api_auth
from core.jsonapi.schemas import StrictSchema
from core.jsonapi.types import Amount, FiatAmount, ObjectIdStr
from wallets import services, transfers
from wallets.selectors import organization_fiat
from wallets.wallet_api import WalletOut, visible_wallet

blockchain_router = Router(tags=["blockchain"])


class SendIn(StrictSchema):
    wallet_id: ObjectIdStr
    to: str = Field(max_length=42)
    amount: Decimal = Field(gt=0, max_digits=34)
    asset: str = Field("ETH", max_length=20, description="ETH or a tracked ERC-20 symbol")
    fee_tier: str = Field("normal", max_length=20, description="slow, normal or fast (the tiers of "
                          "/estimate-gas/): the tip the send is signed with. Not part of the request's "
                          "identity: a repeat with the same Idempotency-Key returns the stored transfer")


class TransferOut(Schema):
    id: ObjectIdStr
    tx_hash: str
    status: str = Field(description="PREPARED (stored, the node does not have it yet: retry with the same key), "
                                    "BROADCAST, STUCK (see `error` for the way out), CONFIRMED or FAILED")
    error: str
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
    return {"id": transfer.pk, "tx_hash": transfer.tx_hash, "status": transfer.status, "error": transfer.error,
            "nonce": transfer.nonce,
            "to_address": transfer.to_address, "amount": transfer.amount, "asset": transfer.cryptocurrency.symbol,
            "gas_limit": transfer.gas_limit, "max_fee_per_gas": transfer.max_fee_per_gas,
            "created_at": transfer.created_at}


@blockchain_router.post("/send-eth/", response={200: TransferOut, 201: TransferOut}, auth=api_auth,
                        summary="Send ETH or an ERC-20 token (needs an approved session and an Idempotency-Key)")
def send(request, payload: SendIn):
    wallet = visible_wallet(request, payload.wallet_id)
    transfer, created = transfers.transfer_send(
        user=request.user, session=_current_session(request), wallet=wallet, to=payload.to, amount=payload.amount,
        asset=payload.asset, idempotency_key=request.headers.get("Idempotency-Key", ""), fee_tier=payload.fee_tier)
    return Status(201 if created else 200, _transfer_out(transfer))


NETWORK_HELP = "which network's node to ask (ethereum, polygon, bsc, ...; default: the default network)"


class TxStatusOut(Schema):
    hash: str
    status: str = Field(description="pending until `required_confirmations` blocks hold it, then confirmed, "
                                    "or failed if it reverted (the stored row says the same)")
    confirmations: int
    required_confirmations: int
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
def chain_transaction_detail(request, tx_hash: str, network: str | None = Query(None, max_length=40, description=NETWORK_HELP)):
    return transfers.transaction_status(tx_hash=tx_hash, network=network)


@blockchain_router.get("/transaction-status/{txhash:tx_hash}/", response=TxStatusOut, auth=api_auth,
                       summary="Pending, confirmed (with confirmations) or failed, and the fee paid")
def chain_transaction_status(request, tx_hash: str, network: str | None = Query(None, max_length=40, description=NETWORK_HELP)):
    return transfers.transaction_status(tx_hash=tx_hash, network=network)


class FeeTierOut(Schema):
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    cost_eth: Amount
    cost_fiat: FiatAmount | None
    expected_wait_blocks: int | None = Field(description="blocks until inclusion at this tip; null: none of the "
                                                         "recent blocks took a tip this low")
    expected_wait_seconds: float | None


class GasEstimateOut(Schema):
    gas_limit: int
    base_fee_per_gas: int
    block_seconds: float
    fiat_currency: str
    tiers: dict[str, FeeTierOut]


@blockchain_router.get("/estimate-gas/", response=GasEstimateOut, auth=api_auth, summary="Estimate gas and fee tiers (eth_feeHistory percentiles 10/50/90, with the expected wait)")
def estimate_gas(request, from_address: str, to: str, amount: Decimal, asset: str = "ETH",
                 network: str | None = Query(None, max_length=40, description=NETWORK_HELP)):
    if amount <= 0:
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, "The amount must be positive.")
    return transfers.gas_estimate(from_address=from_address, to=to, amount=amount, asset=asset,
                                  fiat=organization_fiat(request.user), organization=request.user.organization_id,
                                  network=network)


class WalletMonitoringIn(StrictSchema):
    wallet_id: ObjectIdStr
    from_block: int | None = Field(None, ge=0)


@blockchain_router.post("/wallet-monitoring/", response=WalletOut, auth=api_auth, summary="Enable wallet monitoring")
def wallet_monitoring(request, payload: WalletMonitoringIn):
    return services.wallet_monitoring_enable(actor=request.user, wallet=visible_wallet(request, payload.wallet_id),
                                             from_block=payload.from_block)
