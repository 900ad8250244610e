"""ERC-20 tokens on chain: balances, metadata, and deploying the demo token on the dev chain."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.conf import settings
from web3 import Web3

from wallets import chain

ARTIFACT = Path(__file__).resolve().parent / "contracts" / "DemoToken.json"
# topic 0 of an ERC-20 Transfer(address indexed from, address indexed to, uint256 value) log
TRANSFER_TOPIC = Web3.keccak(text="Transfer(address,address,uint256)").to_0x_hex()


@cache
def erc20_abi() -> list:
    return json.loads(ARTIFACT.read_text())["abi"]


def erc20_contract(w3: Web3, address: str):
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=erc20_abi())


def erc20_balance(*, token_address: str, holder: str, decimals: int) -> Decimal:
    w3 = chain.web3_client()
    raw = erc20_contract(w3, token_address).functions.balanceOf(Web3.to_checksum_address(holder)).call()
    return Decimal(raw).scaleb(-decimals)


def erc20_deploy_demo_token(*, name: str, symbol: str, decimals: int) -> str:
    """Deploy DemoToken from the dev node's account 0 (dev chain only); returns its address."""
    w3 = chain.web3_client()
    if settings.ETH_CHAIN_ID != chain.ANVIL_DEV_CHAIN_ID:
        raise chain.ChainError("the demo token is only deployed on the local dev chain (31337)")
    artifact = json.loads(ARTIFACT.read_text())
    sender = chain.dev_account()
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    transaction = factory.constructor(name, symbol, decimals).build_transaction({
        "from": sender.address, "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "chainId": settings.ETH_CHAIN_ID,
    })
    receipt = chain.send_signed(w3, sender, transaction)
    return receipt["contractAddress"]


def erc20_mint_demo(*, token_address: str, to: str, amount: Decimal, decimals: int) -> str:
    w3 = chain.web3_client()
    sender = chain.dev_account()
    raw = int(Decimal(amount).scaleb(decimals))
    transaction = erc20_contract(w3, token_address).functions.mint(Web3.to_checksum_address(to), raw).build_transaction({
        "from": sender.address, "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "chainId": settings.ETH_CHAIN_ID,
    })
    return chain.send_signed(w3, sender, transaction)["transactionHash"].to_0x_hex()
