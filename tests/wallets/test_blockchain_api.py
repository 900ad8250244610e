"""/api/blockchain/ on a real anvil node: sends that need an approved session and happen once per
Idempotency-Key, ERC-20 sends, transaction status with the fee paid, and gas estimates."""

from decimal import Decimal

import pytest
from eth_account import Account

from accounts.sessions import session_approve, session_login
from wallets import chain
from wallets.erc20 import erc20_balance, erc20_deploy_demo_token, erc20_mint_demo
from wallets.models import Cryptocurrency, OutgoingTransfer, Transaction, TransferStatus, WalletType
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Passw0rd!long"


@pytest.fixture(scope="session")
def token_address(eth_node, django_db_blocker):
    with django_db_blocker.unblock():
        return erc20_deploy_demo_token(name="Test Dollar", symbol="TUSD", decimals=6)


@pytest.fixture
def sender(make_user, eth_node, client):
    """A user with an approved API session and a Private Key wallet holding 2 ETH."""
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "current_price": Decimal("2500")})
    user = make_user()
    _, session, tokens = session_login(login=user.username, password=PASSWORD, ip=None)
    wallet = wallet_create(user=user, name="hot", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("2")))

    def call(path, data, key=None, approve=True):
        if approve and not session.is_approved:
            session_approve(session=session, password=PASSWORD, ip=None)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens.access_token}"}
        if key:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        return client.post(path, data, content_type="application/json", **headers)

    def get(path):
        return client.get(path, HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}")

    return user, wallet, call, get


def code_of(response):
    return response.json()["error"]["code"]


def test_unapproved_session_cannot_send(sender):
    _, wallet, call, _ = sender
    response = call("/api/blockchain/send-eth/", {"wallet_id": str(wallet.pk), "to": Account.create().address,
                                                  "amount": "0.1"}, key="k1", approve=False)
    assert response.status_code == 403 and code_of(response) == "session_not_approved"
    assert not OutgoingTransfer.objects.exists()


def test_send_eth_once_per_idempotency_key(sender):
    _, wallet, call, get = sender
    to = Account.create().address
    body = {"wallet_id": str(wallet.pk), "to": to, "amount": "0.5"}
    first = call("/api/blockchain/send-eth/", body, key="pay-1")
    assert first.status_code == 201, first.content
    transfer = OutgoingTransfer.objects.get()
    assert transfer.status == TransferStatus.BROADCAST and transfer.signed_raw_transaction.startswith("0x")
    assert chain.eth_balance(to) == Decimal("0.5")
    pending = Transaction.objects.get(hash=transfer.tx_hash)
    assert pending.status == "PENDING" and pending.amount == Decimal("0.5")

    again = call("/api/blockchain/send-eth/", body, key="pay-1")
    assert again.status_code == 200 and again.json()["tx_hash"] == first.json()["tx_hash"]
    assert chain.eth_balance(to) == Decimal("0.5") and OutgoingTransfer.objects.count() == 1

    different = call("/api/blockchain/send-eth/", {**body, "amount": "0.6"}, key="pay-1")
    assert different.status_code == 409 and code_of(different) == "idempotency_key_reused"

    # One notion of status (issue 11): PENDING until ETH_CONFIRMATIONS blocks hold it, with the count.
    status = get(f"/api/blockchain/transaction-status/{transfer.tx_hash}/").json()
    assert status["status"] == "pending" and status["confirmations"] == 1 and status["required_confirmations"] == 3
    assert Transaction.objects.get(hash=transfer.tx_hash).status == "PENDING"
    chain.web3_client().provider.make_request("anvil_mine", ["0x2"])
    status = get(f"/api/blockchain/transaction-status/{transfer.tx_hash}/").json()
    assert status["status"] == "confirmed" and status["confirmations"] == 3
    row = Transaction.objects.get(hash=transfer.tx_hash)  # the stored row agrees, with the fee paid
    assert row.status == "CONFIRMED" and row.block_number == status["block_number"]
    assert row.gas_fee == Decimal(status["fee_eth"])
    assert OutgoingTransfer.objects.get().status == TransferStatus.CONFIRMED
    assert Decimal(status["fee_eth"]) == Decimal(status["gas_used"] * status["effective_gas_price"]).scaleb(-18)
    assert get(f"/api/blockchain/transaction/{transfer.tx_hash}/").json()["nonce"] == transfer.nonce


def test_consecutive_sends_get_consecutive_nonces(sender):
    _, wallet, call, _ = sender
    nonces = []
    for n in range(3):
        response = call("/api/blockchain/send-eth/", {"wallet_id": str(wallet.pk), "to": Account.create().address,
                                                      "amount": "0.01"}, key=f"batch-{n}")
        nonces.append(response.json()["nonce"])
    assert nonces == [nonces[0], nonces[0] + 1, nonces[0] + 2]


def test_more_than_the_balance_is_refused_and_nothing_is_signed(sender):
    _, wallet, call, _ = sender
    response = call("/api/blockchain/send-eth/", {"wallet_id": str(wallet.pk), "to": Account.create().address,
                                                  "amount": "2"}, key="too-much")
    assert response.status_code == 422 and code_of(response) == "insufficient_funds"
    assert "needed_eth" in response.json()["error"]["details"]
    assert not OutgoingTransfer.objects.exists()


