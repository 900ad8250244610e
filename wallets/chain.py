"""The Ethereum node client (web3 over JSON-RPC at ETH_RPC_URL, chain id checked)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from eth_account import Account
from web3 import Web3

from core.localstack import ANVIL_DEV_CHAIN_ID, ANVIL_DEV_MNEMONIC

WEI_PER_ETH = Decimal(10) ** 18
RPC_TIMEOUT_SECONDS = 10
RPC_BATCH_SIZE = 100  # calls per JSON-RPC batch request (the monitor's blocks, receipts, transactions)


class ChainError(Exception):
    """The node is unreachable, on the wrong chain, or refused an operation."""


def web3_client() -> Web3:
    w3 = Web3(Web3.HTTPProvider(settings.ETH_RPC_URL, request_kwargs={"timeout": RPC_TIMEOUT_SECONDS}))
    try:
        chain_id = w3.eth.chain_id
    except Exception as exc:
        raise ChainError(f"Ethereum node at {settings.ETH_RPC_URL} is unreachable: {type(exc).__name__}") from None
    if chain_id != settings.ETH_CHAIN_ID:
        raise ChainError(f"Ethereum node answers chain id {chain_id}, expected {settings.ETH_CHAIN_ID}")
    return w3


def batched_calls(w3: Web3, calls: list[Callable[[], Any]], *, size: int = RPC_BATCH_SIZE) -> list:
    """The results of `calls` (each makes one web3 call, e.g. `partial(w3.eth.get_block, n, True)`), in
    order, sent `size` to a JSON-RPC batch request: one round trip instead of `size`. A node or proxy
    that refuses batches (or a batch with one failing call) is asked again one call at a time, so an
    error is the call's own."""
    results: list = []
    for first in range(0, len(calls), size):
        group = calls[first:first + size]
        try:
            with w3.batch_requests() as batch:
                for call in group:
                    batch.add(call())
                answers = batch.execute()
        except Exception:
            answers = None
        if answers is None or len(answers) != len(group):
            answers = [call() for call in group]
        results.extend(answers)
    return results


def wei_to_eth(wei: int) -> Decimal:
    return Decimal(wei) / WEI_PER_ETH


def eth_to_wei(amount: Decimal) -> int:
    wei = Decimal(amount) * WEI_PER_ETH
    if wei != wei.to_integral_value():
        raise ValueError(f"{amount} ETH has more than 18 decimals")
    return int(wei)


def eth_balance(address: str) -> Decimal:
    w3 = web3_client()
    return wei_to_eth(w3.eth.get_balance(Web3.to_checksum_address(address)))


def dev_account(index: int = 0):
    """One of the local dev node's funded accounts (well-known test mnemonic; dev chain only)."""
    if settings.ETH_CHAIN_ID != ANVIL_DEV_CHAIN_ID:
        raise ChainError("dev accounts exist only on the local dev chain (31337)")
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(ANVIL_DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def send_signed(w3: Web3, account, transaction: dict):
    """Sign with `account`, broadcast, wait for the receipt; a revert is a ChainError."""
    signed = account.sign_transaction(transaction)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    if receipt["status"] != 1:
        raise ChainError(f"transaction {tx_hash.to_0x_hex()} reverted")
    return receipt


def eth_send_from_dev_account(*, to: str, amount_wei: int, account_index: int = 0) -> str:
    """Send ETH from one of the local dev node's funded accounts (demo data and tests only).
    Refuses on any chain but the local dev chain. Returns the transaction hash once mined."""
    w3 = web3_client()
    sender = dev_account(account_index)
    transaction = {
        "to": Web3.to_checksum_address(to),
        "value": amount_wei,
        "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "chainId": settings.ETH_CHAIN_ID,
        "gas": 21000,
        "maxFeePerGas": w3.eth.gas_price * 2,
        "maxPriorityFeePerGas": w3.to_wei(1, "gwei"),
        "type": 2,
    }
    return send_signed(w3, sender, transaction)["transactionHash"].to_0x_hex()
