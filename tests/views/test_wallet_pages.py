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
