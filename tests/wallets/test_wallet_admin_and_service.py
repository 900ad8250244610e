"""Wallet creation keeps the key encrypted; the admin never shows it; the ledger admins filter."""

import logging
from decimal import Decimal

import pytest
from django.utils import timezone
from eth_account import Account
from eth_utils import is_checksum_address

from core.errors import DomainError
from wallets.keystore import private_key_decrypt
from wallets.models import Cryptocurrency, Transaction, Wallet, WalletType
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db


def test_new_wallet_has_checksum_address_and_encrypted_key(make_user, caplog):
    caplog.set_level(logging.DEBUG)
    wallet = wallet_create(user=make_user(), name="Ops", wallet_type=WalletType.PRIVATE_KEY)
    assert is_checksum_address(wallet.address) and wallet.wallet_type == "Private Key"
    key = private_key_decrypt(wallet.encrypted_private_key)
    assert Account.from_key(key).address == wallet.address
    assert key not in wallet.encrypted_private_key and key[2:] not in wallet.encrypted_private_key
    assert key[2:] not in caplog.text and wallet.encrypted_private_key not in caplog.text
    assert not hasattr(wallet, "private_key")
    stored = Wallet.objects.get(pk=wallet.pk)
    assert stored.encrypted_private_key == wallet.encrypted_private_key and stored.address == wallet.address


def test_each_wallet_gets_its_own_key(make_user):
    user = make_user()
    first, second = (wallet_create(user=user, name=n, wallet_type=WalletType.PRIVATE_KEY) for n in ("a", "b"))
    assert first.address != second.address
    assert private_key_decrypt(first.encrypted_private_key) != private_key_decrypt(second.encrypted_private_key)


def test_wallet_limit_is_enforced(make_user):
    user = make_user(max_wallets=2)
    wallet_create(user=user, name="a", wallet_type=WalletType.PRIVATE_KEY)
    wallet_create(user=user, name="b", wallet_type=WalletType.PRIVATE_KEY)
    with pytest.raises(DomainError, match="maximum"):
        wallet_create(user=user, name="c", wallet_type=WalletType.PRIVATE_KEY)
    assert Wallet.objects.filter(user=user).count() == 2


def test_an_employee_awaiting_verification_gets_no_wallet(make_user):
    manager = make_user(role="MANAGER")
    with pytest.raises(DomainError, match="not verified"):
        wallet_create(user=make_user(manager=manager, is_verified_by_manager=False), name="Pay",
                      wallet_type=WalletType.PRIVATE_KEY)
    assert not Wallet.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_wallet_needs_a_sensible_name(make_user, name):
    with pytest.raises(DomainError):
        wallet_create(user=make_user(), name=name, wallet_type=WalletType.PRIVATE_KEY)


@pytest.mark.parametrize("role,superuser", [("ADMIN", True), ("MANAGER", False)])
def test_admin_pages_never_show_the_key(client, make_user, role, superuser):
    wallet = wallet_create(user=make_user(), name="Treasury", wallet_type=WalletType.PRIVATE_KEY)
    key = private_key_decrypt(wallet.encrypted_private_key)
    client.force_login(make_user(role=role, is_superuser=superuser))
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
    assert "encrypted_private_key" not in pages[0].context["adminform"].form.fields


def test_searching_wallets_by_key_material_finds_nothing(client, make_user):
    wallet = wallet_create(user=make_user(), name="Treasury", wallet_type=WalletType.PRIVATE_KEY)
    client.force_login(make_user(role="ADMIN", is_superuser=True))
    fragment = wallet.encrypted_private_key[10:40]
    assert "Treasury" not in client.get("/admin/wallets/wallet/", {"q": fragment}).content.decode()


