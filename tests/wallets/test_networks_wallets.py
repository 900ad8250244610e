"""Wallets, transactions, monitoring and sends on several networks (issue 14), for real: the suite's
anvil is "ethereum" (31337); two more anvils answer the chain ids of polygon (137) and bsc (56).

A wallet lives on one network; the monitor scans each network's node with its own checkpoint and
confirmations; one hash on two chains makes two rows (wallets.external_ids); sends sign with the
network's chain id and reach its node; the reconciler fills nonce gaps and settles contract calls
on every network."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3

import ai_audit.tasks  # noqa: F401  (registers every ai_audit periodic job, as huey's autodiscovery does)
import wallets.tasks  # noqa: F401
from accounts.models import Role
from accounts.sessions import session_approve, session_login
from core import localstack
from core.errors import InvalidInput, Unavailable
from core.management.commands import runstack
from core.scheduling import JOBS
from tests.chains import dev_account, fund, mine, w3_of
from wallets import chain, external_ids, networks, transfers
from wallets.models import (
    ChainCheckpoint,
    Cryptocurrency,
    OutgoingTransfer,
    Transaction,
    TransferKind,
    TransferStatus,
    Wallet,
    WalletType,
)
from wallets.erc20 import ARTIFACT, erc20_contract
from wallets.imports import transactions_import_universal
from wallets.monitoring import monitor_scan
from wallets.reconciler import sends_reconcile
from wallets.services import transaction_create, wallet_create, wallet_monitoring_enable

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Passw0rd!long"


# --- the nodes ------------------------------------------------------------------------------------------
@pytest.fixture
def multi(extra_chains, settings):
    """ethereum (2 confirmations), polygon (3, its own setting) and bsc configured."""
    settings.ETH_CONFIRMATIONS = 2
    settings.POLYGON_RPC_URL, settings.POLYGON_CHAIN_ID, settings.POLYGON_CONFIRMATIONS = extra_chains["polygon"], 137, 3
    settings.BSC_RPC_URL, settings.BSC_CHAIN_ID = extra_chains["bsc"], 56
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    return {"ethereum": django_settings.ETH_RPC_URL, **extra_chains}


def code_of(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def api(client, access_token_for):
    def login(user):
        token = access_token_for(user)
        return lambda method, path, data=None: getattr(client, method)(
            path, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    return login


def approved_session(user):
    _, session, _ = session_login(login=user.username, password=PASSWORD, ip=None)
    session_approve(session=session, password=PASSWORD, ip=None)
    return session


# --- the registry and the external id ---------------------------------------------------------------------
def test_registry_lists_the_three_networks_with_their_own_confirmations(multi, settings):
    assert networks.network_names() == ["ethereum", "polygon", "bsc"]
    assert networks.confirmations_for("ethereum") == 2
    assert networks.confirmations_for("polygon") == 3
    assert networks.confirmations_for("bsc") == 2  # no BSC_CONFIRMATIONS: ETH_CONFIRMATIONS
    assert networks.web3_for("polygon").eth.chain_id == 137
    with pytest.raises(InvalidInput) as unknown:
        networks.network_get("solana")
    assert unknown.value.code == "unknown_network"
    settings.BSC_RPC_URL = multi["polygon"]  # a node on another chain is refused, never used
    with pytest.raises(Unavailable) as wrong:
        networks.web3_for("bsc")
    assert wrong.value.code == "wrong_chain"


def test_external_ids_keep_the_ethereum_form_and_name_other_networks():
    tx_hash, address = "0x" + "ab" * 32, "0x" + "12" * 20
    assert external_ids.chain_external_id(tx_hash=tx_hash, log_index=-1, address=address) == \
        f"chain:{tx_hash}:-1:{address}"  # unchanged: every id stored before networks existed
    assert external_ids.chain_external_id(tx_hash=tx_hash, log_index=-1, address=address, network="ethereum") == \
        f"chain:{tx_hash}:-1:{address}"
    on_polygon = external_ids.chain_external_id(tx_hash=tx_hash, log_index=4, address=address, network="polygon")
    assert on_polygon == f"chain:polygon:{tx_hash}:4:{address}"
    pending = external_ids.chain_pending_external_id(tx_hash=tx_hash, address=address, network="bsc")
    assert pending == f"chain:bsc:{tx_hash}:pending:{address}"
    assert external_ids.chain_external_id_parse(f"chain:{tx_hash}:-1:{address}") == external_ids.ChainIdentity(
        "ethereum", tx_hash, -1, address)
    assert external_ids.chain_external_id_parse(on_polygon) == external_ids.ChainIdentity(
        "polygon", tx_hash, 4, address)
    assert external_ids.chain_external_id_parse(pending) == external_ids.ChainIdentity("bsc", tx_hash, None, address)
    for other in ("import:1:tx:0xab:0", "demo:3", None, "chain:polygon:nothex:1:0x1", "chain:0xab:x:0x1"):
        assert external_ids.chain_external_id_parse(other) is None
    assert external_ids.chain_movement_key(tx_hash=tx_hash, log_index=None) == f"chain:{tx_hash}:None"
    assert external_ids.chain_movement_key(tx_hash=tx_hash, log_index=2, network="polygon") == \
        f"chain:polygon:{tx_hash}:2"
    with pytest.raises(ValueError):
        external_ids.chain_external_id(tx_hash=tx_hash, log_index=1, address=address, network="0xnet")


# --- wallets ----------------------------------------------------------------------------------------------
def test_a_wallet_is_created_on_a_network_and_an_address_may_be_on_two(multi, make_user, make_organization, api):
    user = make_user()
    call = api(user)
    key = Account.create()
    on_polygon = call("post", "/api/wallets/", {"name": "Hot", "private_key": key.key.to_0x_hex(),
                                                "network": "polygon"})
    assert on_polygon.status_code == 201, on_polygon.content
    body = on_polygon.json()
    assert body["network"] == "polygon" and body["address"] == key.address
    # monitored from polygon's head, not ethereum's
    assert body["monitor_from_block"] == w3_of(multi["polygon"]).eth.block_number
    default = call("post", "/api/wallets/", {"name": "Same key", "private_key": key.key.to_0x_hex()})
    assert default.status_code == 201 and default.json()["network"] == "ethereum"
    again = call("post", "/api/wallets/", {"name": "Twice", "wallet_type": "MetaMask", "address": key.address,
                                           "network": "polygon"})
    assert again.status_code == 409 and code_of(again) == "address_taken"
    unknown = call("post", "/api/wallets/", {"name": "Sol", "network": "solana"})
    assert unknown.status_code == 422 and code_of(unknown) == "unknown_network"
    assert unknown.json()["error"]["details"]["choices"] == ["ethereum", "polygon", "bsc"]
    assert Wallet.objects.count() == 2
    assert {w.network for w in Wallet.objects.all()} == {"polygon", "ethereum"}
    # another organization's wallet on polygon is a 404
    stranger = make_user(organization=make_organization("Elsewhere"))
    theirs = wallet_create(user=stranger, name="theirs", wallet_type=WalletType.PRIVATE_KEY, network="polygon")
    assert call("get", f"/api/wallets/{theirs.pk}/").status_code == 404
    assert call("get", f"/api/transactions/?wallet_id={theirs.pk}&network=polygon").json()["items"] == []


def test_the_create_page_offers_the_networks_and_creates_on_the_chosen_one(multi, make_user, client):
    user = make_user()
    client.force_login(user)
    page = client.get("/app/wallets/new/")
    assert page.status_code == 200
    for name in ("ethereum", "polygon", "bsc"):
        assert f'value="{name}"' in page.content.decode()
    address = Account.create().address
    created = client.post("/app/wallets/new/", {"name": "Watched", "mode": "watch", "wallet_type": "MetaMask",
                                                "address": address, "network": "bsc"})
    assert created.status_code == 302
    assert Wallet.objects.get(address=address).network == "bsc"
    refused = client.post("/app/wallets/new/", {"name": "Bad", "mode": "watch", "wallet_type": "MetaMask",
                                                "address": Account.create().address, "network": "solana"})
    assert refused.status_code == 422 and "Unknown network" in refused.content.decode()
    assert Wallet.objects.count() == 1


# --- monitoring -------------------------------------------------------------------------------------------
def test_coins_received_on_polygon_are_recorded_once_on_polygon_only(multi, make_user, api):
    user = make_user()
    address_key = Account.create()
    on_polygon = wallet_create(user=user, name="poly", wallet_type=WalletType.METAMASK, address=address_key.address,
                               network="polygon")
    on_ethereum = wallet_create(user=user, name="eth", wallet_type=WalletType.METAMASK, address=address_key.address)
    monitor_scan()
    tx_hash = fund(multi["polygon"], on_polygon.address, "0.5")
    mine(multi["polygon"], 1)  # 2 blocks hold it: enough on ethereum, not on polygon (3)
    report = monitor_scan()
    assert report.recorded == 0 and not Transaction.objects.exists()
    mine(multi["polygon"], 1)
    report = monitor_scan()
    assert report.recorded == 1 and report.networks["polygon"].recorded == 1
    row = Transaction.objects.get()
    assert row.wallet_id == on_polygon.pk and row.network == "polygon" and row.hash == tx_hash
    assert row.cryptocurrency.symbol == "POL" and row.amount == Decimal("0.5") and row.direction == "in"
    assert row.external_id == f"chain:polygon:{tx_hash}:-1:{on_polygon.address}"
    assert not Transaction.objects.filter(wallet=on_ethereum).exists()
    mine(multi["polygon"], 3)
    assert monitor_scan().recorded == 0 and Transaction.objects.count() == 1  # never twice
    assert ChainCheckpoint.objects.filter(key="monitor:137").get().last_block >= row.block_number
    assert ChainCheckpoint.objects.filter(key=f"monitor:{django_settings.ETH_CHAIN_ID}").exists()
    assert not ChainCheckpoint.objects.filter(key="monitor:56").exists()  # no wallet there: not asked
    assert Wallet.objects.get(pk=on_polygon.pk).balance == Decimal("0.5")  # read from polygon's node
    assert Wallet.objects.get(pk=on_ethereum.pk).balance == 0

    call = api(user)
    listed = call("get", "/api/transactions/?network=polygon").json()["items"]
    assert [(item["id"], item["network"]) for item in listed] == [(str(row.pk), "polygon")]
    assert call("get", "/api/transactions/?network=ethereum").json()["items"] == []
    assert call("get", f"/api/transactions/{row.pk}/").json()["network"] == "polygon"
    unknown = call("get", "/api/transactions/?network=solana")
    assert unknown.status_code == 422 and code_of(unknown) == "unknown_network"


def test_one_hash_on_two_chains_makes_two_rows(multi, make_user):
    """A transaction signed without a chain id (pre-EIP-155) is valid on every chain: the same bytes,
    so the same hash, on ethereum and polygon. Each network's row has its own identity."""
    user = make_user()
    receiver = Account.create().address
    on_ethereum = wallet_create(user=user, name="eth", wallet_type=WalletType.METAMASK, address=receiver)
    on_polygon = wallet_create(user=user, name="poly", wallet_type=WalletType.METAMASK, address=receiver,
                               network="polygon")
    monitor_scan()
    replayable = Account.create()
    for url in (multi["ethereum"], multi["polygon"]):
        fund(url, replayable.address, "0.01")
    gas_price = max(w3_of(multi["ethereum"]).eth.gas_price, w3_of(multi["polygon"]).eth.gas_price) * 2
    signed = replayable.sign_transaction({"to": receiver, "value": Web3.to_wei(1, "gwei"), "gas": 21000,
                                          "gasPrice": gas_price, "nonce": 0})  # no chainId
    hashes = set()
    for url in (multi["ethereum"], multi["polygon"]):
        w3 = w3_of(url)
        sent = w3.eth.send_raw_transaction(signed.raw_transaction)
        assert w3.eth.wait_for_transaction_receipt(sent, timeout=30)["status"] == 1
        hashes.add(sent.to_0x_hex())
    assert len(hashes) == 1
    tx_hash = hashes.pop()
    mine(multi["ethereum"], 2)
    mine(multi["polygon"], 3)
    assert monitor_scan().recorded == 2
    rows = {row.network: row for row in Transaction.objects.filter(hash=tx_hash)}
    assert set(rows) == {"ethereum", "polygon"}
    assert rows["ethereum"].wallet_id == on_ethereum.pk and rows["polygon"].wallet_id == on_polygon.pk
    assert rows["ethereum"].external_id == f"chain:{tx_hash}:-1:{receiver}"
    assert rows["polygon"].external_id == f"chain:polygon:{tx_hash}:-1:{receiver}"
    assert rows["ethereum"].cryptocurrency.symbol == "ETH" and rows["polygon"].cryptocurrency.symbol == "POL"
    assert monitor_scan().recorded == 0


