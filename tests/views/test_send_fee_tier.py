"""The fee tier chosen for a send (issue 11): slow / normal / fast from the node's fee history, in the
send API's body and the send form. The chosen tier's tip is the one the stored bytes are signed with;
the tier is not part of the request's identity (a repeat returns the stored bytes); an unknown tier is
a 422 and nothing is stored. On a real anvil node whose recent blocks paid different tips."""

import re
from decimal import Decimal

import pytest
from eth_account import Account

from accounts.sessions import session_approve, session_login
from wallets import chain
from wallets.models import Cryptocurrency, OutgoingTransfer, WalletType
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Passw0rd!long"
GWEI = 10 ** 9


def _send_with_tip(tip_gwei: int) -> None:
    """A dev account's transfer paying `tip_gwei`, mined in a block of its own (as
    tests/wallets/test_chain_confirms.py does to make the tiers differ)."""
    w3 = chain.web3_client()
    sender = chain.dev_account(1)
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    signed = sender.sign_transaction({
        "to": Account.create().address, "value": 1, "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "gas": 21000, "maxFeePerGas": 2 * base + tip_gwei * GWEI, "maxPriorityFeePerGas": tip_gwei * GWEI,
        "chainId": 31337, "type": 2})
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction), timeout=60)


@pytest.fixture
def busy_chain(eth_node):
    """Most of the fee-history window holds blocks of different tips (2 to 50 gwei)."""
    for tip in (2, 3, 5, 8, 13, 21, 34, 40, 4, 15, 6, 25, 30, 50):
        _send_with_tip(tip)


@pytest.fixture
def api_sender(make_user, eth_node, client):
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "decimals": 18})
    user = make_user()
    _, session, tokens = session_login(login=user.username, password=PASSWORD, ip=None)
    session_approve(session=session, password=PASSWORD, ip=None)
    wallet = wallet_create(user=user, name="hot", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("2")))

    def send(key, **body):
        payload = {"wallet_id": str(wallet.pk), "to": Account.create().address, "amount": "0.01", **body}
        return client.post("/api/blockchain/send-eth/", payload, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}", HTTP_IDEMPOTENCY_KEY=key)

    return user, wallet, send


def test_fast_tier_signs_a_higher_tip_than_slow(busy_chain, api_sender):
    _, _, send = api_sender
    slow = send("tier-slow", fee_tier="slow")
    fast = send("tier-fast", fee_tier="fast")
    default = send("tier-default")
    assert slow.status_code == fast.status_code == default.status_code == 201, (slow.content, fast.content)
    slow_row = OutgoingTransfer.objects.get(tx_hash=slow.json()["tx_hash"])
    fast_row = OutgoingTransfer.objects.get(tx_hash=fast.json()["tx_hash"])
    normal_row = OutgoingTransfer.objects.get(tx_hash=default.json()["tx_hash"])
    assert slow_row.max_priority_fee_per_gas < normal_row.max_priority_fee_per_gas < fast_row.max_priority_fee_per_gas
    # the stored signed bytes carry the tier's tip (decode them: what the node was given)
    w3 = chain.web3_client()
    for row in (slow_row, fast_row):
        on_chain = w3.eth.get_transaction(row.tx_hash)
        assert on_chain["maxPriorityFeePerGas"] == row.max_priority_fee_per_gas


def test_a_repeat_keeps_the_stored_bytes_whatever_tier_it_names(busy_chain, api_sender):
    _, wallet, send = api_sender
    to = Account.create().address
    first = send("tier-repeat", fee_tier="slow", to=to)
    stored = OutgoingTransfer.objects.get()
    again = send("tier-repeat", fee_tier="fast", to=to)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["tx_hash"] == first.json()["tx_hash"] and OutgoingTransfer.objects.count() == 1
    assert OutgoingTransfer.objects.get().signed_raw_transaction == stored.signed_raw_transaction


@pytest.mark.parametrize("tier", ["turbo", "", "FAST"])
def test_an_unknown_tier_is_a_422_and_nothing_is_signed(api_sender, tier):
    _, _, send = api_sender
    response = send("tier-bad", fee_tier=tier)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_fee_tier"
    assert not OutgoingTransfer.objects.exists()


def test_the_send_form_offers_the_tiers_and_sends_at_the_chosen_one(busy_chain, client, make_user):
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "decimals": 18})
    owner = make_user()
    wallet = wallet_create(user=owner, name="hot", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("1")))
    assert client.post("/app/login/", {"username": owner.username, "password": PASSWORD}).status_code == 302
    page = client.get(f"/app/wallets/{wallet.pk}/").content.decode()
    assert 'id="send-fee-tier"' in page and all(f'value="{name}"' in page for name in ("slow", "normal", "fast"))
    to = Account.create().address
    gas = client.get(f"/app/wallets/{wallet.pk}/gas/", {"to": to, "amount": "0.1", "fee_tier": "fast"}).content.decode()
    assert re.search(r'class="gas-tier bo-selected" data-tier="fast"', gas)

    def post(tier, key):
        return client.post(f"/app/wallets/{wallet.pk}/send/", {
            "asset": "ETH", "amount": "0.01", "to": to, "fee_tier": tier, "idempotency_key": key,
            "password": PASSWORD}, HTTP_HX_REQUEST="true")

    bad = post("warp", "form-bad")
    assert bad.status_code == 200 and "The fee tier must be one of slow, normal, fast." in bad.content.decode()
    assert not OutgoingTransfer.objects.exists()
    assert post("slow", "form-slow").status_code == 200
    assert post("fast", "form-fast").status_code == 200
    slow = OutgoingTransfer.objects.get(idempotency_key=f"{owner.pk}:form-slow")
    fast = OutgoingTransfer.objects.get(idempotency_key=f"{owner.pk}:form-fast")
    assert fast.max_priority_fee_per_gas > slow.max_priority_fee_per_gas
