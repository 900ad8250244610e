"""/api/wallets/: the user's wallets (owner-scoped), balances read from the chain, monitoring, and
the EIP-191 ownership proof of watch-only wallets. No private key ever appears in a response."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from core.jsonapi.auth import api_auth
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.types import ObjectIdStr
from wallets import services
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