@pytest.mark.parametrize("change, code", [
    ({"to": "0x123"}, "invalid_address"),
    ({"amount": "0.0000000000000000001"}, "invalid_amount"),
    ({"asset": "DOGE"}, "unknown_asset"),
])
def test_bad_send_requests(sender, change, code):
    _, wallet, call, _ = sender
    body = {"wallet_id": str(wallet.pk), "to": Account.create().address, "amount": "0.1", **change}
    response = call("/api/blockchain/send-eth/", body, key=f"bad-{code}")
    assert response.status_code == 422 and code_of(response) == code
    assert not OutgoingTransfer.objects.exists()


def test_missing_idempotency_key_and_watch_only_wallets(sender):
    user, wallet, call, _ = sender
    body = {"wallet_id": str(wallet.pk), "to": Account.create().address, "amount": "0.1"}
    assert code_of(call("/api/blockchain/send-eth/", body)) == "idempotency_key_required"
    watch = wallet_create(user=user, name="mm", wallet_type=WalletType.METAMASK, address=Account.create().address)
    response = call("/api/blockchain/send-eth/", {**body, "wallet_id": str(watch.pk)}, key="watch")
    assert response.status_code == 409 and code_of(response) == "watch_only_wallet"


def test_someone_elses_wallet_is_404(sender, make_user):
    _, _, call, _ = sender
    other_wallet = wallet_create(user=make_user(), name="theirs", wallet_type=WalletType.PRIVATE_KEY)
    response = call("/api/blockchain/send-eth/", {"wallet_id": str(other_wallet.pk), "to": Account.create().address,
                                                  "amount": "0.1"}, key="steal")
    assert response.status_code == 404


def test_send_erc20(sender, token_address):
    _, wallet, call, _ = sender
    Cryptocurrency.objects.create(name="Test Dollar", symbol="TUSD", contract_address=token_address, decimals=6)
    erc20_mint_demo(token_address=token_address, to=wallet.address, amount=Decimal("100"), decimals=6)
    to = Account.create().address
    response = call("/api/blockchain/send-eth/", {"wallet_id": str(wallet.pk), "to": to, "amount": "12.5",
                                                  "asset": "TUSD"}, key="token-1")
    assert response.status_code == 201, response.content
    assert erc20_balance(token_address=token_address, holder=to, decimals=6) == Decimal("12.5")
    too_much = call("/api/blockchain/send-eth/", {"wallet_id": str(wallet.pk), "to": to, "amount": "1000",
                                                  "asset": "TUSD"}, key="token-2")
    assert code_of(too_much) == "insufficient_funds"


def test_unknown_and_malformed_hashes(sender):
    _, _, _, get = sender
    assert get("/api/blockchain/transaction-status/0x" + "ab" * 32 + "/").status_code == 404
    assert get("/api/blockchain/transaction/0x1234/").status_code == 404


def test_gas_estimate_tiers(sender):
    from wallets.models import PriceQuote

    user, wallet, _, get = sender
    to = Account.create().address
    url = f"/api/blockchain/estimate-gas/?from_address={wallet.address}&to={to}&amount=0.1"
    unpriced = get(url).json()
    assert unpriced["fiat_currency"] == "USD" and unpriced["tiers"]["normal"]["cost_fiat"] is None
    PriceQuote.objects.create(symbol="ETH", fiat="USD", day=None, price=Decimal("2500"))
    PriceQuote.objects.create(symbol="ETH", fiat="EUR", day=None, price=Decimal("2300"))
    body = get(url).json()
    assert body["gas_limit"] == 21000
    slow, normal, fast = (body["tiers"][name] for name in ("slow", "normal", "fast"))
    assert slow["max_fee_per_gas"] <= normal["max_fee_per_gas"] <= fast["max_fee_per_gas"]
    assert Decimal(normal["cost_fiat"]) == (Decimal(normal["cost_eth"]) * 2500).quantize(Decimal("0.01"))
    bad = get(f"/api/blockchain/estimate-gas/?from_address={wallet.address}&to=0x12&amount=0.1")
    assert bad.status_code == 422
    type(user.organization).objects.filter(pk=user.organization_id).update(reporting_fiat="EUR")  # its price
    euro = get(url).json()
    assert euro["fiat_currency"] == "EUR"
    assert Decimal(euro["tiers"]["normal"]["cost_fiat"]) == (Decimal(euro["tiers"]["normal"]["cost_eth"]) * 2300).quantize(Decimal("0.01"))


def test_wallet_monitoring_endpoint(sender, make_user):
    _, wallet, call, _ = sender
    response = call("/api/blockchain/wallet-monitoring/", {"wallet_id": str(wallet.pk), "from_block": 1})
    assert response.status_code == 200 and response.json()["monitor_from_block"] == 1
    other = wallet_create(user=make_user(), name="theirs", wallet_type=WalletType.PRIVATE_KEY)
    assert call("/api/blockchain/wallet-monitoring/", {"wallet_id": str(other.pk)}).status_code == 404
