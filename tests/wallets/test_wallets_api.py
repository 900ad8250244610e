"""/api/wallets/ on a real anvil node: create/import/watch-only, limits under races, ownership,
EIP-191 proof, ERC-20 balances, monitoring, key rotation, and no key in any response."""

import base64
import threading
from decimal import Decimal

import pytest
from bson import ObjectId
from django.core.management import call_command
from django.db import connections
from eth_account import Account
from eth_account.messages import encode_defunct

from wallets import chain
from wallets.erc20 import erc20_deploy_demo_token, erc20_mint_demo
from wallets.keystore import envelope_key_id, private_key_decrypt
from wallets.models import Cryptocurrency, Transaction, Wallet, WalletType
from wallets.services import wallet_create
from core.errors import DomainError

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def as_user(client, access_token_for):
    def login(user):
        token = access_token_for(user)
        return lambda method, path, data=None: getattr(client, method)(
            path, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    return login


@pytest.fixture(scope="session")
def demo_token_address(eth_node, django_db_blocker):
    with django_db_blocker.unblock():
        return erc20_deploy_demo_token(name="Demo Dollar", symbol="DUSD", decimals=6)


def code_of(response):
    return response.json()["error"]["code"]


def test_create_generated_key_wallet_and_never_return_the_key(make_user, as_user):
    user = make_user()
    call = as_user(user)
    response = call("post", "/api/wallets/", {"name": "Ops", "wallet_type": "Private Key"})
    assert response.status_code == 201
    body = response.json()
    assert body["has_private_key"] is True and body["address"].startswith("0x")
    wallet = Wallet.objects.get(pk=body["id"])
    key = private_key_decrypt(wallet.encrypted_private_key)
    for page in (response, call("get", "/api/wallets/"), call("get", f"/api/wallets/{wallet.pk}/")):
        text = page.content.decode()
        assert key[2:] not in text and "encrypted_private_key" not in text and "ciphertext" not in text


def test_import_a_private_key(make_user, as_user):
    account = Account.create()
    call = as_user(make_user())
    response = call("post", "/api/wallets/", {"name": "Imported", "private_key": account.key.to_0x_hex()})
    assert response.status_code == 201 and response.json()["address"] == account.address
    assert account.key.to_0x_hex()[2:] not in response.content.decode()
    assert code_of(call("post", "/api/wallets/", {"name": "Bad", "private_key": "0x1234"})) == "invalid_private_key"
    other = Account.create()
    mismatch = call("post", "/api/wallets/", {"name": "Mismatch", "private_key": other.key.to_0x_hex(),
                                              "address": Account.create().address})
    assert code_of(mismatch) == "address_mismatch"


def test_watch_only_addresses_are_validated_and_checksummed(make_user, as_user):
    call = as_user(make_user())
    good = Account.create().address
    created = call("post", "/api/wallets/", {"name": "MM", "wallet_type": "MetaMask", "address": good.lower()})
    assert created.status_code == 201 and created.json()["address"] == good
    assert created.json()["has_private_key"] is False
    wrong_case = good[:2] + "".join(c.swapcase() if c.isalpha() else c for c in good[2:])
    if wrong_case != good and wrong_case[2:] not in (good[2:].lower(), good[2:].upper()):
        assert code_of(call("post", "/api/wallets/", {"name": "x", "wallet_type": "Hardware",
                                                      "address": wrong_case})) == "bad_checksum"
    for bad in ("0x123", "hello", "0x" + "g" * 40):
        assert code_of(call("post", "/api/wallets/", {"name": "x", "wallet_type": "Hardware", "address": bad})) \
            == "invalid_address"
    assert call("post", "/api/wallets/", {"name": "x", "wallet_type": "MetaMask"}).status_code == 422
    assert call("post", "/api/wallets/", {"name": "x", "wallet_type": "Paper"}).status_code == 422
    assert call("post", "/api/wallets/", {"name": "x", "wallet_type": "MetaMask", "address": good,
                                          "extra": 1}).status_code == 422
    duplicate = call("post", "/api/wallets/", {"name": "again", "wallet_type": "MetaMask", "address": good})
    assert duplicate.status_code == 409 and code_of(duplicate) == "address_taken"


def test_eleventh_wallet_is_refused(make_user, as_user):
    user = make_user()
    for n in range(10):
        wallet_create(user=user, name=f"w{n}", wallet_type=WalletType.PRIVATE_KEY)
    response = as_user(user)("post", "/api/wallets/", {"name": "w11"})
    assert response.status_code == 409 and code_of(response) == "wallet_limit_reached"
    assert Wallet.objects.filter(user=user).count() == 10


def test_wallet_limit_holds_when_creates_race(make_user):
    user = make_user(max_wallets=3)
    results = []
    barrier = threading.Barrier(6)

    def create(n):
        try:
            barrier.wait()
            results.append(wallet_create(user=user, name=f"r{n}", wallet_type=WalletType.PRIVATE_KEY).slot)
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r for r in results if isinstance(r, int)) == [0, 1, 2]
    assert results.count("wallet_limit_reached") == 3
    assert Wallet.objects.filter(user=user).count() == 3


