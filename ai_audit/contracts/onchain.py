"""What the node tells about a contract: its runtime code, its deployment, its token metadata."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from web3 import Web3

from ai_audit.contracts.standard_abis import ERC20

logger = logging.getLogger(__name__)

MAX_CODE_PROBES = 64  # binary search over eth_getCode: 2^64 blocks is plenty


@dataclass
class Deployment:
    tx_hash: str = ""
    block: int | None = None
    deployer: str = ""
    method: str = ""  # how it was found: "ots_getContractCreator", "code search", or "" (unknown)


def runtime_code(w3: Web3, address: str) -> bytes:
    return bytes(w3.eth.get_code(Web3.to_checksum_address(address)))


def find_deployment(w3: Web3, address: str) -> Deployment:
    """The deployment transaction, block and deployer, where the node allows: Otterscan's
    `ots_getContractCreator` (anvil, erigon, reth), else a binary search for the first block with
    code (needs an archive node), then the transaction of that block whose receipt created it.
    A contract made by another contract (a factory) gives the block and, as deployer, the account
    that sent the factory call."""
    address = Web3.to_checksum_address(address)
    try:
        answer = w3.provider.make_request("ots_getContractCreator", [address])
        result = answer.get("result") if isinstance(answer, dict) else None
        if result and result.get("hash"):
            receipt = w3.eth.get_transaction_receipt(result["hash"])
            return Deployment(tx_hash=result["hash"], block=receipt["blockNumber"],
                              deployer=Web3.to_checksum_address(result.get("creator") or receipt["from"]),
                              method="ots_getContractCreator")
    except Exception as exc:  # the node lacks the method: fall back
        logger.debug("ots_getContractCreator unavailable: %s", exc)
    try:
        block = _first_block_with_code(w3, address)
        if block is None:
            return Deployment()
        for tx in w3.eth.get_block(block, full_transactions=True)["transactions"]:
            receipt = w3.eth.get_transaction_receipt(tx["hash"])
            if receipt.get("contractAddress") == address:
                return Deployment(tx_hash=tx["hash"].to_0x_hex(), block=block, deployer=tx["from"], method="code search")
        return Deployment(block=block, method="code search")
    except Exception as exc:  # not an archive node: the deployment stays unknown
        logger.info("deployment of %s not found: %s", address, exc)
        return Deployment()


def _first_block_with_code(w3: Web3, address: str) -> int | None:
    high = w3.eth.block_number
    if not w3.eth.get_code(address, high):
        return None
    low = 0
    for _ in range(MAX_CODE_PROBES):
        if low >= high:
            break
        middle = (low + high) // 2
        if w3.eth.get_code(address, middle):
            high = middle
        else:
            low = middle + 1
    return high


def token_metadata(w3: Web3, address: str, *, with_decimals: bool) -> dict:
    """name/symbol (and decimals) of an ERC-20 or ERC-721; a function that does not answer gives ""/None."""
    contract = w3.eth.contract(address=Web3.to_checksum_address(address), abi=ERC20)
    metadata = {"token_name": "", "token_symbol": "", "token_decimals": None}
    for field, function in (("token_name", "name"), ("token_symbol", "symbol")):
        try:
            metadata[field] = str(getattr(contract.functions, function)().call())[:200]
        except Exception:
            pass
    if with_decimals:
        try:
            metadata["token_decimals"] = int(contract.functions.decimals().call())
        except Exception:
            pass
    return metadata