def test_a_network_whose_node_is_down_does_not_stop_the_others(multi, make_user, settings):
    user = make_user()
    on_polygon = wallet_create(user=user, name="poly", wallet_type=WalletType.METAMASK,
                               address=Account.create().address, network="polygon")
    on_ethereum = wallet_create(user=user, name="eth", wallet_type=WalletType.METAMASK,
                                address=Account.create().address)
    monitor_scan()
    settings.POLYGON_RPC_URL = f"http://127.0.0.1:{localstack.free_port()}"  # nobody answers there
    tx_hash = chain.eth_send_from_dev_account(to=on_ethereum.address, amount_wei=chain.eth_to_wei(Decimal("0.2")))
    mine(multi["ethereum"], 1)
    report = monitor_scan()
    assert report.recorded == 1 and Transaction.objects.get().hash == tx_hash
    assert any(note.startswith("polygon: Unavailable") for note in report.notes), report.notes
    assert not Transaction.objects.filter(wallet=on_polygon).exists()


def test_a_token_transfer_on_polygon_is_recorded_with_its_log_on_polygon(multi, make_user):
    """Tokens are looked for on their own network (Cryptocurrency.network): a polygon token's Transfer
    log is recorded once on the polygon wallet; the ethereum wallet of the same address gets nothing."""
    artifact = json.loads(ARTIFACT.read_text())
    w3 = w3_of(multi["polygon"])
    owner = dev_account(3)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])

    def sign_and_send(transaction):
        signed = owner.sign_transaction(transaction)
        receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction), timeout=30)
        assert receipt["status"] == 1
        return receipt

    token_address = sign_and_send(factory.constructor("Polygon Dollar", "PUSD", 6).build_transaction({
        "from": owner.address, "nonce": w3.eth.get_transaction_count(owner.address, "pending"),
        "chainId": 137}))["contractAddress"]
    Cryptocurrency.objects.create(symbol="PUSD", name="Polygon Dollar", contract_address=token_address, decimals=6,
                                  network="polygon")
    user = make_user()
    holder = Account.create().address
    on_polygon = wallet_create(user=user, name="poly", wallet_type=WalletType.METAMASK, address=holder,
                               network="polygon")
    on_ethereum = wallet_create(user=user, name="eth", wallet_type=WalletType.METAMASK, address=holder)
    monitor_scan()
    minted = sign_and_send(erc20_contract(w3, token_address).functions.mint(holder, 1_250_000).build_transaction({
        "from": owner.address, "nonce": w3.eth.get_transaction_count(owner.address, "pending"), "chainId": 137}))
    mine(multi["polygon"], 2)
    assert monitor_scan().recorded == 1
    row = Transaction.objects.get()
    log_index = minted["logs"][0]["logIndex"]
    assert row.wallet_id == on_polygon.pk and row.network == "polygon" and row.cryptocurrency.symbol == "PUSD"
    assert row.amount == Decimal("1.25") and row.log_index == log_index
    assert row.external_id == f"chain:polygon:{minted['transactionHash'].to_0x_hex()}:{log_index}:{holder}"
    assert not Transaction.objects.filter(wallet=on_ethereum).exists()
    assert monitor_scan().recorded == 0