def test_wallets_are_not_created_or_moved_in_the_admin(client, make_user):
    owner = make_user()
    wallet = wallet_create(user=owner, name="Treasury", wallet_type=WalletType.PRIVATE_KEY)
    client.force_login(make_user(role="ADMIN", is_superuser=True))
    assert client.get("/admin/wallets/wallet/add/").status_code == 403
    form = client.get(f"/admin/wallets/wallet/{wallet.pk}/change/").context["adminform"].form
    assert set(form.fields) == {"name", "is_active"}
    monitoring = (wallet.monitoring_enabled, wallet.monitor_from_block)  # on from creation (issue 11)
    response = client.post(f"/admin/wallets/wallet/{wallet.pk}/change/",
                           {"name": "Reserve", "user": str(make_user().pk), "monitor_from_block": "7"})
    assert response.status_code == 302
    wallet.refresh_from_db()
    assert wallet.name == "Reserve" and wallet.user_id == owner.pk
    assert (wallet.monitoring_enabled, wallet.monitor_from_block) == monitoring and wallet.monitoring_enabled
    assert wallet.is_active is False  # unchecked box: the one other field this form edits


@pytest.fixture
def ledger_rows(make_user):
    owner = make_user()
    wallet = wallet_create(user=owner, name="Ops", wallet_type=WalletType.PRIVATE_KEY)
    eth = Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    Cryptocurrency.objects.create(name="Retired Coin", symbol="OLD", is_active=False)
    for kind, amount, note in (("BUY", "1.5", "bought-row"), ("EXPENSE", "0.2", "hosting-row")):
        Transaction.objects.create(transaction_type=kind, wallet=wallet, cryptocurrency=eth, amount=Decimal(amount),
                                   transaction_date=timezone.now(), description=note, source="manual")
    return wallet


def test_transaction_and_cryptocurrency_admins_filter(client, make_user, ledger_rows):
    client.force_login(make_user(role="ADMIN", is_superuser=True))
    buys = client.get("/admin/wallets/transaction/", {"transaction_type__exact": "BUY"})
    assert buys.status_code == 200
    assert [t.description for t in buys.context["cl"].result_list] == ["bought-row"]
    found = client.get("/admin/wallets/transaction/", {"q": "hosting"}).context["cl"].result_list
    assert [t.description for t in found] == ["hosting-row"]
    active = client.get("/admin/wallets/cryptocurrency/", {"is_active__exact": "1"}).context["cl"].result_list
    assert [c.symbol for c in active] == ["ETH"]
    by_wallet = client.get("/admin/wallets/transaction/", {"wallet__id__exact": str(ledger_rows.pk)})
    assert len(by_wallet.context["cl"].result_list) == 2


def test_managers_view_the_ledger_but_do_not_write_it(client, make_user, ledger_rows):
    client.force_login(make_user(role="MANAGER"))
    assert client.get("/admin/wallets/transaction/").status_code == 200
    assert client.get("/admin/wallets/cryptocurrency/").status_code == 200
    assert client.get("/admin/wallets/transaction/add/").status_code == 403
    assert client.get("/admin/wallets/cryptocurrency/add/").status_code == 403
    row = Transaction.objects.first()
    assert client.post(f"/admin/wallets/transaction/{row.pk}/change/", {"amount": "9"}).status_code == 403


# --- issue 11: sends in the admin (read-only, no signed bytes), the fee bump (admin action, API) ------

from accounts.sessions import session_approve, session_login  # noqa: E402
from wallets import chain  # noqa: E402
from wallets.models import OutgoingTransfer, TransferStatus  # noqa: E402
from wallets.transfers import transaction_status, transfer_send  # noqa: E402

SENDS = "/admin/wallets/outgoingtransfer/"


def _funded_wallet(owner):
    """A funded key wallet of `owner` and a session of theirs approved by password."""
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "decimals": 18})
    wallet = wallet_create(user=owner, name="ops", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("1")))
    _, session, _ = session_login(login=owner.username, password="Passw0rd!long", ip="127.0.0.1", device_info="t")
    return wallet, session_approve(session=session, password="Passw0rd!long", ip="127.0.0.1")


def _send(owner, wallet, session, key):
    transfer, _ = transfer_send(user=owner, session=session, wallet=wallet, to=Account.create().address,
                                amount=Decimal("0.1"), asset="ETH", idempotency_key=key)
    return transfer


