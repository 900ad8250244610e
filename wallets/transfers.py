"""Sending ETH and ERC-20 tokens from Private Key wallets, exactly once.

Order of work: check (approved session, addresses, amount, balance incl. max fee) -> assign the
nonce (app-managed counter) -> sign -> persist the signed raw transaction, nonce and hash -> create
the pending Transaction -> broadcast. A retry with the same Idempotency-Key finds the stored
transfer and rebroadcasts its bytes; it never signs again.

Who may send from a wallet: core.permissions.can_send_from_wallet (its owner or a manager of its
organization). The transfer and its pending transaction belong to the wallet's organization; the
transaction to the wallet's owner (whose holdings it moves), the transfer to the member who sent it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection
from django.utils import timezone
from eth_account import Account
from web3 import Web3
from web3.exceptions import Web3RPCError

from accounts.sessions import require_approved_session
from core import permissions
from core.errors import Conflict, DomainError, ErrorCode, InvalidInput, InvalidRequest, NotFound, Unavailable
from core.money import quantize_fiat
from wallets import chain, external_ids
from wallets.addresses import address_normalise
from wallets.erc20 import erc20_contract
from wallets.events import transaction_event
from wallets.keystore import private_key_decrypt
from wallets.models import (
    Cryptocurrency,
    NonceCounter,
    OutgoingTransfer,
    Transaction,
    TransactionSource,
    TransactionStatus,
    TransactionType,
    TransferStatus,
    Wallet,
    WalletType,
)
from wallets.prices import price_current

logger = logging.getLogger(__name__)

ETH_TRANSFER_GAS = 21000
PRIORITY_FEE_WEI = Web3.to_wei(1, "gwei")


def _fingerprint(**request) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def nonce_assign(*, w3: Web3, address: str) -> int:
    """Consecutive nonces for one sender, even across processes: raise the stored counter to the
    node's pending count ($max), then take the next value ($inc) atomically."""
    key = f"{settings.ETH_CHAIN_ID}:{address}"
    collection = connection.get_collection(NonceCounter._meta.db_table)
    chain_nonce = w3.eth.get_transaction_count(address, "pending")
    collection.update_one({"key": key}, {"$max": {"next_nonce": chain_nonce}}, upsert=True)
    document = collection.find_one_and_update({"key": key}, {"$inc": {"next_nonce": 1}})
    return int(document["next_nonce"])


def fee_quote(w3: Web3) -> tuple[int, int]:
    """(max fee per gas, priority fee) in wei: twice the next base fee plus the tip."""
    base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
    return 2 * base_fee + PRIORITY_FEE_WEI, PRIORITY_FEE_WEI