def test_rows_written_into_a_polygon_wallet_carry_its_network(multi, make_user):
    """Imported rows (bulk-written) and a manual row take their wallet's network."""
    user = make_user()
    wallet = wallet_create(user=user, name="poly", wallet_type=WalletType.METAMASK,
                           address=Account.create().address, network="polygon")
    text = "\n".join([
        "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
        "Net Worth Amount,Net Worth Currency,Label,Description,TxHash",
        "2025-01-10 10:00:00,1000,USD,0.5,ETH,,,,,,Bought,0xaaa",
        "2025-02-01 09:30:00,0.2,ETH,700,USD,,,,,,Sold,0xbbb",
    ]) + "\n"
    assert transactions_import_universal(user=user, text=text, wallet=wallet).created == 2
    assert set(Transaction.objects.filter(wallet=wallet).values_list("network", flat=True)) == {"polygon"}
    manual = transaction_create(actor=user, wallet=wallet, asset="ETH", transaction_type="BUY",
                                amount=Decimal("1"), transaction_date=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
                                price_at_transaction=Decimal("2000"))
    assert Transaction.objects.get(pk=manual.pk).network == "polygon"


# --- sends ------------------------------------------------------------------------------------------------
@pytest.fixture
def polygon_payer(multi, make_user):
    user = make_user(role=Role.MANAGER)
    wallet = wallet_create(user=user, name="treasury", wallet_type=WalletType.PRIVATE_KEY, network="polygon")
    fund(multi["polygon"], wallet.address, "2")
    wallet_monitoring_enable(wallet=wallet)
    return user, wallet, approved_session(user)


