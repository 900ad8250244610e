"""Wallet creation keeps the key encrypted; the admin never shows it."""

import pytest
from eth_utils import is_checksum_address

from wallets.keystore import private_key_decrypt
from wallets.models import Wallet
from core.jsonapi.errors import ApiError
from wallets.models import WalletType
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db


def test_new_wallet_has_checksum_address_and_encrypted_key(make_user):
    from eth_account import Account

    wallet = wallet_create(user=make_user(), name="Ops", wallet_type=WalletType.PRIVATE_KEY)
    assert is_checksum_address(wallet.address)
    key = private_key_decrypt(wallet.encrypted_private_key)
    assert Account.from_key(key).address == wallet.address
    assert key not in wallet.encrypted_private_key and key[2:] not in wallet.encrypted_private_key


def test_wallet_limit_is_enforced(make_user):
    user = make_user(max_wallets=2)
    wallet_create(user=user, name="a", wallet_type=WalletType.PRIVATE_KEY)
    wallet_create(user=user, name="b", wallet_type=WalletType.PRIVATE_KEY)
    with pytest.raises(ApiError, match="maximum"):
        wallet_create(user=user, name="c", wallet_type=WalletType.PRIVATE_KEY)
    assert Wallet.objects.filter(user=user).count() == 2


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_wallet_needs_a_sensible_name(make_user, name):
    with pytest.raises(ApiError):
        wallet_create(user=make_user(), name=name, wallet_type=WalletType.PRIVATE_KEY)


def test_admin_pages_never_show_the_key(client, make_user):
    admin_user = make_user(role="ADMIN", is_superuser=True)
    wallet = wallet_create(user=make_user(), name="Treasury", wallet_type=WalletType.PRIVATE_KEY)
    key = private_key_decrypt(wallet.encrypted_private_key)
    client.force_login(admin_user)
    pages = [
        client.get(f"/admin/wallets/wallet/{wallet.pk}/change/"),
        client.get("/admin/wallets/wallet/"),
        client.get(f"/admin/wallets/wallet/?q={wallet.address}"),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert wallet.encrypted_private_key not in html
        assert '"ciphertext"' not in html and "wrapped_key" not in html
        assert key not in html and key[2:] not in html
    assert wallet.address in pages[0].content.decode()
