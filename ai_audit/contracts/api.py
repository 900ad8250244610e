"""/api/contracts/: the contract registry, verification, ABI and interaction (thin).

A contract address is unique per network, not globally. Every `{address}` path takes an optional
`?network=<name>` (a configured network: wallets.networks, e.g. ethereum, polygon, bsc): without it
the address must be registered on one network only; registered on several, the answer is 400
`ambiguous_address` with `details.networks` listing them. With it, a contract of another network is
404. The address matches in any letter case.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from accounts.selectors import user_session_get
from ai_audit.contracts import services
from ai_audit.contracts.selectors import contract_get_for, contract_list_for
from core.jsonapi.auth import BROWSER_SESSION_KEY, api_auth
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.schemas import StrictSchema
from core.jsonapi.types import Amount, ObjectIdStr

router = Router(tags=["contracts"])

NETWORK_HELP = "network name (ethereum, polygon, bsc, ...); needed only when the address is on several networks"


class ContractOut(Schema):
    id: ObjectIdStr
    address: str
    network: str
    chain_id: int
    name: str
    contract_type: str
    is_verified: bool
    verification_status: str
    verification_summary: str
    compiler_version: str
    compiled_contract_name: str
    code_hash: str
    creation_tx: str
    creation_block: int | None
    deployer: str
    token_name: str
    token_symbol: str
    token_decimals: int | None
    notes: str
    verified_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ContractIn(StrictSchema):
    address: str = Field(max_length=42)
    network: str = Field("", max_length=40, description="a configured network; empty: the default (ethereum)")
    name: str = Field("", max_length=200, description="empty: the token's name, if it has one")
    contract_type: str = Field("custom", max_length=10, description="erc20, erc721, erc1155 or custom")
    abi: list[dict[str, Any]] | None = Field(None, description="empty: the standard ABI of the type")
    notes: str = Field("", max_length=5000)


class ContractUpdateIn(StrictSchema):
    name: str | None = Field(None, max_length=200)
    contract_type: str | None = Field(None, max_length=10)
    abi: list[dict[str, Any]] | None = None
    notes: str | None = Field(None, max_length=5000)


class VerifyIn(StrictSchema):
    compiler_version: str = Field(max_length=60, description="a supported solc version, e.g. 0.8.37")
    source: str | None = Field(None, description="one Solidity file (or give standard_json)")
    standard_json: dict[str, Any] | None = Field(None, description="a standard-JSON input (sources with content)")
    contract_name: str = Field("", max_length=300, description="the contract to compare (Name or path:Name)")
    optimizer_enabled: bool = False
    optimizer_runs: int = Field(200, ge=0, le=2**32 - 1)
    evm_version: str = Field("", max_length=20)


class AbiOut(Schema):
    address: str
    network: str
    is_verified: bool
    abi: list[dict[str, Any]]


class InteractIn(StrictSchema):
    function: str = Field(max_length=500, description='a name ("balanceOf") or a signature ("transfer(address,uint256)")')
    args: list[Any] | dict[str, Any] | None = Field(None, description="in order (list) or by parameter name (object)")
    wallet_id: ObjectIdStr | None = Field(None, description="write calls: a Private Key wallet of the organization")
    value: Decimal = Field(Decimal(0), ge=0, max_digits=40, description="native coin sent with a payable call")


class ResultOut(Schema):
    name: str
    type: str
    value: Any


class InteractOut(Schema):
    kind: str = Field(description="read or write")
    function: str
    block_number: int | None = None
    results: list[ResultOut] = []
    transfer_id: ObjectIdStr | None = None
    tx_hash: str | None = None
    status: str | None = Field(None, description="write calls: PREPARED, BROADCAST, STUCK, CONFIRMED or FAILED")
    nonce: int | None = None
    value: Amount | None = None


class NetworkQuery(Schema):
    network: str | None = Field(None, max_length=40, description=NETWORK_HELP)


class ListQuery(Schema):
    network: str | None = Field(None, max_length=40)
    contract_type: str | None = Field(None, max_length=10)
    verified: bool | None = None


def _session(request):
    session = getattr(request, "user_session", None)
    if session is None and hasattr(request, "session"):
        session_id = request.session.get(BROWSER_SESSION_KEY)
        session = user_session_get(session_id=session_id) if session_id else None
    return session


@router.get("/", response=list[ContractOut], auth=api_auth, summary="List the organization's contracts")
@paginate(LimitOffsetNoCount)
def contract_list(request, filters: Query[ListQuery]):
    return contract_list_for(request.user, network=filters.network, contract_type=filters.contract_type,
                             verified=filters.verified)


@router.post("/", response={201: ContractOut}, auth=api_auth,
             summary="Register a contract (reads its code, deployment and token metadata from the node)")
def contract_register(request, payload: ContractIn):
    return Status(201, services.contract_register(actor=request.user, **payload.dict()))


@router.get("/{address}/", response=ContractOut, auth=api_auth, summary="A contract (add ?network= when ambiguous)")
def contract_detail(request, address: str, query: Query[NetworkQuery]):
    return contract_get_for(actor=request.user, address=address, network=query.network)


@router.put("/{address}/", response=ContractOut, auth=api_auth, summary="Rename, retype or annotate a contract")
def contract_put(request, address: str, payload: ContractUpdateIn, query: Query[NetworkQuery]):
    contract = contract_get_for(actor=request.user, address=address, network=query.network)
    return services.contract_update(actor=request.user, contract=contract, **payload.dict(exclude_unset=True))


@router.post("/{address}/verify/", response=ContractOut, auth=api_auth,
             summary="Verify the source: compile with solc-js and compare the runtime bytecode")
def contract_verify(request, address: str, payload: VerifyIn, query: Query[NetworkQuery]):
    contract = contract_get_for(actor=request.user, address=address, network=query.network)
    return services.contract_verify(actor=request.user, contract=contract, **payload.dict())


@router.get("/{address}/abi/", response=AbiOut, auth=api_auth, summary="The contract's ABI")
def contract_abi(request, address: str, query: Query[NetworkQuery]):
    return contract_get_for(actor=request.user, address=address, network=query.network)


@router.post("/{address}/interact/", response={200: InteractOut, 201: InteractOut}, auth=api_auth,
             summary="Call a function: reads for any member; writes signed by a wallet (approved session, "
                     "Idempotency-Key)")
def contract_interact(request, address: str, payload: InteractIn, query: Query[NetworkQuery]):
    contract = contract_get_for(actor=request.user, address=address, network=query.network)
    if payload.wallet_id is None:
        read = services.contract_call_read(actor=request.user, contract=contract, function=payload.function,
                                           args=payload.args)
        return {"kind": "read", **read}
    transfer, created = services.contract_call_write(
        actor=request.user, session=_session(request), contract=contract, function=payload.function,
        args=payload.args, wallet_id=payload.wallet_id, value=payload.value,
        idempotency_key=request.headers.get("Idempotency-Key", ""))
    body = {"kind": "write", "function": transfer.call_function, "transfer_id": transfer.pk,
            "tx_hash": transfer.tx_hash, "status": transfer.status, "nonce": transfer.nonce, "value": transfer.amount}
    return Status(201 if created else 200, body)