def test_a_send_on_polygon_is_signed_for_chain_137_and_confirms_there(multi, polygon_payer):
    user, wallet, session = polygon_payer
    to = Account.create().address
    with pytest.raises(InvalidInput) as not_there:  # ETH is not polygon's coin
        transfers.transfer_send(user=user, session=session, wallet=wallet, to=to, amount=Decimal("0.1"),
                                asset="ETH", idempotency_key="eth-on-polygon")
    assert not_there.value.code == "unknown_asset" and not OutgoingTransfer.objects.exists()

    sent, created = transfers.transfer_send(user=user, session=session, wallet=wallet, to=to,
                                            amount=Decimal("0.25"), asset="POL", idempotency_key="pay-1")
    assert created and sent.status == TransferStatus.BROADCAST
    assert sent.chain_id == 137 and sent.network == "polygon"
    assert sent.sender == f"137:{wallet.address}" and sent.nonce_key == f"137:{wallet.address}:0"
    decoded = TypedTransaction.from_bytes(HexBytes(sent.signed_raw_transaction)).as_dict()
    assert decoded["chainId"] == 137 and decoded["to"] == bytes.fromhex(to[2:]) and decoded["nonce"] == 0
    assert Account.recover_transaction(sent.signed_raw_transaction) == wallet.address
    assert w3_of(multi["polygon"]).eth.get_balance(to) == Web3.to_wei(Decimal("0.25"), "ether")
    assert chain.web3_client().eth.get_balance(to) == 0  # nothing left on ethereum
    pending = Transaction.objects.get()
    assert pending.network == "polygon" and pending.status == "PENDING"
    assert pending.external_id == f"chain:polygon:{sent.tx_hash}:-1:{wallet.address}"

    mine(multi["polygon"], 1)  # 2 blocks: not yet polygon's 3
    assert sends_reconcile().settled == 0
    mine(multi["polygon"], 1)
    report = sends_reconcile()
    assert report.settled == 1, report.as_dict()
    settled = OutgoingTransfer.objects.get(pk=sent.pk)
    assert settled.status == TransferStatus.CONFIRMED and settled.fee > 0
    row = Transaction.objects.get()
    assert row.status == "CONFIRMED" and row.network == "polygon" and row.fee == settled.fee
    monitor_scan()  # the monitor sees the same send on polygon: no second row (and records the funding)
    assert list(Transaction.objects.filter(direction="out").values_list("pk", flat=True)) == [row.pk]
    funding = Transaction.objects.get(direction="in")
    assert funding.network == "polygon" and funding.amount == Decimal("2") and funding.cryptocurrency.symbol == "POL"

    again, created = transfers.transfer_send(user=user, session=session, wallet=wallet, to=to,
                                             amount=Decimal("0.25"), asset="POL", idempotency_key="pay-1")
    assert not created and again.pk == sent.pk  # the same intent, never a second payment
    second, _ = transfers.transfer_send(user=user, session=session, wallet=wallet, to=to, amount=Decimal("0.1"),
                                        asset="POL", idempotency_key="pay-2")
    assert second.nonce == 1 and second.nonce_key == f"137:{wallet.address}:1"


