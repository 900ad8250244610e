"""Several networks for real: the suite's anvil is "ethereum" (31337); two more anvil nodes answer
the chain ids of polygon (137) and bsc (56). Contracts are compiled with solc-js and deployed by the
dev accounts of the well-known mnemonic (funded on every anvil)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from web3 import Web3

from ai_audit.contracts import solc
from tests.chains import dev_account

HERE = Path(__file__).resolve().parent
PASSWORD = "Passw0rd!long"

VAULT_SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// A small contract with an immutable, reads, a write and a payable function.
contract Vault {
    address public immutable owner;
    uint256 public stored;
    string public label;
    mapping(address => uint256) public deposits;

    event Stored(address indexed by, uint256 value);

    constructor(string memory label_) {
        owner = msg.sender;
        label = label_;
    }

    function store(uint256 value) external {
        require(value != 13, "unlucky");
        stored = value;
        emit Stored(msg.sender, value);
    }

    function deposit() external payable {
        deposits[msg.sender] += msg.value;
    }

    function pair(uint8 a, int16 b) external pure returns (uint256 sum, bool negative) {
        return (uint256(a) + uint256(int256(b < 0 ? -b : b)), b < 0);
    }
}
"""


def compile_source(source: str, *, name: str, version: str = "0.8.37", optimizer: bool = True, runs: int = 200):
    standard = {
        "language": "Solidity",
        "sources": {f"{name}.sol": {"content": source}},
        "settings": {"optimizer": {"enabled": optimizer, "runs": runs},
                     "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}}},
    }
    artefact = solc.compile_standard_json(standard, version=version)["contracts"][f"{name}.sol"][name]
    return artefact["abi"], "0x" + artefact["evm"]["bytecode"]["object"]


def deploy(rpc_url: str, abi, bytecode_hex: str, *args, account_index: int = 0) -> str:
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    sender = dev_account(account_index)
    factory = w3.eth.contract(abi=abi, bytecode=bytecode_hex)
    transaction = factory.constructor(*args).build_transaction({
        "from": sender.address, "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "chainId": w3.eth.chain_id})
    signed = sender.sign_transaction(transaction)
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction), timeout=30)
    assert receipt["status"] == 1
    return receipt["contractAddress"]


@pytest.fixture
def networks_configured(extra_chains, settings):
    """The registry of wallets.networks for this test: ethereum (the suite's node), polygon, bsc."""
    settings.POLYGON_RPC_URL, settings.POLYGON_CHAIN_ID = extra_chains["polygon"], 137
    settings.BSC_RPC_URL, settings.BSC_CHAIN_ID = extra_chains["bsc"], 56
    return {"ethereum": django_settings.ETH_RPC_URL, **extra_chains}


@pytest.fixture(scope="session")
def vault_build():
    """Vault compiled as deployed (solc 0.8.37, optimizer on, 200 runs): (abi, creation bytecode)."""
    return compile_source(VAULT_SOURCE, name="Vault")


@pytest.fixture
def manager_api(make_user, access_token_for, client):
    """A manager of the main organization calling the API: (user, get, post, put)."""
    from accounts.models import Role

    user = make_user(role=Role.MANAGER)
    token = access_token_for(user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(path):
        return client.get(path, **auth)

    def post(path, data, **headers):
        return client.post(path, data, content_type="application/json", **auth, **headers)

    def put(path, data):
        return client.put(path, data, content_type="application/json", **auth)

    return user, get, post, put