def _funded_send(owner, *, key="k1"):
    wallet, session = _funded_wallet(owner)
    return wallet, _send(owner, wallet, session, key)


def _rpc(method, *params):
    return chain.web3_client().provider.make_request(method, list(params))


def test_sends_are_read_only_in_the_admin_without_signed_bytes(client, make_user, make_organization, eth_node):
    manager = make_user(role="MANAGER")
    wallet, transfer = _funded_send(make_user())
    client.force_login(manager)
    listing = client.get(SENDS)
    assert listing.status_code == 200 and transfer.tx_hash in listing.content.decode()
    page = client.get(f"{SENDS}{transfer.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and transfer.tx_hash in html and 'name="_save"' not in html
    raw = OutgoingTransfer.objects.get(pk=transfer.pk).signed_raw_transaction
    for secret in (raw, raw[2:66], wallet.encrypted_private_key):
        assert secret not in html and secret not in listing.content.decode()
    assert client.get(f"{SENDS}add/").status_code == 403
    assert client.post(f"{SENDS}{transfer.pk}/delete/", {"post": "yes"}).status_code == 403
    client.force_login(make_user(role="MANAGER", organization=make_organization("Globex")))
    assert transfer.tx_hash not in client.get(SENDS).content.decode()
    client.force_login(make_user(is_accountant=True))
    assert client.get(SENDS).status_code in (302, 403)  # not staff: the admin's login page


def test_fee_bump_replaces_a_pending_send_and_only_one_is_mined(client, make_user, eth_node, settings,
                                                                access_token_for):
    settings.ETH_CONFIRMATIONS = 1
    owner = make_user()
    wallet, session = _funded_wallet(owner)
    token = access_token_for(owner)
    _rpc("evm_setAutomine", False)
    try:
        transfer = _send(owner, wallet, session, "bump")
        assert transfer.status == TransferStatus.BROADCAST
        response = client.post(f"/api/wallets/transfers/{transfer.pk}/fee-bump/",
                               HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["replaced_hashes"] == [transfer.tx_hash] and body["tx_hash"] != transfer.tx_hash
        assert int(body["max_fee_per_gas"]) > int(transfer.max_fee_per_gas)
    finally:
        _rpc("evm_setAutomine", True)
    _rpc("evm_mine")
    status = transaction_status(tx_hash=body["tx_hash"])
    transfer.refresh_from_db()
    assert status["status"] == "confirmed" and transfer.status == TransferStatus.CONFIRMED
    assert chain.web3_client().eth.get_transaction_count(wallet.address) == 1  # one payment


def test_fee_bump_of_a_mined_send_is_refused_and_leaves_it_alone(client, make_user, make_organization, eth_node,
                                                                 settings, access_token_for):
    settings.ETH_CONFIRMATIONS = 3
    owner = make_user()
    wallet, transfer = _funded_send(owner, key="mined")  # automine: in a block, not yet confirmed
    assert transfer.status == TransferStatus.BROADCAST
    manager = make_user(role="MANAGER")
    client.force_login(manager)
    response = client.post(SENDS, {"action": "fee_bump", "_selected_action": [str(transfer.pk)]}, follow=True)
    assert any("already in block" in str(m) for m in response.context["messages"])
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.BROADCAST and transfer.replaced_hashes == []
    api = client.post(f"/api/wallets/transfers/{transfer.pk}/fee-bump/",
                      HTTP_AUTHORIZATION=f"Bearer {access_token_for(owner)}")
    assert api.status_code == 409 and api.json()["error"]["code"] == "transfer_not_open"
    accountant = make_user(is_accountant=True)
    refused = client.post(f"/api/wallets/transfers/{transfer.pk}/fee-bump/",
                          HTTP_AUTHORIZATION=f"Bearer {access_token_for(accountant)}")
    assert refused.status_code == 403
    stranger = make_user(role="MANAGER", organization=make_organization("Globex"))
    hidden = client.post(f"/api/wallets/transfers/{transfer.pk}/fee-bump/",
                         HTTP_AUTHORIZATION=f"Bearer {access_token_for(stranger)}")
    assert hidden.status_code == 404
