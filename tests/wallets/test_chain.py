"""wallets.chain against real nodes: the dev anvil (chain 31337) and a second anvil on another chain."""

from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from eth_account import Account

from core import localstack
from tests import harness
from wallets import chain


@pytest.fixture(scope="module")
def foreign_chain_url():
    """An anvil node that says it is chain 5: same dev accounts, not the dev chain."""
    if not harness.USE_ANVIL:
        pytest.skip("needs the local anvil binary (ETH_RPC_URL points at an external node)")
    log_path = localstack.Path(django_settings.DATA_DIR) / "log" / "anvil-5.log"
    process, port = harness.start_on_a_free_port(
        lambda port: localstack.start_anvil(port, chain_id=5, log_path=log_path))
    yield f"http://127.0.0.1:{port}"
    process.stop()


def test_client_answers_on_the_configured_chain(eth_node):
    assert chain.web3_client().eth.chain_id == django_settings.ETH_CHAIN_ID


def test_an_unreachable_node_is_a_clear_error(settings):
    settings.ETH_RPC_URL = f"http://127.0.0.1:{localstack.free_port()}"
    with pytest.raises(chain.ChainError, match="unreachable"):
        chain.web3_client()


def test_a_node_on_another_chain_is_refused(eth_node, settings):
    settings.ETH_CHAIN_ID = 1
    with pytest.raises(chain.ChainError, match="expected 1"):
        chain.web3_client()


@pytest.mark.skipif(not harness.USE_ANVIL, reason="sends from the local dev chain's funded accounts")
def test_dev_send_moves_exactly_the_amount_and_waits_for_the_receipt(eth_node):
    to = Account.create().address
    tx_hash = chain.eth_send_from_dev_account(to=to, amount_wei=chain.eth_to_wei(Decimal("1.5")))
    assert tx_hash.startswith("0x") and len(tx_hash) == 66
    receipt = chain.web3_client().eth.get_transaction_receipt(tx_hash)
    assert receipt["status"] == 1  # mined before the call returned
    assert chain.eth_balance(to) == Decimal("1.5")


def test_dev_send_is_refused_off_the_dev_chain_even_when_the_node_agrees(foreign_chain_url, settings):
    settings.ETH_RPC_URL = foreign_chain_url
    settings.ETH_CHAIN_ID = 5
    to = Account.create().address
    assert chain.web3_client().eth.chain_id == 5
    with pytest.raises(chain.ChainError, match="31337"):
        chain.eth_send_from_dev_account(to=to, amount_wei=10**18)
    assert chain.eth_balance(to) == 0


def test_amounts_convert_exactly():
    assert chain.eth_to_wei(Decimal("0.000000000000000001")) == 1
    assert chain.wei_to_eth(1234500000000000000) == Decimal("1.2345")
    with pytest.raises(ValueError):
        chain.eth_to_wei(Decimal("0.0000000000000000001"))