def transfer_send(*, user, session, wallet: Wallet, to: str, amount: Decimal, asset: str = "ETH",
                  idempotency_key: str) -> tuple[OutgoingTransfer, bool]:
    """`user` (the acting member) sends from `wallet`. Returns (transfer, created). `created` is
    False when the key was seen before."""
    permissions.require_own(user, wallet)
    permissions.require(permissions.can_send_from_wallet(user, wallet),
                        "Only the wallet's owner or a manager can send from it.")
    require_approved_session(session)
    if not idempotency_key or len(idempotency_key) > 200:
        raise InvalidRequest(ErrorCode.IDEMPOTENCY_KEY_REQUIRED, "Send an Idempotency-Key header (1-200 characters).")
    fingerprint = _fingerprint(wallet=str(wallet.pk), to=to, amount=str(amount), asset=asset)
    scoped_key = f"{user.pk}:{idempotency_key}"
    existing = OutgoingTransfer.objects.filter(idempotency_key=scoped_key).first()
    if existing is not None:
        return _replay(existing, fingerprint), False

    if wallet.wallet_type != WalletType.PRIVATE_KEY or not wallet.encrypted_private_key:
        raise Conflict(ErrorCode.WATCH_ONLY_WALLET, "This wallet holds no key: sign the transaction in your own wallet.")
    to = address_normalise(to)
    token = Cryptocurrency.objects.filter(symbol=asset.upper(), is_active=True).first()
    if token is None:
        raise InvalidInput(ErrorCode.UNKNOWN_ASSET, f"{asset!r} is not a tracked asset.")
    amount = Decimal(amount)
    if amount <= 0 or amount != amount.quantize(Decimal(1).scaleb(-token.decimals)):
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, f"The amount must be positive with at most {token.decimals} decimals.")
    raw_amount = int(amount.scaleb(token.decimals))

    try:
        w3 = chain.web3_client()
        max_fee, priority_fee = fee_quote(w3)
        if token.contract_address:
            contract = erc20_contract(w3, token.contract_address)
            token_balance = contract.functions.balanceOf(wallet.address).call()
            if token_balance < raw_amount:
                raise InvalidInput(ErrorCode.INSUFFICIENT_FUNDS, f"Balance is {Decimal(token_balance).scaleb(-token.decimals)} {token.symbol}.")
            call = contract.functions.transfer(to, raw_amount)
            gas_limit = int(call.estimate_gas({"from": wallet.address}) * 1.2)
            value, data, recipient = 0, call._encode_transaction_data(), Web3.to_checksum_address(token.contract_address)
        else:
            gas_limit, value, data, recipient = ETH_TRANSFER_GAS, raw_amount, b"", to
        eth_balance = w3.eth.get_balance(wallet.address)
        if eth_balance < value + gas_limit * max_fee:
            raise InvalidInput(ErrorCode.INSUFFICIENT_FUNDS, "The balance does not cover the amount plus the maximum fee.",
                           {"balance_eth": str(chain.wei_to_eth(eth_balance)),
                            "needed_eth": str(chain.wei_to_eth(value + gas_limit * max_fee))})
        nonce = nonce_assign(w3=w3, address=wallet.address)
    except chain.ChainError as exc:
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, str(exc)) from None

    tx = {"to": recipient, "value": value, "data": data, "nonce": nonce, "gas": gas_limit,
          "maxFeePerGas": max_fee, "maxPriorityFeePerGas": priority_fee, "chainId": settings.ETH_CHAIN_ID, "type": 2}
    signed = Account.sign_transaction(tx, private_key_decrypt(wallet.encrypted_private_key))
    tx_hash = signed.hash.to_0x_hex()
    pending = Transaction(
        transaction_type=TransactionType.TRANSFER, user_id=wallet.user_id, organization_id=wallet.organization_id,
        wallet=wallet, cryptocurrency=token, amount=amount,
        transaction_date=timezone.now(), hash=tx_hash, from_address=wallet.address, to_address=to,
        status=TransactionStatus.PENDING, source=TransactionSource.CHAIN, description=f"Sent to {to}",
        external_id=external_ids.chain_external_id(
            tx_hash=tx_hash, log_index=0 if token.contract_address else external_ids.NATIVE_LOG_INDEX,
            address=wallet.address),
    )
    transfer = OutgoingTransfer(
        user=user, organization_id=wallet.organization_id, wallet=wallet, cryptocurrency=token, to_address=to, amount=amount, idempotency_key=scoped_key,
        request_fingerprint=fingerprint, chain_id=settings.ETH_CHAIN_ID, nonce=nonce, gas_limit=gas_limit,
        max_fee_per_gas=max_fee, max_priority_fee_per_gas=priority_fee,
        signed_raw_transaction=signed.raw_transaction.to_0x_hex(), tx_hash=tx_hash,
    )
    try:
        transfer.save()  # the intent is durable before anything leaves this process
    except IntegrityError:
        # A concurrent request with the same key won: answer with its transfer.
        return _replay(OutgoingTransfer.objects.get(idempotency_key=scoped_key), fingerprint), False
    pending.save()
    OutgoingTransfer.objects.filter(pk=transfer.pk).update(transaction=pending)
    transaction_event("transaction.created", pending)
    _broadcast(transfer)
    transfer.refresh_from_db()
    return transfer, True


def _replay(transfer: OutgoingTransfer, fingerprint: str) -> OutgoingTransfer:
    if transfer.request_fingerprint != fingerprint:
        raise Conflict(ErrorCode.IDEMPOTENCY_KEY_REUSED, "This Idempotency-Key was used for a different request.")
    if transfer.status == TransferStatus.PREPARED:
        _broadcast(transfer)  # the earlier attempt died before broadcasting: send the same bytes
        transfer.refresh_from_db()
    return transfer


def _broadcast(transfer: OutgoingTransfer) -> None:
    """Send the stored bytes. Only a definite refusal by the node marks the transfer FAILED; a
    network error or timeout is ambiguous (the node may have it), so it stays PREPARED and the next
    retry sends the same bytes again."""
    try:
        w3 = chain.web3_client()
        w3.eth.send_raw_transaction(transfer.signed_raw_transaction)
    except Web3RPCError as exc:
        if _node_knows(transfer.tx_hash):  # already received (a rebroadcast): not a second payment
            _mark_broadcast(transfer)
            return
        OutgoingTransfer.objects.filter(pk=transfer.pk).update(status=TransferStatus.FAILED, error=str(exc)[:2000])
        Transaction.objects.for_organization(transfer.organization_id).filter(
            wallet_id=transfer.wallet_id, hash=transfer.tx_hash).update(status=TransactionStatus.FAILED)
        raise InvalidInput(ErrorCode.BROADCAST_REJECTED, "The node rejected the transaction.", {"reason": str(exc)[:300]}) from None
    except Exception as exc:
        logger.warning("broadcast of %s deferred: %s", transfer.tx_hash, exc)
        return
    _mark_broadcast(transfer)


