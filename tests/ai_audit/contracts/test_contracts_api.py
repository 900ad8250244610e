"""/api/contracts/ on real anvil nodes (ethereum 31337, polygon 137, bsc 56): registry, ?network=,
verification with solc-js, the ABI, read and write calls."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from eth_account import Account
from web3 import Web3

from accounts.models import Role
from accounts.sessions import session_approve, session_login
from ai_audit.models import Contract
from tests.ai_audit.contracts.conftest import PASSWORD, VAULT_SOURCE, deploy
from tests.chains import dev_account, fund
from wallets import transfers
from wallets.erc20 import ARTIFACT, erc20_deploy_demo_token
from wallets.models import Cryptocurrency, OutgoingTransfer, TransferKind, TransferStatus, WalletType
from wallets.reconciler import sends_reconcile
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db(transaction=True)

DEMO_TOKEN_SOURCE = (Path(ARTIFACT).parent / "DemoToken.sol").read_text()


def code_of(response):
    return response.json()["error"]["code"]


@pytest.fixture
def token(eth_node):
    return erc20_deploy_demo_token(name="Test Dollar", symbol="TUSD", decimals=6)


@pytest.fixture
def vault_everywhere(networks_configured, vault_build):
    """One Vault per network; on fresh polygon/bsc anvils the first deploys of account 2 share an address."""
    abi, code = vault_build
    return {name: deploy(url, abi, code, f"vault on {name}", account_index=2)
            for name, url in networks_configured.items()}


def test_register_erc20_reads_code_deployment_and_metadata(manager_api, token, networks_configured):
    user, get, post, _ = manager_api
    response = post("/api/contracts/", {"address": token.lower(), "contract_type": "erc20"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["address"] == token and body["network"] == "ethereum" and body["chain_id"] == 31337
    assert (body["token_name"], body["token_symbol"], body["token_decimals"]) == ("Test Dollar", "TUSD", 6)
    assert body["name"] == "Test Dollar" and body["is_verified"] is False
    assert body["deployer"] == dev_account(0).address and body["creation_block"] >= 1
    receipt = Web3(Web3.HTTPProvider(networks_configured["ethereum"])).eth.get_transaction_receipt(body["creation_tx"])
    assert receipt["contractAddress"] == token and receipt["blockNumber"] == body["creation_block"]
    stored = Contract.objects.get(address=token)
    assert stored.runtime_bytecode.startswith("0x") and len(stored.runtime_bytecode) > 100
    abi = get(f"/api/contracts/{token}/abi/").json()
    assert {entry["name"] for entry in abi["abi"] if entry["type"] == "function"} >= {"balanceOf", "transfer", "decimals"}


def test_register_refusals(manager_api, token, networks_configured, make_user, access_token_for, client):
    _, _, post, _ = manager_api
    empty = Account.create().address
    response = post("/api/contracts/", {"address": empty})
    assert response.status_code == 422 and code_of(response) == "contract_not_deployed"
    bad = token[:-1] + ("a" if token[-1] != "a" else "b")
    mixed = bad[:2] + bad[2:].swapcase() if bad[2:] == bad[2:].lower() else bad
    response = post("/api/contracts/", {"address": mixed})
    assert response.status_code == 422 and code_of(response) in ("bad_checksum", "contract_not_deployed")
    response = post("/api/contracts/", {"address": token, "network": "solana"})
    assert response.status_code == 422 and code_of(response) == "unknown_network"
    response = post("/api/contracts/", {"address": token, "abi": [{"type": "nonsense"}]})
    assert response.status_code == 422 and code_of(response) == "invalid_abi"
    assert post("/api/contracts/", {"address": token}).status_code == 201
    response = post("/api/contracts/", {"address": token})
    assert response.status_code == 409 and code_of(response) == "contract_exists"
    member = make_user(role=Role.USER)
    response = client.post("/api/contracts/", {"address": token}, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {access_token_for(member)}")
    assert response.status_code == 403


def test_one_address_on_several_networks_needs_network(manager_api, vault_everywhere):
    _, get, post, put = manager_api
    address = vault_everywhere["polygon"]
    assert vault_everywhere["bsc"] == address  # same deployer and nonce on two fresh chains
    for network in ("polygon", "bsc"):
        response = post("/api/contracts/", {"address": address, "network": network, "name": f"Vault {network}"})
        assert response.status_code == 201, response.content
        assert response.json()["chain_id"] == {"polygon": 137, "bsc": 56}[network]
    response = get(f"/api/contracts/{address}/")
    assert response.status_code == 400 and code_of(response) == "ambiguous_address"
    assert response.json()["error"]["details"]["networks"] == ["bsc", "polygon"]
    detail = get(f"/api/contracts/{address.lower()}/?network=polygon")
    assert detail.status_code == 200 and detail.json()["name"] == "Vault polygon"
    assert get(f"/api/contracts/{address}/?network=ethereum").status_code == 404
    assert get(f"/api/contracts/{address}/?network=nowhere").status_code == 422
    changed = put(f"/api/contracts/{address}/?network=bsc", {"name": "BSC vault", "notes": "ours"})
    assert changed.status_code == 200 and changed.json()["name"] == "BSC vault"
    assert get(f"/api/contracts/{address}/?network=polygon").json()["name"] == "Vault polygon"
    listed = get("/api/contracts/?network=bsc").json()["items"]
    assert [item["network"] for item in listed] == ["bsc"]


def test_node_on_the_wrong_chain_is_refused(manager_api, networks_configured, settings):
    _, _, post, _ = manager_api
    settings.BSC_RPC_URL = networks_configured["polygon"]  # answers 137, not 56
    response = post("/api/contracts/", {"address": Account.create().address, "network": "bsc"})
    assert response.status_code == 503 and code_of(response) == "wrong_chain"


def test_another_organization_sees_nothing(manager_api, token, make_organization, make_user, access_token_for, client):
    _, _, post, _ = manager_api
    assert post("/api/contracts/", {"address": token, "contract_type": "erc20"}).status_code == 201
    other = make_user(role=Role.MANAGER, organization=make_organization("Other"))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(other)}"}
    for path in (f"/api/contracts/{token}/", f"/api/contracts/{token}/abi/"):
        assert client.get(path, **auth).status_code == 404
    assert client.post(f"/api/contracts/{token}/interact/", {"function": "name"}, content_type="application/json",
                       **auth).status_code == 404
    assert client.get("/api/contracts/", **auth).json()["items"] == []


# --- verification ---------------------------------------------------------------------------------------
def test_verify_matching_source_ignores_immutables_and_metadata(manager_api, token):
    _, get, post, _ = manager_api
    post("/api/contracts/", {"address": token, "contract_type": "erc20"})
    # A comment changes only the metadata hash; decimals and owner are immutables filled at deploy.
    source = DEMO_TOKEN_SOURCE + "\n// verified copy\n"
    response = post(f"/api/contracts/{token}/verify/", {
        "compiler_version": "0.8.37", "source": source, "contract_name": "DemoToken",
        "optimizer_enabled": True, "optimizer_runs": 200})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["is_verified"] is True and body["verification_status"] == "verified"
    assert "metadata hash differs" in body["verification_summary"] and "2 immutable value(s) ignored (3 place(s)" in body["verification_summary"]
    contract = Contract.objects.get(address=token)
    assert contract.compiler_version == "0.8.37"
    assert contract.source_standard_json["sources"]["DemoToken.sol"]["content"] == source
    assert any(entry.get("name") == "mint" for entry in get(f"/api/contracts/{token}/abi/").json()["abi"])


def test_verify_with_other_settings_or_changed_source_is_a_mismatch(manager_api, token):
    _, get, post, _ = manager_api
    post("/api/contracts/", {"address": token, "contract_type": "erc20"})
    other_settings = post(f"/api/contracts/{token}/verify/", {
        "compiler_version": "0.8.37", "source": DEMO_TOKEN_SOURCE, "optimizer_enabled": False})
    assert other_settings.status_code == 422 and code_of(other_settings) == "bytecode_mismatch"
    details = other_settings.json()["error"]["details"]
    assert details["compiled_contract"] == "DemoToken.sol:DemoToken" and details["differing_bytes"] > 0
    assert "Runtime bytecode differs" in other_settings.json()["error"]["message"]
    detail = get(f"/api/contracts/{token}/").json()
    assert detail["is_verified"] is False and detail["verification_status"] == "mismatch"

    changed = DEMO_TOKEN_SOURCE.replace('require(msg.sender == owner, "only owner");',
                                        'require(msg.sender == owner, "owner only");')
    assert changed != DEMO_TOKEN_SOURCE
    response = post(f"/api/contracts/{token}/verify/", {
        "compiler_version": "0.8.37", "source": changed, "optimizer_enabled": True, "optimizer_runs": 200})
    assert response.status_code == 422 and code_of(response) == "bytecode_mismatch"
    other_version = post(f"/api/contracts/{token}/verify/", {
        "compiler_version": "0.8.20", "source": DEMO_TOKEN_SOURCE, "optimizer_enabled": True, "optimizer_runs": 200})
    assert other_version.status_code == 422 and code_of(other_version) == "bytecode_mismatch"
    assert Contract.objects.get(address=token).is_verified is False


def test_verify_standard_json_and_input_errors(manager_api, networks_configured, vault_build):
    _, get, post, _ = manager_api
    abi, code = vault_build
    address = deploy(networks_configured["ethereum"], abi, code, "eth vault")
    post("/api/contracts/", {"address": address})
    standard = {"language": "Solidity", "sources": {"src/Vault.sol": {"content": VAULT_SOURCE}},
                "settings": {"optimizer": {"enabled": True, "runs": 200}}}
    unknown = post(f"/api/contracts/{address}/verify/", {"compiler_version": "0.6.0", "standard_json": standard})
    assert unknown.status_code == 422 and code_of(unknown) == "unsupported_compiler"
    broken = post(f"/api/contracts/{address}/verify/", {"compiler_version": "0.8.37", "source": "contract {"})
    assert broken.status_code == 422 and code_of(broken) == "compilation_failed"
    neither = post(f"/api/contracts/{address}/verify/", {"compiler_version": "0.8.37"})
    assert neither.status_code == 422 and code_of(neither) == "invalid_source"
    response = post(f"/api/contracts/{address}/verify/", {"compiler_version": "0.8.37", "standard_json": standard,
                                                          "contract_name": "Vault"})
    assert response.status_code == 200, response.content
    assert response.json()["compiled_contract_name"] == "src/Vault.sol:Vault"
    assert get(f"/api/contracts/{Account.create().address}/verify/").status_code in (404, 405)
    assert post(f"/api/contracts/{Account.create().address}/verify/",
                {"compiler_version": "0.8.37", "source": VAULT_SOURCE}).status_code == 404


# --- interaction ----------------------------------------------------------------------------------------
def test_read_calls_decode_results_and_check_arguments(manager_api, token, make_user, access_token_for, client):
    _, _, post, _ = manager_api
    post("/api/contracts/", {"address": token, "contract_type": "erc20"})
    member = make_user(role=Role.USER)  # any member reads
    auth = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(member)}"}

    def call(body):
        return client.post(f"/api/contracts/{token}/interact/", body, content_type="application/json", **auth)

    name = call({"function": "name"})
    assert name.status_code == 200, name.content
    assert name.json()["kind"] == "read" and name.json()["results"] == [{"name": "", "type": "string", "value": "Test Dollar"}]
    holder = dev_account(0).address
    balance = call({"function": "balanceOf", "args": {"owner": holder}})
    assert balance.status_code == 200 and balance.json()["results"][0]["value"] == "0"

    cases = [
        ({"function": "balanceOf", "args": [holder.lower()[:-1] + "Z"]}, "owner"),
        ({"function": "balanceOf", "args": [holder[:2] + holder[2:].swapcase()]}, "owner"),
        ({"function": "allowance", "args": {"owner": holder}}, "spender"),
        ({"function": "balanceOf", "args": [holder, holder]}, "args"),
        ({"function": "balanceOf", "args": {"who": holder}}, "who"),
    ]
    for body, argument in cases:
        response = call(body)
        assert response.status_code == 422 and code_of(response) == "invalid_argument", (body, response.content)
        assert response.json()["error"]["details"]["argument"] == argument
    response = call({"function": "nope"})
    assert response.status_code == 422 and code_of(response) == "unknown_function"
    response = call({"function": "transfer", "args": [holder, "1"]})  # a write without a wallet
    assert response.status_code == 422 and code_of(response) == "unknown_function"


@pytest.fixture
def signer(make_user, networks_configured, client):
    """A manager with a funded Private Key wallet (on polygon) and an API session (approve on demand)."""
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "current_price": Decimal("2500")})
    user = make_user(role=Role.MANAGER)
    _, session, tokens = session_login(login=user.username, password=PASSWORD, ip=None)
    wallet = wallet_create(user=user, name="hot", wallet_type=WalletType.PRIVATE_KEY)
    fund(networks_configured["polygon"], wallet.address, "2")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens.access_token}"}

    def post(path, data, key=None, approve=True):
        if approve and not session.is_approved:
            session_approve(session=session, password=PASSWORD, ip=None)
        headers = dict(auth)
        if key:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        return client.post(path, data, content_type="application/json", **headers)

    return user, wallet, post


def test_write_call_on_polygon_is_signed_stored_and_sent_once(signer, vault_everywhere, vault_build, settings):
    user, wallet, post = signer
    address = vault_everywhere["polygon"]
    assert post("/api/contracts/", {"address": address, "network": "polygon", "name": "Vault", "abi": vault_build[0]},
                approve=False).status_code == 201
    path = f"/api/contracts/{address}/interact/?network=polygon"
    body = {"function": "store", "args": ["42"], "wallet_id": str(wallet.pk)}

    unapproved = post(path, body, key="store-1", approve=False)
    assert unapproved.status_code == 403 and code_of(unapproved) == "session_not_approved", unapproved.content
    no_key = post(path, body)
    assert no_key.status_code == 400 and code_of(no_key) == "idempotency_key_required"
    out_of_range = post(path, {**body, "args": [str(2**256)]}, key="store-x")
    assert out_of_range.status_code == 422 and out_of_range.json()["error"]["details"]["argument"] == "value"
    reverts = post(path, {**body, "args": [13]}, key="store-13")
    assert reverts.status_code == 422 and code_of(reverts) == "call_reverted"
    not_payable = post(path, {**body, "value": "0.1"}, key="store-v")
    assert not_payable.status_code == 422 and code_of(not_payable) == "invalid_amount"
    assert not OutgoingTransfer.objects.exists()

    first = post(path, body, key="store-1")
    assert first.status_code == 201, first.content
    sent = first.json()
    assert sent["kind"] == "write" and sent["function"] == "store(uint256)" and sent["status"] == "BROADCAST"
    transfer = OutgoingTransfer.objects.get()
    assert transfer.kind == TransferKind.CONTRACT_CALL and transfer.chain_id == 137 and transfer.network == "polygon"
    assert transfer.signed_raw_transaction.startswith("0x") and transfer.to_address == address
    again = post(path, body, key="store-1")
    assert again.status_code == 200 and again.json()["tx_hash"] == sent["tx_hash"]
    reused = post(path, {**body, "args": ["43"]}, key="store-1")
    assert reused.status_code == 409 and code_of(reused) == "idempotency_key_reused"
    assert OutgoingTransfer.objects.count() == 1

    w3 = Web3(Web3.HTTPProvider(django_settings.POLYGON_RPC_URL))
    receipt = w3.eth.wait_for_transaction_receipt(sent["tx_hash"], timeout=30)
    assert receipt["status"] == 1 and receipt["from"] == wallet.address
    read = post(path, {"function": "stored"})
    assert read.json()["results"][0]["value"] == "42"
    pair = post(path, {"function": "pair", "args": [7, -5]})  # a pure function, two decoded results
    assert pair.json()["results"] == [{"name": "sum", "type": "uint256", "value": "12"},
                                          {"name": "negative", "type": "bool", "value": True}]

    paid = post(path, {"function": "deposit", "wallet_id": str(wallet.pk), "value": "0.25"}, key="dep-1")
    assert paid.status_code == 201, paid.content
    w3.eth.wait_for_transaction_receipt(paid.json()["tx_hash"], timeout=30)
    deposits = post(path, {"function": "deposits", "args": [wallet.address]})
    assert deposits.json()["results"][0]["value"] == str(Web3.to_wei(Decimal("0.25"), "ether"))
    nonces = sorted(OutgoingTransfer.objects.values_list("nonce", flat=True))
    assert nonces == [0, 1]
    # Settled from polygon's own node.
    settings.ETH_CONFIRMATIONS = 1
    settled = transfers.transfer_refresh(OutgoingTransfer.objects.get(tx_hash=sent["tx_hash"]))
    assert settled.status == TransferStatus.CONFIRMED and settled.block_number == receipt["blockNumber"]
    assert settled.fee == Decimal(receipt["gasUsed"] * receipt["effectiveGasPrice"]).scaleb(-18)
    # The send reconciler (every network) settles the rest (the deposit), also from polygon's node.
    report = sends_reconcile()
    assert (report.settled, report.rebroadcast, report.failed, report.fillers) == (1, 0, 0, 0), report.as_dict()
    assert set(OutgoingTransfer.objects.values_list("status", flat=True)) == {TransferStatus.CONFIRMED}


def test_write_call_refusals(signer, vault_everywhere, vault_build, make_user, make_organization):
    user, wallet, post = signer
    address = vault_everywhere["polygon"]
    post("/api/contracts/", {"address": address, "network": "polygon", "abi": vault_build[0]})
    path = f"/api/contracts/{address}/interact/?network=polygon"
    watch = wallet_create(user=user, name="watch", wallet_type=WalletType.METAMASK, address=Account.create().address)
    response = post(path, {"function": "store", "args": [1], "wallet_id": str(watch.pk)}, key="w-1")
    assert response.status_code == 409 and code_of(response) == "watch_only_wallet"
    stranger = make_user(organization=make_organization("Elsewhere"))
    theirs = wallet_create(user=stranger, name="theirs", wallet_type=WalletType.PRIVATE_KEY)
    response = post(path, {"function": "store", "args": [1], "wallet_id": str(theirs.pk)}, key="w-2")
    assert response.status_code == 404
    assert not OutgoingTransfer.objects.filter(status=TransferStatus.PREPARED).exists()


def test_list_query_count_does_not_grow(manager_api, token, networks_configured, vault_build):
    _, get, post, _ = manager_api
    post("/api/contracts/", {"address": token})
    with CaptureQueriesContext(connection) as one:
        assert len(get("/api/contracts/").json()["items"]) == 1
    abi, code = vault_build
    for index in range(3):
        post("/api/contracts/", {"address": deploy(networks_configured["ethereum"], abi, code, f"v{index}")})
    with CaptureQueriesContext(connection) as four:
        assert len(get("/api/contracts/").json()["items"]) == 4
    assert len(four.captured_queries) == len(one.captured_queries)