def test_nonces_are_per_network(multi, make_user):
    """One key on two networks: each chain's nonces count from its own node and records."""
    user = make_user(role=Role.MANAGER)
    key = Account.create()
    on_ethereum = wallet_create(user=user, name="eth", wallet_type=WalletType.PRIVATE_KEY,
                                private_key=key.key.to_0x_hex())
    on_polygon = wallet_create(user=user, name="poly", wallet_type=WalletType.PRIVATE_KEY,
                               private_key=key.key.to_0x_hex(), network="polygon")
    chain.eth_send_from_dev_account(to=key.address, amount_wei=chain.eth_to_wei(Decimal("1")))
    fund(multi["polygon"], key.address, "1")
    session = approved_session(user)
    to = Account.create().address
    first_eth, _ = transfers.transfer_send(user=user, session=session, wallet=on_ethereum, to=to,
                                           amount=Decimal("0.1"), idempotency_key="e1")
    second_eth, _ = transfers.transfer_send(user=user, session=session, wallet=on_ethereum, to=to,
                                            amount=Decimal("0.1"), idempotency_key="e2")
    first_poly, _ = transfers.transfer_send(user=user, session=session, wallet=on_polygon, to=to,
                                            amount=Decimal("0.1"), asset="POL", idempotency_key="p1")
    assert (first_eth.nonce, second_eth.nonce, first_poly.nonce) == (0, 1, 0)
    assert first_eth.chain_id == int(django_settings.ETH_CHAIN_ID) and first_poly.chain_id == 137
    assert first_eth.network == "ethereum" and first_poly.network == "polygon"
    with pytest.raises(InvalidInput) as not_there:  # polygon's coin is not sent from the ethereum wallet
        transfers.transfer_send(user=user, session=session, wallet=on_ethereum, to=to, amount=Decimal("0.1"),
                                asset="POL", idempotency_key="pol-on-ethereum")
    assert not_there.value.code == "unknown_asset" and OutgoingTransfer.objects.count() == 3


