"""The wallets page and its balance refresh (HTMX) on a real anvil node."""

from decimal import Decimal

import pytest

from wallets import chain
from wallets.models import WalletType
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db


def test_wallet_page_lists_only_own_wallets(client, make_user):
    owner, stranger = make_user(), make_user()
    mine = wallet_create(user=owner, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    theirs = wallet_create(user=stranger, name="theirs", wallet_type=WalletType.PRIVATE_KEY)
    client.force_login(owner)
    html = client.get("/app/wallets/").content.decode()
    assert mine.address in html and theirs.address not in html
    assert client.post(f"/app/wallets/{theirs.pk}/balance/").status_code == 404


def test_books_roles_see_every_wallet_of_their_organization_with_its_owner(client, make_user, make_organization):
    owner = make_user(first_name="Olga", last_name="Owner")
    mine = wallet_create(user=owner, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    elsewhere = wallet_create(user=make_user(organization=make_organization("Globex")), name="far",
                              wallet_type=WalletType.PRIVATE_KEY)
    for reader in (make_user(role="MANAGER"), make_user(is_accountant=True)):
        client.force_login(reader)
        html = client.get("/app/wallets/").content.decode()
        assert mine.address in html and "Olga Owner" in html and elsewhere.address not in html
        assert client.post(f"/app/wallets/{elsewhere.pk}/balance/").status_code == 404


def test_balance_refresh_returns_the_updated_row(client, make_user, eth_node):
    owner = make_user()
    wallet = wallet_create(user=owner, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("0.3")))
    client.force_login(owner)
    response = client.post(f"/app/wallets/{wallet.pk}/balance/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith(f'<tr class="wallet-row" id="wallet-{wallet.pk}"')
    assert "0.3 ETH" in html


def test_balance_refresh_with_the_node_down_shows_an_error(client, make_user, settings):
    from core import localstack

    owner = make_user()
    wallet = wallet_create(user=owner, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    settings.ETH_RPC_URL = f"http://127.0.0.1:{localstack.free_port()}"
    client.force_login(owner)
    response = client.post(f"/app/wallets/{wallet.pk}/balance/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b'role="alert"' in response.content  # htmx swaps only 2xx
    plain = client.post(f"/app/wallets/{wallet.pk}/balance/")
    assert plain.status_code == 503 and b'role="alert"' in plain.content


def test_wallet_page_needs_login(client):
    assert client.get("/app/wallets/").status_code == 302


# --- issue 11: create, detail, receive, send, live balances, fee bump ------------------------------------

import re  # noqa: E402

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from eth_account import Account  # noqa: E402

from accounts.models import Notification, Role  # noqa: E402
from core.models import RealtimeEvent  # noqa: E402
from core.realtime import user_group  # noqa: E402
from wallets.models import Cryptocurrency, OutgoingTransfer, TransferStatus, Wallet  # noqa: E402
from wallets.monitoring import monitor_scan  # noqa: E402

PASSWORD = "Passw0rd!long"


def log_in(client, user):
    """A real browser login (a UserSession), as sends need one approved by password."""
    response = client.post("/app/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def mine(blocks):
    chain.web3_client().provider.make_request("anvil_mine", [hex(blocks)])


@pytest.fixture
def eth(db):
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "decimals": 18})


def form_key(html):
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)


def test_create_generates_a_key_that_is_never_shown(client, make_user, eth_node):
    owner = make_user()
    client.force_login(owner)
    assert 'id="wallet-new-form"' in client.get("/app/wallets/new/").content.decode()
    response = client.post("/app/wallets/new/", {"name": "Treasury", "mode": "generate"})
    wallet = Wallet.objects.get(name="Treasury")
    assert response.status_code == 302 and response["Location"] == f"/app/wallets/{wallet.pk}/"
    assert wallet.has_private_key and wallet.monitoring_enabled and wallet.monitor_from_block is not None
    html = client.get(response["Location"]).content.decode()
    assert wallet.address in html and wallet.encrypted_private_key not in html
    assert 'id="send-form"' in html  # the owner may send from a key wallet


def test_import_and_watch_only_with_errors_inline(client, make_user, eth_node):
    owner = make_user()
    client.force_login(owner)
    account = Account.create()
    imported = client.post("/app/wallets/new/", {"name": "Imported", "mode": "import",
                                                 "private_key": account.key.to_0x_hex()})
    assert imported.status_code == 302
    wallet = Wallet.objects.get(name="Imported")
    assert wallet.address == account.address and wallet.has_private_key
    missing = client.post("/app/wallets/new/", {"name": "No key", "mode": "import"})
    assert missing.status_code == 422 and "Paste the private key" in missing.content.decode()
    bad_key = client.post("/app/wallets/new/", {"name": "Bad", "mode": "import", "private_key": "0x1234"})
    assert bad_key.status_code == 422 and "Not a valid secp256k1 private key." in bad_key.content.decode()
    assert "0x1234" not in bad_key.content.decode()  # a key is never rendered back
    watched = Account.create().address
    checksum = client.post("/app/wallets/new/", {"name": "Watch", "mode": "watch", "wallet_type": "MetaMask",
                                                 "address": "0x" + watched[2:].swapcase()})
    assert checksum.status_code == 422 and "checksum" in checksum.content.decode()
    ok = client.post("/app/wallets/new/", {"name": "Watch", "mode": "watch", "wallet_type": "Hardware",
                                           "address": watched.lower()})
    wallet = Wallet.objects.get(name="Watch")
    assert ok.status_code == 302 and wallet.address == watched and not wallet.has_private_key
    html = client.get(f"/app/wallets/{wallet.pk}/").content.decode()
    assert "watch only" in html and 'id="send-form"' not in html
    taken = client.post("/app/wallets/new/", {"name": "Again", "mode": "watch", "wallet_type": "Hardware",
                                              "address": watched})
    assert taken.status_code == 409 and "already registered" in taken.content.decode()


def test_receive_shows_address_qr_and_eip681_uri(client, make_user, eth_node, eth, settings):
    owner = make_user()
    wallet = wallet_create(user=owner, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    client.force_login(owner)
    html = client.get(f"/app/wallets/{wallet.pk}/").content.decode()
    assert f"ethereum:{wallet.address}@{settings.ETH_CHAIN_ID}" in html and "<svg" in html
    fragment = client.get(f"/app/wallets/{wallet.pk}/receive/", {"asset": "ETH", "amount": "0.5"}).content.decode()
    assert f"ethereum:{wallet.address}@{settings.ETH_CHAIN_ID}?value=500000000000000000" in fragment
    bad = client.get(f"/app/wallets/{wallet.pk}/receive/", {"asset": "ETH", "amount": "-1"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "must be positive" in bad.content.decode()
    unknown = client.get(f"/app/wallets/{wallet.pk}/receive/", {"asset": "NOPE"})
    assert unknown.status_code == 422 and "not a tracked asset" in unknown.content.decode()


def test_gas_fragment_shows_three_tiers_with_their_wait(client, make_user, eth_node, eth):
    owner = make_user()
    wallet = wallet_create(user=owner, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("1")))
    client.force_login(owner)
    html = client.get(f"/app/wallets/{wallet.pk}/gas/", {"asset": "ETH", "amount": "0.1",
                                                         "to": Account.create().address}).content.decode()
    assert [m for m in re.findall(r'data-tier="(\w+)"', html)] == ["slow", "normal", "fast"]
    assert "Gas limit 21000" in html
    bad = client.get(f"/app/wallets/{wallet.pk}/gas/", {"amount": "0.1", "to": "0x123"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "Not an Ethereum address." in bad.content.decode()


def test_send_asks_for_the_password_sends_once_and_confirms_on_the_page(client, make_user, eth_node, eth, settings):
    settings.ETH_CONFIRMATIONS = 3
    owner = make_user()
    wallet = wallet_create(user=owner, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("1")))
    log_in(client, owner)
    page = client.get(f"/app/wallets/{wallet.pk}/").content.decode()
    assert 'id="send-password"' in page
    key, to = form_key(page), Account.create().address
    send = {"asset": "ETH", "amount": "0.25", "to": to, "idempotency_key": key}
    no_password = client.post(f"/app/wallets/{wallet.pk}/send/", send, HTTP_HX_REQUEST="true")
    assert no_password.status_code == 200 and "Enter your password to approve this send." in no_password.content.decode()
    wrong = client.post(f"/app/wallets/{wallet.pk}/send/", {**send, "password": "nope"})
    assert wrong.status_code == 401 and "Wrong password." in wrong.content.decode()
    assert not OutgoingTransfer.objects.exists()
    first = client.post(f"/app/wallets/{wallet.pk}/send/", {**send, "password": PASSWORD}, HTTP_HX_REQUEST="true")
    html = first.content.decode()
    transfer = OutgoingTransfer.objects.get()
    assert first.status_code == 200 and f'data-transfer-id="{transfer.pk}"' in html and 'hx-swap-oob="true"' in html
    assert form_key(html) != key  # a fresh form for the next send
    # a double click: the same form (same key) again sends nothing more
    again = client.post(f"/app/wallets/{wallet.pk}/send/", send, HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and OutgoingTransfer.objects.count() == 1
    assert chain.eth_balance(to) == Decimal("0.25")
    row = client.get(f"/app/wallets/transfers/{transfer.pk}/").content.decode()
    assert 'data-status="PENDING"' in row and 'hx-trigger="every 2s"' in row and "of 3 confirmations" in row
    mine(3)
    row = client.get(f"/app/wallets/transfers/{transfer.pk}/").content.decode()
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CONFIRMED and 'data-status="CONFIRMED"' in row and "every 2s" not in row
    wallet.refresh_from_db()
    assert wallet.balance == chain.eth_balance(wallet.address) < Decimal("0.75")
    assert RealtimeEvent.objects.filter(event_type="wallet.balance_changed", group=user_group(owner.pk)).exists()
    bump = client.post(f"/app/wallets/transfers/{transfer.pk}/fee-bump/", HTTP_HX_REQUEST="true")
    assert bump.status_code == 200 and "A CONFIRMED transfer cannot be bumped." in bump.content.decode()


def test_send_errors_are_inline_and_viewers_who_may_not_send_are_refused(client, make_user, eth_node, eth):
    owner = make_user()
    wallet = wallet_create(user=owner, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    log_in(client, owner)
    key = form_key(client.get(f"/app/wallets/{wallet.pk}/").content.decode())
    base = {"asset": "ETH", "amount": "0.1", "to": Account.create().address, "idempotency_key": key,
            "password": PASSWORD}
    bad_to = client.post(f"/app/wallets/{wallet.pk}/send/", {**base, "to": "0x" + base["to"][2:].swapcase()})
    assert bad_to.status_code == 422 and "checksum" in bad_to.content.decode()
    zero = client.post(f"/app/wallets/{wallet.pk}/send/", {**base, "amount": "0"})
    assert zero.status_code == 422 and "more than 0" in zero.content.decode()
    poor = client.post(f"/app/wallets/{wallet.pk}/send/", base)
    assert poor.status_code == 422 and "does not cover" in poor.content.decode()
    assert not OutgoingTransfer.objects.exists()
    accountant = make_user(is_accountant=True)
    client.force_login(accountant)
    assert client.get(f"/app/wallets/{wallet.pk}/").status_code == 200
    assert client.post(f"/app/wallets/{wallet.pk}/send/", base).status_code == 403


def test_monitor_records_balances_pushes_the_change_and_notifies_with_a_link(client, make_user, eth_node, eth,
                                                                             settings):
    settings.ETH_CONFIRMATIONS = 3
    owner = make_user()
    wallet = wallet_create(user=owner, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    monitor_scan()
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("0.4")))
    mine(3)
    report = monitor_scan()
    assert report.recorded == 1 and report.balances_recorded == 1
    wallet.refresh_from_db()
    assert wallet.balance == Decimal("0.4")
    events = RealtimeEvent.objects.filter(event_type="wallet.balance_changed")
    assert {e.payload["id"] for e in events} == {str(wallet.pk)}
    assert {e.group for e in events} == {user_group(owner.pk), f"org.{owner.organization_id}.books"}
    notification = Notification.objects.get(user=owner)
    assert notification.action_url == f"/app/wallets/{wallet.pk}/"
    client.force_login(owner)
    row = client.get(f"/app/wallets/{wallet.pk}/row/").content.decode()
    assert "0.4 ETH" in row and 'data-wallet-live="' in row and 'hx-trigger="wallet-changed"' in row


def test_wallet_list_links_create_and_detail_with_constant_queries(client, make_user, eth_node):
    owner = make_user(max_wallets=20)
    wallet_create(user=owner, name="w0", wallet_type=WalletType.PRIVATE_KEY)
    client.force_login(owner)
    with CaptureQueriesContext(connection) as few:
        html = client.get("/app/wallets/").content.decode()
    assert 'href="/app/wallets/new/"' in html
    for n in range(1, 8):
        wallet_create(user=owner, name=f"w{n}", wallet_type=WalletType.PRIVATE_KEY)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/app/wallets/").content.decode()
    assert len(many) == len(few) and html.count('class="wallet-row"') == 8


def test_another_organizations_wallet_pages_are_not_found(client, make_user, make_organization, eth_node):
    wallet = wallet_create(user=make_user(), name="mine", wallet_type=WalletType.PRIVATE_KEY)
    stranger = make_user(role=Role.MANAGER, organization=make_organization("Globex"))
    client.force_login(stranger)
    for method, suffix in (("get", ""), ("get", "row/"), ("get", "balances/"), ("get", "activity/"),
                           ("get", "receive/"), ("get", "gas/"), ("post", "send/")):
        assert getattr(client, method)(f"/app/wallets/{wallet.pk}/{suffix}").status_code == 404


def test_a_watched_address_is_proven_with_a_signed_challenge(client, make_user, eth_node):
    from eth_account.messages import encode_defunct

    owner, holder = make_user(), Account.create()
    client.force_login(owner)
    client.post("/app/wallets/new/", {"name": "Ledger device", "mode": "watch", "wallet_type": "Hardware",
                                      "address": holder.address})
    wallet = Wallet.objects.get(name="Ledger device")
    assert 'id="ownership-start"' in client.get(f"/app/wallets/{wallet.pk}/").content.decode()
    challenge = client.post(f"/app/wallets/{wallet.pk}/ownership/", {"action": "challenge"}, HTTP_HX_REQUEST="true")
    message = re.search(r'<pre class="bo-break" id="ownership-challenge">([^<]+)</pre>',
                        challenge.content.decode()).group(1)
    wrong = Account.create().sign_message(encode_defunct(text=message)).signature.to_0x_hex()
    refused = client.post(f"/app/wallets/{wallet.pk}/ownership/", {"signature": wrong})
    assert refused.status_code == 403 and "not signed by this wallet" in refused.content.decode()
    signature = holder.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
    proven = client.post(f"/app/wallets/{wallet.pk}/ownership/", {"signature": signature}, HTTP_HX_REQUEST="true")
    wallet.refresh_from_db()
    assert proven.status_code == 200 and 'id="ownership-proven"' in proven.content.decode()
    assert wallet.last_authenticated is not None
    again = client.post(f"/app/wallets/{wallet.pk}/ownership/", {"signature": signature})
    assert again.status_code == 400 and "Ask for a new challenge" in again.content.decode()
