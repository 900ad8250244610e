"""Issue 11, "The chain": a node that mines on an interval confirms sends by itself; one notion of
status (PENDING until ETH_CONFIRMATIONS, then CONFIRMED/FAILED) in the API and the stored row; every
wallet is monitored from the block it was added; gas tiers from eth_feeHistory percentiles differ
when the chain's tips differ."""

import time
from decimal import Decimal

import pytest
from eth_account import Account
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core import localstack
from tests import harness
from wallets import chain, gas
from wallets.models import Cryptocurrency, OutgoingTransfer, Transaction, TransferStatus, WalletType
from wallets.monitoring import monitor_scan
from wallets.services import wallet_create
from wallets.transfers import gas_estimate, payout_send, transaction_status

GWEI = 10**9


# --- the pure tier engine --------------------------------------------------------------------------------
def test_tiers_read_the_percentiles_across_busy_blocks():
    rewards = [[1 * GWEI] * 3, [0, 0, 0], [2 * GWEI] * 3, [5 * GWEI] * 3, [20 * GWEI] * 3]
    ratios = [0.1, 0.0, 0.1, 0.1, 0.1]  # the empty block says nothing about prices
    slow, normal, fast = gas.fee_tiers(rewards=rewards, gas_used_ratios=ratios, next_base_fee=GWEI, block_seconds=2)
    assert (slow.max_priority_fee_per_gas, normal.max_priority_fee_per_gas, fast.max_priority_fee_per_gas) == (
        1 * GWEI, 2 * GWEI, 20 * GWEI)
    assert fast.max_fee_per_gas == 2 * GWEI + 20 * GWEI
    # fast clears every recent block's cheapest tip; slow only the cheapest block's (and the empty one)
    assert fast.expected_wait_blocks == 1 and fast.expected_wait_seconds == 2
    assert slow.expected_wait_blocks == 3 and normal.expected_wait_blocks == 2


def test_an_idle_chain_gives_the_floor_tip_and_the_next_block():
    tiers = gas.fee_tiers(rewards=[[0, 0, 0]] * 4, gas_used_ratios=[0.0] * 4, next_base_fee=7, block_seconds=1,
                          minimum_tip=GWEI)
    assert {t.max_priority_fee_per_gas for t in tiers} == {GWEI}
    assert {t.expected_wait_blocks for t in tiers} == {1}


@hypothesis_settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.lists(st.integers(0, 10**12), min_size=3, max_size=3), st.floats(0, 1)),
                min_size=1, max_size=20),
       st.integers(0, 10**12))
def test_tiers_never_decrease_and_waits_never_grow(blocks, base_fee):
    tiers = gas.fee_tiers(rewards=[r for r, _ in blocks], gas_used_ratios=[g for _, g in blocks],
                          next_base_fee=base_fee, block_seconds=12)
    tips = [t.max_priority_fee_per_gas for t in tiers]
    assert tips == sorted(tips)
    waits = [t.expected_wait_blocks if t.expected_wait_blocks is not None else 10**9 for t in tiers]
    assert waits == sorted(waits, reverse=True)
    assert all(t.max_fee_per_gas >= t.max_priority_fee_per_gas for t in tiers)


# --- on a node ---------------------------------------------------------------------------------------------
on_a_node = pytest.mark.django_db(transaction=True)


def _send_with_tip(tip_gwei: int, index: int = 1) -> None:
    w3 = chain.web3_client()
    sender = chain.dev_account(index)
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    signed = sender.sign_transaction({
        "to": Account.create().address, "value": 1, "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "gas": 21000, "maxFeePerGas": 2 * base + tip_gwei * GWEI, "maxPriorityFeePerGas": tip_gwei * GWEI,
        "chainId": 31337, "type": 2})
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction), timeout=60)


@on_a_node
def test_gas_tiers_differ_when_the_chains_tips_differ(eth_node, make_user):
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    # One transaction per block, each block its own price; most of the fee-history window (20 blocks),
    # whatever earlier tests on this node left in it.
    for tip in (2, 3, 5, 8, 13, 21, 34, 40, 4, 15, 6, 25, 30, 50):
        _send_with_tip(tip)
    wallet = wallet_create(user=make_user(), name="w", wallet_type=WalletType.PRIVATE_KEY)
    estimate = gas_estimate(from_address=wallet.address, to=Account.create().address, amount=Decimal("0.1"))
    slow, normal, fast = (estimate["tiers"][name] for name in ("slow", "normal", "fast"))
    assert slow["max_priority_fee_per_gas"] < normal["max_priority_fee_per_gas"] < fast["max_priority_fee_per_gas"]
    assert slow["cost_eth"] < normal["cost_eth"] < fast["cost_eth"]
    assert fast["expected_wait_blocks"] <= normal["expected_wait_blocks"] <= slow["expected_wait_blocks"]
    assert fast["expected_wait_seconds"] is not None


@on_a_node
def test_every_new_wallet_is_monitored_from_the_block_it_was_added(eth_node, make_user, settings):
    settings.ETH_CONFIRMATIONS = 1
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    monitor_scan()
    head = chain.web3_client().eth.block_number
    wallet = wallet_create(user=make_user(), name="new", wallet_type=WalletType.PRIVATE_KEY)
    assert wallet.monitoring_enabled and wallet.monitor_from_block == head
    tx_hash = chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("0.5")))
    monitor_scan()  # nobody called /monitor/
    assert Transaction.objects.get(hash=tx_hash, wallet=wallet).amount == Decimal("0.5")


@on_a_node
def test_a_node_mining_on_an_interval_confirms_a_send_by_itself(make_user, settings):
    """What `make run` does: anvil with --block-time EMBEDDED_ETH_BLOCK_TIME (default 1 s). Nobody mines
    by hand; the send goes PENDING (with its confirmation count) -> CONFIRMED, in the API and the row."""
    assert settings.EMBEDDED_ETH_BLOCK_TIME >= 1  # the default of `make run`
    node, port = harness.start_on_a_free_port(
        lambda port: localstack.start_anvil(port, block_time=settings.EMBEDDED_ETH_BLOCK_TIME))
    try:
        settings.ETH_RPC_URL = f"http://127.0.0.1:{port}"
        settings.ETH_CONFIRMATIONS = 3
        Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
        user = make_user()
        wallet = wallet_create(user=user, name="interval", wallet_type=WalletType.PRIVATE_KEY)
        chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("1")))
        sent = payout_send(organization_id=wallet.organization_id, wallet=wallet, to=Account.create().address,
                           amount=Decimal("0.2"), intent_key="interval-1", requested_by=user)
        seen = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                status = transaction_status(tx_hash=sent.tx_hash)
            except Exception:  # not yet known to a busy node
                status = {"status": "pending", "confirmations": 0}
            seen.append((status["status"], status["confirmations"]))
            monitor_scan()
            if status["status"] == "confirmed":
                break
            time.sleep(0.5)
        assert seen[-1][0] == "confirmed" and seen[-1][1] >= 3
        assert all(state == "pending" and count < 3 for state, count in seen[:-1])
        assert Transaction.objects.get(hash=sent.tx_hash).status == "CONFIRMED"
        assert OutgoingTransfer.objects.get(pk=sent.pk).status == TransferStatus.CONFIRMED
    finally:
        node.stop()