def test_the_reconciler_fills_a_nonce_gap_on_polygon(multi, polygon_payer, monkeypatch):
    user, wallet, session = polygon_payer
    w3 = w3_of(multi["polygon"])
    base = w3.eth.get_transaction_count(wallet.address)
    real_next_nonce = transfers.next_nonce
    monkeypatch.setattr(transfers, "next_nonce",
                        lambda w3, address, *chain_id: real_next_nonce(w3, address, *chain_id) + 1)
    to = Account.create().address
    waiting, _ = transfers.transfer_send(user=user, session=session, wallet=wallet, to=to, amount=Decimal("0.1"),
                                         asset="POL", idempotency_key="after-the-gap")
    monkeypatch.undo()
    assert waiting.nonce == base + 1 and waiting.chain_id == 137
    mine(multi["polygon"], 3)
    assert w3.eth.get_balance(to) == 0  # waits behind the hole

    report = sends_reconcile()
    assert report.fillers == 1, report.as_dict()
    filler = OutgoingTransfer.objects.get(kind=TransferKind.NONCE_FILLER)
    assert (filler.nonce, filler.chain_id, filler.network, filler.to_address, filler.amount) == (
        base, 137, "polygon", wallet.address, 0)
    assert TypedTransaction.from_bytes(HexBytes(filler.signed_raw_transaction)).as_dict()["chainId"] == 137
    assert filler.cryptocurrency.symbol == "POL"
    mine(multi["polygon"], 3)
    sends_reconcile()
    assert w3.eth.get_transaction_count(wallet.address) == base + 2
    assert w3.eth.get_balance(to) == Web3.to_wei(Decimal("0.1"), "ether")
    assert set(OutgoingTransfer.objects.values_list("status", flat=True)) == {TransferStatus.CONFIRMED}
    assert sends_reconcile().fillers == 0
    assert chain.web3_client().eth.get_transaction_count(wallet.address) == 0  # ethereum untouched