def _node_knows(tx_hash: str) -> bool:
    try:
        return chain.web3_client().eth.get_transaction(tx_hash) is not None
    except Exception:
        return False


def _mark_broadcast(transfer: OutgoingTransfer) -> None:
    OutgoingTransfer.objects.filter(pk=transfer.pk, status=TransferStatus.PREPARED).update(status=TransferStatus.BROADCAST)


def transaction_status(*, tx_hash: str) -> dict:
    """pending / confirmed (with confirmations) / failed, and the fee actually paid."""
    try:
        w3 = chain.web3_client()
        try:
            tx = w3.eth.get_transaction(tx_hash)
        except Exception:
            tx = None
        if tx is None:
            raise NotFound(ErrorCode.NOT_FOUND, "The node does not know this transaction.")
        try:
            receipt = w3.eth.get_transaction_receipt(tx_hash)
        except Exception:
            receipt = None
        head = w3.eth.block_number
    except chain.ChainError as exc:
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, str(exc)) from None
    result = {"hash": tx_hash, "from_address": tx["from"], "to_address": tx.get("to"),
              "value_eth": chain.wei_to_eth(tx["value"]), "nonce": tx["nonce"], "block_number": tx.get("blockNumber"),
              "status": "pending", "confirmations": 0, "gas_used": None, "effective_gas_price": None, "fee_eth": None}
    if receipt is not None:
        confirmations = head - receipt["blockNumber"] + 1
        result.update(
            status="confirmed" if receipt["status"] == 1 else "failed", confirmations=confirmations,
            gas_used=receipt["gasUsed"], effective_gas_price=receipt["effectiveGasPrice"],
            fee_eth=chain.wei_to_eth(receipt["gasUsed"] * receipt["effectiveGasPrice"]),
            block_number=receipt["blockNumber"],
        )
    return result


def gas_estimate(*, from_address: str, to: str, amount: Decimal, asset: str = "ETH", fiat: str = "USD",
                 organization=None) -> dict:
    """Gas limit of the transfer and slow/normal/fast fee tiers from the node's fee history, in ETH
    and in `fiat` (the organization's) at the current ETH price it sees (no fiat figure without one)."""
    from_address, to = address_normalise(from_address), address_normalise(to)
    token = Cryptocurrency.objects.filter(symbol=asset.upper()).first()
    if token is None:
        raise InvalidInput(ErrorCode.UNKNOWN_ASSET, f"{asset!r} is not a tracked asset.")
    try:
        w3 = chain.web3_client()
        if token.contract_address:
            raw = int(Decimal(amount).scaleb(token.decimals))
            gas = erc20_contract(w3, token.contract_address).functions.transfer(to, raw).estimate_gas({"from": from_address})
        else:
            gas = w3.eth.estimate_gas({"from": from_address, "to": to, "value": chain.eth_to_wei(Decimal(amount))})
        history = w3.eth.fee_history(10, "latest", [10, 50, 90])
    except chain.ChainError as exc:
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, str(exc)) from None
    except Exception as exc:
        raise InvalidInput(ErrorCode.ESTIMATE_FAILED, "The node cannot estimate this transfer.", {"reason": str(exc)[:300]}) from None
    base_fee = history["baseFeePerGas"][-1]
    rewards = history["reward"] or [[0, 0, 0]]
    price = _eth_price(fiat, organization)
    tiers = {}
    for index, name in enumerate(("slow", "normal", "fast")):
        tip = sorted(r[index] for r in rewards)[len(rewards) // 2]
        max_fee = 2 * base_fee + tip
        cost_eth = chain.wei_to_eth(gas * (base_fee + tip))
        tiers[name] = {"max_fee_per_gas": max_fee, "max_priority_fee_per_gas": tip, "cost_eth": cost_eth,
                       "cost_fiat": quantize_fiat(cost_eth * price, fiat) if price else None}
    return {"gas_limit": gas, "base_fee_per_gas": base_fee, "fiat_currency": fiat, "tiers": tiers}


def _eth_price(fiat: str, organization=None) -> Decimal | None:
    try:
        return price_current(symbol="ETH", fiat=fiat, organization=organization)
    except DomainError:
        return None
