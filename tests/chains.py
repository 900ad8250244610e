"""The suite's helpers for the anvil nodes: dev accounts of the well-known mnemonic (funded on every
anvil), funding, mining. The nodes themselves are fixtures (tests/conftest.py: eth_node, extra_chains)."""

from decimal import Decimal

from eth_account import Account
from web3 import Web3

from core import localstack


def w3_of(url: str) -> Web3:
    return Web3(Web3.HTTPProvider(url))


def dev_account(index: int = 0):
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(localstack.ANVIL_DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def fund(url: str, to: str, amount: str, *, index: int = 1) -> str:
    """Send `amount` of the node's coin from a dev account; the hash once mined."""
    w3 = w3_of(url)
    sender = dev_account(index)
    signed = sender.sign_transaction({
        "to": to, "value": Web3.to_wei(Decimal(amount), "ether"), "gas": 21000, "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "maxFeePerGas": w3.eth.gas_price * 2, "maxPriorityFeePerGas": Web3.to_wei(1, "gwei"), "type": 2})
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)["status"] == 1
    return tx_hash.to_0x_hex()


def mine(url: str, blocks: int) -> None:
    w3_of(url).provider.make_request("anvil_mine", [hex(blocks)])
