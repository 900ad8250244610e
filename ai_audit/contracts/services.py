"""Writes and calls of the contract registry: register, edit, verify, read calls, write calls.

- `contract_register(*, actor, address, network, name, contract_type, abi)`: reads the runtime code
  from the network's node (no code: refused), the deployment (tx, block, deployer) where the node
  tells, and name/symbol/decimals for ERC-20 (name/symbol for ERC-721); the ABI is the one given or
  the standard one of the type.
- `contract_verify(*, actor, contract, compiler_version, source | standard_json, contract_name, ...)`:
  compiles with solc-js (ai_audit.contracts.solc) and compares the runtime bytecode with the stored
  on-chain code ignoring the metadata hash and immutable slots (ai_audit.contracts.bytecode).
  A match sets `is_verified`, the compiler's ABI and the standard-JSON input; a mismatch records the
  diff summary and raises InvalidInput(bytecode_mismatch) (an earlier successful verification stays).
- `contract_call_read(...)`: a view/pure function, for any member; results decoded.
- `contract_call_write(...)`: a state-changing function signed by one of the organization's
  Private Key wallets through wallets.transfers.contract_call_send (approved session, Idempotency-Key,
  the signed transaction stored before broadcast).
Arguments are checked against the ABI (ai_audit.contracts.abi_args): a bad one is InvalidInput
(invalid_argument) whose details name it.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError
from django.utils import timezone
from web3 import Web3

from ai_audit.contracts import abi_args, bytecode, onchain, solc
from ai_audit.contracts.standard_abis import standard_abi
from ai_audit.models import Contract, ContractType, VerificationStatus
from core import permissions
from core.errors import Conflict, ErrorCode, InvalidInput, NotFound
from wallets import networks, transfers
from wallets.addresses import address_normalise
from wallets.models import Wallet

MAX_SOURCE_CHARS = 2_000_000
EVM_VERSIONS = ("", "paris", "shanghai", "cancun", "prague", "london", "berlin", "istanbul")


def _require_manager(actor) -> None:
    permissions.require(permissions.can_manage_contracts(actor),
                        "Only a manager or admin of the organization registers and verifies contracts.")


def _checked_abi(abi) -> list:
    try:
        return abi_args.abi_check(abi)
    except abi_args.AbiError as error:
        raise InvalidInput(ErrorCode.INVALID_ABI, str(error), {"field": "abi"}) from None


def contract_register(*, actor, address: str, network: str | None = None, name: str = "",
                      contract_type: str = ContractType.CUSTOM, abi: list | None = None, notes: str = "") -> Contract:
    _require_manager(actor)
    net = networks.network_get(network)
    address = address_normalise(address)
    if contract_type not in ContractType.values:
        raise InvalidInput(ErrorCode.INVALID_KIND, f"contract_type must be one of {', '.join(ContractType.values)}.",
                           {"field": "contract_type"})
    abi = _checked_abi(abi) if abi else standard_abi(contract_type)
    existing = Contract.objects.for_actor(actor).filter(network=net.name, address=address)
    if existing.exists():
        raise Conflict(ErrorCode.CONTRACT_EXISTS, f"This contract is already registered on {net.name}.",
                       {"address": address, "network": net.name})
    w3 = networks.web3_for(net)
    code = onchain.runtime_code(w3, address)
    if not code:
        raise InvalidInput(ErrorCode.CONTRACT_NOT_DEPLOYED, f"There is no contract code at {address} on {net.name}.",
                           {"field": "address", "network": net.name})
    deployment = onchain.find_deployment(w3, address)
    metadata = {}
    if contract_type in (ContractType.ERC20, ContractType.ERC721):
        metadata = onchain.token_metadata(w3, address, with_decimals=contract_type == ContractType.ERC20)
    contract = Contract(
        organization_id=actor.organization_id, address=address, network=net.name, chain_id=net.chain_id,
        name=(name or "").strip()[:200] or metadata.get("token_name") or f"Contract {address[:10]}",
        contract_type=contract_type, abi=abi, runtime_bytecode="0x" + code.hex(),
        code_hash=Web3.keccak(code).to_0x_hex(), creation_tx=deployment.tx_hash, creation_block=deployment.block,
        deployer=deployment.deployer, notes=(notes or "")[:5000], created_by=actor, **metadata,
    )
    try:
        contract.save()
    except IntegrityError:
        raise Conflict(ErrorCode.CONTRACT_EXISTS, f"This contract is already registered on {net.name}.",
                       {"address": address, "network": net.name}) from None
    return contract


def contract_update(*, actor, contract: Contract, name: str | None = None, contract_type: str | None = None,
                    abi: list | None = None, notes: str | None = None) -> Contract:
    """Change the name, type, notes or (for an unverified contract) the ABI."""
    _require_manager(actor)
    permissions.require_own(actor, contract)
    if name is not None:
        if not name.strip():
            raise InvalidInput(ErrorCode.VALIDATION_ERROR, "The name cannot be empty.", {"field": "name"})
        contract.name = name.strip()[:200]
    if contract_type is not None:
        if contract_type not in ContractType.values:
            raise InvalidInput(ErrorCode.INVALID_KIND, f"contract_type must be one of {', '.join(ContractType.values)}.",
                               {"field": "contract_type"})
        contract.contract_type = contract_type
    if abi is not None:
        if contract.is_verified:
            raise Conflict(ErrorCode.IMMUTABLE_FIELDS, "A verified contract's ABI is the compiler's; it cannot be edited.",
                           {"field": "abi"})
        contract.abi = _checked_abi(abi)
    if notes is not None:
        contract.notes = notes[:5000]
    contract.save()
    return contract


# --- verification ---------------------------------------------------------------------------------------
OUTPUT_SELECTION = {"*": {"*": ["abi", "evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"]}}


def standard_input_build(*, source: str | None, standard_json: dict | None, file_name: str = "Contract.sol",
                         optimizer_enabled: bool = False, optimizer_runs: int = 200, evm_version: str = "") -> dict:
    """The standard-JSON input to compile: the caller's (its settings kept, our output selection) or one
    made of a single source file and the optimizer/EVM settings."""
    if (source is None) == (standard_json is None):
        raise InvalidInput(ErrorCode.INVALID_SOURCE, "Give either `source` (one Solidity file) or `standard_json`.",
                           {"field": "source"})
    if standard_json is not None:
        if (not isinstance(standard_json, dict) or standard_json.get("language", "Solidity") != "Solidity"
                or not isinstance(standard_json.get("sources"), dict) or not standard_json["sources"]):
            raise InvalidInput(ErrorCode.INVALID_SOURCE, "standard_json must be a Solidity standard-JSON input with sources.",
                               {"field": "standard_json"})
        for path, entry in standard_json["sources"].items():
            if not isinstance(entry, dict) or not isinstance(entry.get("content"), str):
                raise InvalidInput(ErrorCode.INVALID_SOURCE, f"Source {path!r} must carry its `content` (no urls).",
                                   {"field": "standard_json"})
        standard = copy.deepcopy(standard_json)
        standard["language"] = "Solidity"
    else:
        if not source.strip() or len(source) > MAX_SOURCE_CHARS:
            raise InvalidInput(ErrorCode.INVALID_SOURCE, "The source is empty or too large.", {"field": "source"})
        if evm_version not in EVM_VERSIONS:
            raise InvalidInput(ErrorCode.INVALID_SOURCE, f"evm_version must be one of {', '.join(filter(None, EVM_VERSIONS))}.",
                               {"field": "evm_version"})
        settings = {"optimizer": {"enabled": bool(optimizer_enabled), "runs": int(optimizer_runs)}}
        if evm_version:
            settings["evmVersion"] = evm_version
        standard = {"language": "Solidity", "sources": {file_name: {"content": source}}, "settings": settings}
    standard.setdefault("settings", {})["outputSelection"] = OUTPUT_SELECTION
    return standard


def contract_verify(*, actor, contract: Contract, compiler_version: str, source: str | None = None,
                    standard_json: dict | None = None, contract_name: str = "", optimizer_enabled: bool = False,
                    optimizer_runs: int = 200, evm_version: str = "") -> Contract:
    _require_manager(actor)
    permissions.require_own(actor, contract)
    version = solc.normalize_version(compiler_version)
    declared = re.search(r"\bcontract\s+([A-Za-z_]\w*)", source or "")
    file_name = f"{contract_name.split(':')[-1] or (declared.group(1) if declared else 'Contract')}.sol"
    standard = standard_input_build(source=source, standard_json=standard_json, file_name=file_name,
                                    optimizer_enabled=optimizer_enabled, optimizer_runs=optimizer_runs,
                                    evm_version=evm_version)
    output = solc.compile_standard_json(standard, version=version)
    candidates = []
    for path, compiled in (output.get("contracts") or {}).items():
        for name, artefact in compiled.items():
            deployed = (artefact.get("evm") or {}).get("deployedBytecode") or {}
            if not deployed.get("object"):
                continue  # an interface or abstract contract
            if contract_name and contract_name not in (name, f"{path}:{name}"):
                continue
            candidates.append((f"{path}:{name}", artefact, deployed))
    if not candidates:
        raise InvalidInput(ErrorCode.INVALID_SOURCE,
                           f"The source has no deployable contract{' named ' + contract_name if contract_name else ''}.",
                           {"field": "contract_name"})
    onchain_code = bytecode.hex_to_bytes(contract.runtime_bytecode)
    best = None
    for qualified, artefact, deployed in candidates:
        try:
            compiled_code = bytecode.hex_to_bytes(deployed["object"])
        except ValueError:  # unlinked library placeholders
            continue
        comparison = bytecode.compare_runtime(onchain=onchain_code, compiled=compiled_code,
                                              immutable_references=deployed.get("immutableReferences"))
        key = (not comparison.matches, comparison.differing_bytes)
        if best is None or key < best[0]:
            best = (key, qualified, artefact, comparison)
    if best is None:
        raise InvalidInput(ErrorCode.INVALID_SOURCE, "The source's contracts need library linking, which is not supported.",
                           {"field": "source"})
    _, qualified, artefact, comparison = best
    details = {**comparison.as_dict(), **comparison.details, "compiled_contract": qualified,
               "compiler_version": version, "candidates": [c[0] for c in candidates][:20]}
    if comparison.matches:
        contract.is_verified = True
        contract.verification_status = VerificationStatus.VERIFIED
        contract.verification_summary = comparison.summary
        contract.verification_details = details
        contract.verified_at = timezone.now()
        contract.source_standard_json = standard
        contract.compiler_version = version
        contract.compiled_contract_name = qualified
        contract.abi = artefact.get("abi") or contract.abi
        contract.save()
        return contract
    if not contract.is_verified:  # a failed attempt never undoes a successful verification
        Contract.objects.filter(pk=contract.pk, is_verified=False).update(
            verification_status=VerificationStatus.MISMATCH, verification_summary=comparison.summary,
            verification_details=details, updated_at=timezone.now())
    raise InvalidInput(ErrorCode.BYTECODE_MISMATCH, comparison.summary, details)


# --- calls ----------------------------------------------------------------------------------------------
def _function_and_args(contract: Contract, function: str, args) -> tuple[dict, list]:
    try:
        entry = abi_args.function_find(contract.abi or [], function)
        if entry is None:
            raise InvalidInput(ErrorCode.UNKNOWN_FUNCTION, f"The contract's ABI has no function {function!r}.",
                               {"field": "function", "argument": "function"})
        return entry, abi_args.arguments_coerce(entry, args)
    except abi_args.ArgumentError as error:
        raise InvalidInput(ErrorCode.INVALID_ARGUMENT, error.message,
                           {"field": f"args.{error.argument}", "argument": error.argument}) from None


def _bound_call(w3: Web3, contract: Contract, entry: dict, values: list):
    web3_contract = w3.eth.contract(address=contract.address, abi=[entry])
    return web3_contract.get_function_by_signature(abi_args.signature(entry))(*values)


def contract_call_read(*, actor, contract: Contract, function: str, args=None) -> dict:
    """Run a view/pure function on the node (latest block); {function, results: [{name, type, value}]}."""
    permissions.require(permissions.can_view_contracts(actor), "Only members of an organization call its contracts.")
    permissions.require_own(actor, contract)
    entry, values = _function_and_args(contract, function, args)
    if not abi_args.is_read(entry):
        raise InvalidInput(ErrorCode.UNKNOWN_FUNCTION,
                           f"{abi_args.signature(entry)} changes state: send it as a write call (with a wallet).",
                           {"field": "function", "argument": "function"})
    w3 = networks.web3_for(contract.network)
    try:
        raw = _bound_call(w3, contract, entry, values).call()
    except Exception as exc:
        raise InvalidInput(ErrorCode.CALL_REVERTED, "The call failed on the node.", {"reason": str(exc)[:300]}) from None
    return {"function": abi_args.signature(entry), "block_number": w3.eth.block_number,
            "results": abi_args.result_decode(entry.get("outputs", []), raw)}


def contract_call_write(*, actor, session, contract: Contract, function: str, args=None, wallet_id=None,
                        value: Decimal | str | int = 0, idempotency_key: str = ""):
    """Sign and broadcast a state-changing call from one of the organization's Private Key wallets.
    Returns (transfer, created) from wallets.transfers.contract_call_send."""
    permissions.require(permissions.can_view_contracts(actor), "Only members of an organization call its contracts.")
    permissions.require_own(actor, contract)
    entry, values = _function_and_args(contract, function, args)
    if abi_args.is_read(entry):
        raise InvalidInput(ErrorCode.UNKNOWN_FUNCTION, f"{abi_args.signature(entry)} is a read: call it without a wallet.",
                           {"field": "function", "argument": "function"})
    try:
        amount = Decimal(str(value or 0))
    except InvalidOperation:
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, "value must be a number.", {"field": "value"}) from None
    if amount < 0 or amount != amount.quantize(Decimal(1).scaleb(-18)):
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, "value must be positive with at most 18 decimals.", {"field": "value"})
    if amount and not abi_args.is_payable(entry):
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, f"{abi_args.signature(entry)} is not payable: send no value.",
                           {"field": "value"})
    if not wallet_id:
        raise InvalidInput(ErrorCode.UNKNOWN_WALLET, "A write call needs wallet_id (a Private Key wallet).",
                           {"field": "wallet_id"})
    wallet = Wallet.objects.for_actor(actor).filter(pk=wallet_id).first()
    if wallet is None:
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    net = networks.network_get(contract.network)
    w3 = networks.web3_for(net)
    data = bytes.fromhex(_bound_call(w3, contract, entry, values)._encode_transaction_data().removeprefix("0x"))
    return transfers.contract_call_send(
        user=actor, session=session, wallet=wallet, network=net, to=contract.address, data=data,
        value_wei=int(amount.scaleb(18)), function=abi_args.signature(entry), idempotency_key=idempotency_key)
