"""/api/wallets/: a member's wallets (every wallet of the organization for managers and
accountants), their balances from the node, monitoring, proof of ownership, and the fee bump of a
stuck send (`POST /transfers/{transfer}/fee-bump/`: not in the specification, added by
issue 11 beside `manage.py transfer_fee_bump`).

Every object is looked up among those the caller may see (wallets.selectors: their organization's,
and for a plain member only their own), so another organization's id, or a colleague's for a plain
member, is a 404. What they may do with a visible object is checked by the service
(core.permissions): e.g. an accountant sees every wallet but gets 403 when sending from one. No
private key ever appears in a response."""

from datetime import datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from core.jsonapi.auth import api_auth
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.schemas import MessageOut, StrictSchema
from core.jsonapi.types import Amount, ObjectIdStr
from wallets import services
from wallets.models import OutgoingTransfer, WalletType
from wallets.selectors import wallet_list_for

router = Router(tags=["wallets"])


def visible_wallet(request, wallet_id):
    """A wallet the caller may see (404 otherwise)."""
    return get_object_or_404(wallet_list_for(request.user), wallet_id)


class WalletOut(Schema):
    id: ObjectIdStr
    name: str
    address: str
    network: str = Field(description="the network it is on (wallets.networks: ethereum, polygon, bsc as configured)")
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
    wallet_type: str = Field(WalletType.PRIVATE_KEY.value, max_length=20,
                             description="Private Key, MetaMask or Hardware")
    address: str = Field("", max_length=42, description="watch-only wallets; optional check for imports")
    private_key: str = Field("", max_length=66, description="import an existing key (Private Key wallets)")
    network: str = Field("", max_length=40, description="a configured network (ethereum, polygon, bsc, ...); "
                         "empty: the default one. Unknown: 422 unknown_network")


class WalletUpdateIn(StrictSchema):
    name: str | None = Field(None, min_length=1, max_length=100)
    is_active: bool | None = None


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
    return visible_wallet(request, wallet_id)


@router.put("/{oid:wallet_id}/", response=WalletOut, auth=api_auth, summary="Rename or (de)activate a wallet")
def wallet_put(request, wallet_id: str, payload: WalletUpdateIn):
    return services.wallet_update(actor=request.user, wallet=visible_wallet(request, wallet_id), **payload.dict())


@router.delete("/{oid:wallet_id}/", response=MessageOut, auth=api_auth, summary="Delete a wallet without history")
def wallet_delete(request, wallet_id: str):
    services.wallet_delete(actor=request.user, wallet=visible_wallet(request, wallet_id))
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
    return services.wallet_balance_refresh(actor=request.user, wallet=visible_wallet(request, wallet_id))


class MonitorIn(StrictSchema):
    from_block: int | None = Field(None, ge=0, description="default: the current block")


@router.post("/{oid:wallet_id}/monitor/", response=WalletOut, auth=api_auth, summary="Enable monitoring")
def wallet_monitor(request, wallet_id: str, payload: MonitorIn = None):
    return services.wallet_monitoring_enable(actor=request.user, wallet=visible_wallet(request, wallet_id),
                                             from_block=payload.from_block if payload else None)


@router.post("/{oid:wallet_id}/challenge/", response=MessageOut, auth=api_auth,
             summary="Get a message to sign (EIP-191) proving you control a wallet")
def wallet_challenge(request, wallet_id: str):
    return {"message": services.wallet_ownership_challenge(actor=request.user,
                                                           wallet=visible_wallet(request, wallet_id))}


class SignatureIn(StrictSchema):
    signature: str = Field(min_length=2, max_length=200)


@router.post("/{oid:wallet_id}/verify-ownership/", response=WalletOut, auth=api_auth,
             summary="Prove control of a wallet with the signed challenge")
def wallet_verify_ownership(request, wallet_id: str, payload: SignatureIn):
    return services.wallet_ownership_verify(actor=request.user, wallet=visible_wallet(request, wallet_id),
                                            signature=payload.signature)


class FeeBumpOut(Schema):
    id: ObjectIdStr
    tx_hash: str = Field(description="the new signature's hash (the same payment and nonce)")
    replaced_hashes: list[str] = Field(description="earlier signatures of this send; at most one is ever mined")
    status: str
    nonce: int
    max_fee_per_gas: Amount
    max_priority_fee_per_gas: Amount


@router.post("/transfers/{oid:transfer_id}/fee-bump/", response=FeeBumpOut, auth=api_auth,
             summary="Raise the fee of an open (BROADCAST or STUCK) send: the same payment and nonce re-signed")
def transfer_fee_bump(request, transfer_id: str):
    """A send of a wallet the caller may see (404 otherwise); the wallet's owner or a manager may
    bump it (403 otherwise); a send a block already holds, or a settled one, is a 409."""
    transfer = get_object_or_404(OutgoingTransfer.objects.for_actor(request.user), transfer_id)
    visible_wallet(request, transfer.wallet_id)
    return services.transfer_fee_bump_request(actor=request.user, transfer=transfer)