def test_other_users_wallets_are_404(make_user, as_user):
    owner, stranger = make_user(), make_user()
    wallet = wallet_create(user=owner, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    monitoring = (wallet.monitoring_enabled, wallet.monitor_from_block)
    call = as_user(stranger)
    for method, path, data in [("get", f"/api/wallets/{wallet.pk}/", None),
                               ("put", f"/api/wallets/{wallet.pk}/", {"name": "stolen"}),
                               ("delete", f"/api/wallets/{wallet.pk}/", None),
                               ("get", f"/api/wallets/{wallet.pk}/balance/", None),
                               ("post", f"/api/wallets/{wallet.pk}/monitor/", {}),
                               ("get", f"/api/wallets/{ObjectId()}/", None),
                               ("get", "/api/wallets/xyz/", None)]:
        assert call(method, path, data).status_code == 404, (method, path)
    assert call("get", "/api/wallets/").json()["items"] == []
    wallet.refresh_from_db()
    assert wallet.name == "mine" and (wallet.monitoring_enabled, wallet.monitor_from_block) == monitoring


def test_update_and_delete(make_user, as_user):
    user = make_user()
    call = as_user(user)
    wallet = wallet_create(user=user, name="old", wallet_type=WalletType.PRIVATE_KEY)
    assert call("put", f"/api/wallets/{wallet.pk}/", {"name": "new", "is_active": False}).json()["name"] == "new"
    assert call("put", f"/api/wallets/{wallet.pk}/", {"address": "0x0"}).status_code == 422
    eth = Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    Transaction.objects.create(transaction_type="BUY", wallet=wallet, cryptocurrency=eth, amount=Decimal(1),
                               transaction_date="2026-01-01T00:00:00Z")
    refused = call("delete", f"/api/wallets/{wallet.pk}/")
    assert refused.status_code == 409 and code_of(refused) == "wallet_has_transactions"
    empty = wallet_create(user=user, name="empty", wallet_type=WalletType.PRIVATE_KEY)
    assert call("delete", f"/api/wallets/{empty.pk}/").status_code == 200
    assert wallet_create(user=user, name="reuses the slot", wallet_type=WalletType.PRIVATE_KEY).slot == empty.slot


def test_balance_reads_eth_and_tokens_from_the_node(make_user, as_user, eth_node, demo_token_address):
    user = make_user()
    wallet = wallet_create(user=user, name="funded", wallet_type=WalletType.PRIVATE_KEY)
    Cryptocurrency.objects.create(name="Demo Dollar", symbol="DUSD", contract_address=demo_token_address, decimals=6)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("1.25")))
    erc20_mint_demo(token_address=demo_token_address, to=wallet.address, amount=Decimal("1234.567891"), decimals=6)
    body = as_user(user)("get", f"/api/wallets/{wallet.pk}/balance/").json()
    assert Decimal(body["eth"]) == Decimal("1.25")
    assert body["tokens"] == [{"symbol": "DUSD", "contract_address": demo_token_address, "decimals": 6,
                               "balance": "1234.567891"}]
    wallet.refresh_from_db()
    assert wallet.balance == Decimal("1.25")


