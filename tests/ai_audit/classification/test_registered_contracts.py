"""Classification by the organization's registered contract ABIs, for real: a StakingPool compiled with
solc-js and deployed to the suite's anvil, called from a wallet's own key (as MetaMask would), recorded
by the monitor, classified by the pipeline naming the function and the contract. Another organization's
registration of the same contract changes nothing here; the registry is read once per batch."""

from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from eth_abi import encode
from eth_account import Account
from web3 import Web3

from accounts.models import Role
from ai_audit.classification import services
from ai_audit.classification.engine.calls import selector_of
from ai_audit.contracts.services import contract_register
from ai_audit.models import Contract, TransactionClassification
from tests.ai_audit.contracts.conftest import compile_source, deploy
from tests.chains import fund
from wallets.models import Cryptocurrency, OutgoingTransfer, Transaction, TransferKind, WalletType
from wallets.monitoring import monitor_scan
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db

POOL_SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract StakingPool {
    mapping(address => uint256) public staked;

    function stake(uint256 amount) external payable {
        require(msg.value == amount, "send the amount");
        staked[msg.sender] += amount;
    }

    function poke() external {}
}
"""
REGISTERED = "a contract you registered"


@pytest.fixture(scope="module")
def pool_build():
    return compile_source(POOL_SOURCE, name="StakingPool")


def send_call(w3, account, address, abi, function, *args, value=0):
    contract = w3.eth.contract(address=address, abi=abi)
    transaction = getattr(contract.functions, function)(*args).build_transaction({
        "from": account.address, "value": value, "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(account.address, "pending")})
    signed = account.sign_transaction(transaction)
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction), timeout=30)
    assert receipt["status"] == 1
    return receipt["transactionHash"].to_0x_hex()


def suggestion_of(tx_hash, organization_id):
    row = Transaction.objects.for_organization(organization_id).get(hash=tx_hash, direction="out")
    return row, TransactionClassification.objects.for_organization(organization_id).get(transaction=row)


def test_a_call_to_a_registered_contract_is_classified_by_its_function(eth_node, make_user, make_organization, pool_build,
                                                                      settings):
    settings.ETH_CONFIRMATIONS = 1
    rpc = django_settings.ETH_RPC_URL
    w3 = Web3(Web3.HTTPProvider(rpc))
    abi, bytecode = pool_build
    pool = deploy(rpc, abi, bytecode)
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    manager = make_user(role=Role.MANAGER)
    organization_id = manager.organization_id
    other = make_user(role=Role.MANAGER, organization=make_organization("Globex"))
    contract_register(actor=other, address=pool, network="ethereum", name="TheirPool", abi=abi)
    key = Account.create()
    wallet = wallet_create(user=manager, name="metamask", wallet_type=WalletType.METAMASK, address=key.address)
    fund(rpc, wallet.address, "3")

    # Before this organization registers it, another's registration of the same contract does nothing here.
    first = send_call(w3, key, pool, abi, "stake", 10**18, value=10**18)
    monitor_scan()
    services.pipeline_run(organization_id)  # what the pipeline task does
    row, record = suggestion_of(first, organization_id)
    assert record.method_selector == selector_of("stake(uint256)")  # read from the node once, kept
    assert "TheirPool" not in record.suggested_reason and REGISTERED not in record.suggested_reason
    assert record.suggested_label == ""

    # Registered: the next classification names function and contract from the kept selector (the
    # call data is not read again, so no arguments).
    contract_register(actor=manager, address=pool, network="ethereum", name="StakingPool", abi=abi)
    again = services.classify_request(actor=manager, transaction_ids=[str(row.pk)])[0]
    assert (again.suggestion.label, again.suggestion.category) == ("own transfer", "business")
    assert again.suggestion.reason == (f"calls `stake(uint256)` on StakingPool, {REGISTERED}: a staking deposit: "
                                       f"the units stay yours")

    # New calls: decoded with their arguments from the node's call data.
    second = send_call(w3, key, pool, abi, "stake", 25 * 10**16, value=25 * 10**16)
    poke = send_call(w3, key, pool, abi, "poke")
    monitor_scan()
    services.pipeline_run(organization_id)  # (the pipeline task may have run already: then it finds nothing new)
    _, staked = suggestion_of(second, organization_id)
    assert staked.suggested_label == "own transfer" and staked.suggested_confidence == Decimal("0.85")
    assert staked.suggested_reason.startswith(f"calls `stake(uint256)` (amount=250000000000000000) on StakingPool, "
                                              f"{REGISTERED}")
    poked_row, poked = suggestion_of(poke, organization_id)
    assert poked_row.amount == 0 and poked.suggested_label == "fee"
    assert poked.suggested_reason == f"calls `poke()` on StakingPool, {REGISTERED}; gas only: no value moved"
    for record in TransactionClassification.objects.for_organization(organization_id):
        assert "TheirPool" not in record.suggested_reason


def test_the_registry_is_read_once_per_batch_and_only_the_organizations_own(books, make_user, make_organization):
    abi = [{"type": "function", "name": "stake", "inputs": [{"name": "amount", "type": "uint256"}], "outputs": [],
            "stateMutability": "payable"}]
    pool = Web3.to_checksum_address("0x" + "5a" * 20)
    foreign_only = Web3.to_checksum_address("0x" + "6b" * 20)
    Contract.objects.create(organization_id=books.organization.pk, address=pool, network="ethereum", chain_id=31337,
                            name="StakingPool", abi=abi)
    outsider = make_organization("Globex")
    for address, name in ((pool, "TheirPool"), (foreign_only, "TheirVault")):
        Contract.objects.create(organization_id=outsider.pk, address=address, network="ethereum", chain_id=31337,
                                name=name, abi=abi)
    stake = selector_of("stake(uint256)")

    def batch(n, to):
        rows = [books.chain_row(counterparty=to.lower(), asset=books.eth, amount="1") for _ in range(n)]
        records = {row.pk: TransactionClassification(organization_id=books.organization.pk, transaction=row,
                                                     method_selector=stake) for row in rows}
        with CaptureQueriesContext(connection) as captured:
            facts = services.facts_for(books.organization.pk, rows, records)
        registry_reads = [q for q in captured.captured_queries if "contracts" in q["sql"]]
        return facts, registry_reads

    one, reads_one = batch(1, pool)
    many, reads_many = batch(25, pool)
    assert len(reads_one) == 1 and len(reads_many) == 1
    assert {(f.contract_name, f.call.signature) for f in many.values()} == {("StakingPool", "stake(uint256)")}
    theirs, _ = batch(3, foreign_only)  # registered by another organization only
    assert {(f.contract_name, f.call) for f in theirs.values()} == {("", None)}


def test_the_apps_own_contract_call_is_decoded_from_its_stored_call_data(books):
    """A call sent through the app (POST /api/contracts/{address}/interact/) keeps its call data on the
    send: decoded in full, arguments included, without asking the node."""
    from eth_abi import encode

    from wallets.models import OutgoingTransfer, TransferKind

    abi = [{"type": "function", "name": "stake", "inputs": [{"name": "amount", "type": "uint256"}], "outputs": [],
            "stateMutability": "payable"}]
    pool = Web3.to_checksum_address("0x" + "5a" * 20)
    Contract.objects.create(organization_id=books.organization.pk, address=pool, network="ethereum", chain_id=31337,
                            name="StakingPool", abi=abi)
    row = books.chain_row(counterparty=pool.lower(), asset=books.eth, amount="0.5")
    call_data = selector_of("stake(uint256)") + encode(["uint256"], [777]).hex()
    OutgoingTransfer.objects.create(
        organization_id=books.organization.pk, user=books.manager, wallet=books.wallet, cryptocurrency=books.eth,
        to_address=pool, amount=Decimal("0.5"), idempotency_key=f"{books.manager.pk}:stake-1", request_fingerprint="x",
        chain_id=31337, nonce=0, gas_limit=60000, max_fee_per_gas=Decimal(1), max_priority_fee_per_gas=Decimal(1),
        signed_raw_transaction="0x00", tx_hash=row.hash, kind=TransferKind.CONTRACT_CALL, call_data=call_data,
        call_function="stake(uint256)", network="ethereum")
    facts = services.facts_for(books.organization.pk, [row])[str(row.pk)]
    assert facts.contract_name == "StakingPool" and facts.called_contract == pool.lower()
    assert facts.call.arguments == (("amount", "uint256", "777"),)
    done = services.classify_request(actor=books.accountant, transaction_ids=[str(row.pk)])[0]
    assert done.suggestion.label == "own transfer"
    assert done.suggestion.reason.startswith(f"calls `stake(uint256)` (amount=777) on StakingPool, {REGISTERED}")
