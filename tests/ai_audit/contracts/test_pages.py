"""/app/contracts/: the list with the register form, the detail with verification and the ABI's
functions as forms (reads live, writes after the password), on a real anvil node and solc-js."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from accounts.models import Role
from ai_audit.models import Contract
from tests.ai_audit.contracts.conftest import PASSWORD, deploy
from wallets import chain
from wallets.erc20 import ARTIFACT, erc20_deploy_demo_token
from wallets.models import Cryptocurrency, OutgoingTransfer, TransferKind, WalletType
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db(transaction=True)


def login(client, user):
    response = client.post("/app/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content


def test_register_verify_and_read_on_the_pages(client, make_user, eth_node):
    token = erc20_deploy_demo_token(name="Page Dollar", symbol="PGD", decimals=2)
    manager = make_user(role=Role.MANAGER)
    login(client, manager)
    page = client.get("/app/contracts/").content.decode()
    assert 'id="contract-empty"' in page and 'id="register-form"' in page
    refused = client.post("/app/contracts/register/", {"address": "0x000000000000000000000000000000000000dEaD"})
    assert refused.status_code == 422 and "no contract code" in refused.content.decode()
    response = client.post("/app/contracts/register/", {"address": token, "network": "ethereum", "contract_type": "erc20"})
    assert response.status_code == 302
    contract = Contract.objects.get(address=token)
    detail = client.get(response["Location"]).content.decode()
    assert "Page Dollar (PGD), 2 decimals" in detail and "Not verified" in detail
    assert 'data-function="balanceOf(address)"' in detail and 'data-function="transfer(address,uint256)"' in detail

    name = client.post(f"/app/contracts/{contract.pk}/call/", {"function": "name()"}, HTTP_HX_REQUEST="true")
    assert name.status_code == 200 and "<output>Page Dollar</output>" in name.content.decode()
    bad = client.post(f"/app/contracts/{contract.pk}/call/", {"function": "balanceOf(address)", "arg_0": "0x12"})
    assert bad.status_code == 422 and "&#x27;owner&#x27;" in bad.content.decode()

    source = (Path(ARTIFACT).parent / "DemoToken.sol").read_text()
    wrong = client.post(f"/app/contracts/{contract.pk}/verify/", {"compiler_version": "0.8.37", "source": source},
                        HTTP_HX_REQUEST="true")
    assert wrong.status_code == 200 and "Runtime bytecode differs" in wrong.content.decode()  # htmx swaps 2xx only
    assert 'data-status="mismatch"' in wrong.content.decode()
    right = client.post(f"/app/contracts/{contract.pk}/verify/", {
        "compiler_version": "0.8.37", "source": source, "optimizer_enabled": "1", "optimizer_runs": "200"},
        HTTP_HX_REQUEST="true")
    assert right.status_code == 200 and 'data-status="verified"' in right.content.decode()
    assert Contract.objects.get(pk=contract.pk).is_verified


def test_a_write_on_the_page_asks_for_the_password(client, make_user, eth_node, vault_build):
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "current_price": Decimal("2500")})
    manager = make_user(role=Role.MANAGER)
    wallet = wallet_create(user=manager, name="signer", wallet_type=WalletType.PRIVATE_KEY)
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("1")))
    abi, code = vault_build
    address = deploy(eth_node, abi, code, "page vault")
    login(client, manager)
    client.post("/app/contracts/register/", {"address": address, "network": "ethereum", "abi": json.dumps(abi)})
    contract = Contract.objects.get(address=address)
    detail = client.get(f"/app/contracts/{contract.pk}/").content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', detail).group(1)
    form = {"function": "store(uint256)", "arg_0": "7", "wallet_id": str(wallet.pk), "idempotency_key": key}
    asked = client.post(f"/app/contracts/{contract.pk}/call/", form)
    assert asked.status_code == 422 and "Enter your password" in asked.content.decode()
    wrong = client.post(f"/app/contracts/{contract.pk}/call/", {**form, "password": "nope"})
    assert wrong.status_code == 401
    sent = client.post(f"/app/contracts/{contract.pk}/call/", {**form, "password": PASSWORD})
    assert sent.status_code == 200 and "Transaction stored and sent" in sent.content.decode(), sent.content
    again = client.post(f"/app/contracts/{contract.pk}/call/", form)  # the same form posted twice: one call
    assert again.status_code == 200
    assert OutgoingTransfer.objects.filter(kind=TransferKind.CONTRACT_CALL).count() == 1
    stored = client.post(f"/app/contracts/{contract.pk}/call/", {"function": "stored()"})
    assert "<output>7</output>" in stored.content.decode()
    assert "store(uint256)" in client.get(f"/app/contracts/{contract.pk}/").content.decode().split('id="contract-calls"')[1]


def test_pages_of_another_organization_are_not_found(client, make_user, make_organization, eth_node):
    token = erc20_deploy_demo_token(name="Hidden", symbol="HID", decimals=0)
    manager = make_user(role=Role.MANAGER)
    login(client, manager)
    client.post("/app/contracts/register/", {"address": token, "network": "ethereum"})
    contract = Contract.objects.get(address=token)
    client.logout()
    login(client, make_user(role=Role.MANAGER, organization=make_organization("Far")))
    assert client.get(f"/app/contracts/{contract.pk}/").status_code == 404
    assert client.post(f"/app/contracts/{contract.pk}/call/", {"function": "name()"}).status_code == 404
    assert "Hidden" not in client.get("/app/contracts/").content.decode()