def test_balance_when_the_node_is_down_is_503(make_user, as_user, settings):
    from core import localstack

    user = make_user()
    wallet = wallet_create(user=user, name="w", wallet_type=WalletType.PRIVATE_KEY)
    settings.ETH_RPC_URL = f"http://127.0.0.1:{localstack.free_port()}"
    response = as_user(user)("get", f"/api/wallets/{wallet.pk}/balance/")
    assert response.status_code == 503 and code_of(response) == "chain_unavailable"


def test_monitoring_starts_at_the_current_block_or_a_given_one(make_user, as_user, eth_node):
    user = make_user()
    call = as_user(user)
    wallet = wallet_create(user=user, name="w", wallet_type=WalletType.PRIVATE_KEY)
    current = chain.web3_client().eth.block_number
    body = call("post", f"/api/wallets/{wallet.pk}/monitor/", {}).json()
    assert body["monitoring_enabled"] is True and body["monitor_from_block"] >= current
    assert call("post", f"/api/wallets/{wallet.pk}/monitor/", {"from_block": 3}).json()["monitor_from_block"] == 3
    assert call("post", f"/api/wallets/{wallet.pk}/monitor/", {"from_block": -1}).status_code == 422


def test_eip191_ownership_proof_for_watch_only_wallets(make_user, as_user):
    user = make_user()
    call = as_user(user)
    owner_key = Account.create()
    wallet = wallet_create(user=user, name="mm", wallet_type=WalletType.METAMASK, address=owner_key.address)
    assert code_of(call("post", f"/api/wallets/{wallet.pk}/verify-ownership/", {"signature": "0x00"})) == "no_challenge"
    message = call("post", f"/api/wallets/{wallet.pk}/challenge/").json()["message"]
    impostor = Account.sign_message(encode_defunct(text=message), Account.create().key).signature.to_0x_hex()
    assert code_of(call("post", f"/api/wallets/{wallet.pk}/verify-ownership/", {"signature": impostor})) == "wrong_signer"
    signature = Account.sign_message(encode_defunct(text=message), owner_key.key).signature.to_0x_hex()
    verified = call("post", f"/api/wallets/{wallet.pk}/verify-ownership/", {"signature": signature})
    assert verified.status_code == 200 and verified.json()["last_authenticated"] is not None
    replay = call("post", f"/api/wallets/{wallet.pk}/verify-ownership/", {"signature": signature})
    assert code_of(replay) == "no_challenge"
    assert code_of(call("post", f"/api/wallets/{wallet.pk}/verify-ownership/", {"signature": "zz"})) == "no_challenge"


def test_rotate_wallet_keys_rewraps_with_the_new_master_key(make_user, settings):
    user = make_user()
    wallets = [wallet_create(user=user, name=f"k{n}", wallet_type=WalletType.PRIVATE_KEY) for n in range(2)]
    keys = [private_key_decrypt(w.encrypted_private_key) for w in wallets]
    old_id, old_key = settings.KEY_ENCRYPTION_KEY_ID, settings.KEY_ENCRYPTION_KEY
    settings.KEY_ENCRYPTION_KEY_ID = "k2"
    settings.KEY_ENCRYPTION_KEY = base64.b64encode(b"n" * 32).decode()
    settings.KEY_ENCRYPTION_KEYS_RETIRED = [f"{old_id}:{old_key}"]
    call_command("rotate_wallet_keys", stdout=open("/dev/null", "w"))
    for wallet, key in zip(wallets, keys):
        wallet.refresh_from_db()
        assert envelope_key_id(wallet.encrypted_private_key) == "k2"
    settings.KEY_ENCRYPTION_KEYS_RETIRED = []  # the old key is gone: everything still decrypts
    assert [private_key_decrypt(Wallet.objects.get(pk=w.pk).encrypted_private_key) for w in wallets] == keys