def test_a_contract_call_on_polygon_settles_through_the_reconciler(multi, polygon_payer, settings):
    """Write calls (kind CONTRACT_CALL) on any network are the reconciler's: no job of their own."""
    assert "contract_calls_refresh" not in JOBS and "sends_reconcile" in JOBS
    user, wallet, session = polygon_payer
    polygon = networks.network_get("polygon")
    target = Account.create().address  # a call with data to an account without code succeeds
    call, created = transfers.contract_call_send(user=user, session=session, wallet=wallet, network=polygon,
                                                 to=target, data=bytes.fromhex("deadbeef"), value_wei=7,
                                                 function="poke()", idempotency_key="poke-1")
    assert created and call.kind == TransferKind.CONTRACT_CALL and call.chain_id == 137
    assert call.status == TransferStatus.BROADCAST
    lost = OutgoingTransfer.objects.get(pk=call.pk)
    mine(multi["polygon"], 3)
    report = sends_reconcile()
    assert report.settled == 1 and report.senders == 1, report.as_dict()
    settled = OutgoingTransfer.objects.get(pk=lost.pk)
    assert settled.status == TransferStatus.CONFIRMED and settled.block_number is not None
    assert w3_of(multi["polygon"]).eth.get_balance(target) == 7


def test_the_reconciler_goes_on_when_a_network_is_down(multi, polygon_payer, settings):
    user, wallet, session = polygon_payer
    sent, _ = transfers.transfer_send(user=user, session=session, wallet=wallet, to=Account.create().address,
                                      amount=Decimal("0.1"), asset="POL", idempotency_key="down-1")
    good = settings.POLYGON_RPC_URL
    settings.POLYGON_RPC_URL = f"http://127.0.0.1:{localstack.free_port()}"
    report = sends_reconcile()  # ethereum still reconciled; polygon noted, its send left as it was
    assert any(note.startswith("polygon:") for note in report.notes), report.notes
    assert OutgoingTransfer.objects.get(pk=sent.pk).status == TransferStatus.BROADCAST
    settings.POLYGON_RPC_URL = good
    mine(multi["polygon"], 3)
    assert sends_reconcile().settled == 1


# --- make run: the stand-in nodes -------------------------------------------------------------------------
def test_runstack_starts_a_stand_in_per_network_unless_the_operator_set_its_url(tmp_path, settings, monkeypatch):
    said = []
    supervisor = localstack.Supervisor(said.append)
    polygon_port = localstack.free_port()
    settings.POLYGON_RPC_URL, settings.BSC_RPC_URL = "", "http://bsc.example.test:8545"
    settings.POLYGON_CHAIN_ID = 137
    monkeypatch.setenv("EMBEDDED_POLYGON_PORT", str(polygon_port))
    monkeypatch.delenv("POLYGON_RPC_URL", raising=False)
    monkeypatch.setenv("BSC_RPC_URL", "http://bsc.example.test:8545")
    command = runstack.Command()
    try:
        command._start_stand_in_chains(supervisor, tmp_path / "data", tmp_path / "log")
        url = f"http://127.0.0.1:{polygon_port}"
        assert localstack.eth_chain_id(url) == 137
        assert os.environ["POLYGON_RPC_URL"] == url and settings.POLYGON_RPC_URL == url
        assert [child.name for child in supervisor.children] == ["anvil polygon"]  # bsc: the operator's node
        assert "supervisor: anvil polygon running" in said[0]
        assert (tmp_path / "log" / "anvil-polygon.log").exists()
    finally:
        supervisor.stop_all()
        os.environ.pop("POLYGON_RPC_URL", None)


def test_runstack_refuses_a_bad_stand_in_port(tmp_path, settings, monkeypatch):
    settings.POLYGON_RPC_URL = ""
    monkeypatch.delenv("POLYGON_RPC_URL", raising=False)
    monkeypatch.setenv("EMBEDDED_POLYGON_PORT", "eighty")
    supervisor = localstack.Supervisor(lambda message: None)
    with pytest.raises(runstack.CommandError, match="EMBEDDED_POLYGON_PORT must be a port number"):
        runstack.Command()._start_stand_in_chains(supervisor, tmp_path, tmp_path)
    assert supervisor.children == []


def test_status_and_gas_estimate_ask_the_named_network(multi, polygon_payer, api):
    """`/api/blockchain/transaction-status/{hash}/?network=polygon` and `/estimate-gas/?network=polygon`
    read polygon's node (its confirmations; its coin), the default node without the parameter, and an
    unknown network is a 422 naming the choices."""
    user, wallet, session = polygon_payer
    call = api(user)
    to = Account.create().address
    sent, _ = transfers.transfer_send(user=user, session=session, wallet=wallet, to=to, amount=Decimal("0.1"),
                                      asset="POL", idempotency_key="status-1")
    on_polygon = call("get", f"/api/blockchain/transaction-status/{sent.tx_hash}/?network=polygon")
    assert on_polygon.status_code == 200, on_polygon.content
    body = on_polygon.json()
    assert body["status"] == "pending" and body["required_confirmations"] == 3 and body["confirmations"] == 1
    assert call("get", f"/api/blockchain/transaction-status/{sent.tx_hash}/").status_code == 404  # not on ethereum
    mine(multi["polygon"], 2)
    assert call("get", f"/api/blockchain/transaction-status/{sent.tx_hash}/?network=polygon").json()["status"] == \
        "confirmed"
    assert OutgoingTransfer.objects.get(pk=sent.pk).status == TransferStatus.CONFIRMED  # settled by the read
    unknown = call("get", f"/api/blockchain/transaction-status/{sent.tx_hash}/?network=solana")
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_network"

    estimate = call("get", f"/api/blockchain/estimate-gas/?from_address={wallet.address}&to={to}&amount=0.1"
                           f"&asset=POL&network=polygon")
    assert estimate.status_code == 200, estimate.content
    assert estimate.json()["gas_limit"] == 21000 and set(estimate.json()["tiers"]) == {"slow", "normal", "fast"}
    wrong_coin = call("get", f"/api/blockchain/estimate-gas/?from_address={wallet.address}&to={to}&amount=0.1"
                             f"&asset=ETH&network=polygon")
    assert wrong_coin.status_code == 422 and wrong_coin.json()["error"]["code"] == "unknown_asset"


def test_invoices_and_payroll_refuse_a_wallet_of_another_network(multi, make_user, api):
    """Invoices paid in crypto and payroll payouts are built for the default network's assets, rates
    and gas: a polygon wallet is refused with 422 network_not_supported before anything is written."""
    from invoicing.models import Invoice

    manager = make_user(role=Role.MANAGER)
    wallet = wallet_create(user=manager, name="polygon treasury", wallet_type=WalletType.PRIVATE_KEY,
                           network="polygon")
    call = api(manager)
    response = call("post", "/api/invoices/", {
        "client_name": "Globex", "items": [{"description": "work", "quantity": "1", "unit_price": "100"}],
        "payment_wallet_id": str(wallet.pk), "crypto_currency": "ETH"})
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "network_not_supported"
    assert response.json()["error"]["details"] == {"network": "polygon", "supported": ["ethereum"]}
    assert not Invoice.objects.exists()

    from payroll.services import crypto_payouts
    with pytest.raises(InvalidInput) as refused:
        crypto_payouts.payout_wallet_resolve(actor=manager, organization_id=manager.organization_id, wallet_id=wallet.pk)
    assert refused.value.code == "network_not_supported"
