"""Sending ETH and ERC-20 tokens from Private Key wallets, exactly once per intent.

Public entry points (the only ones other modules and apps call):
- `transfer_send(*, user, session, wallet, to, amount, asset, idempotency_key)` -> (transfer, created):
  a member's send over HTTP or a page (approved session, `Idempotency-Key` scoped to the member).
- `payout_send(*, organization_id, wallet, to, amount, asset, intent_key, requested_by)` -> transfer:
  the same machinery without an HTTP session, for apps that pay (payroll): one payment per
  (organization, intent_key), however often it is called, whatever crashed in between.
- `transfer_settle(...)`: completes a mined send (status, fee, its transaction row); the monitor, the
  reconciler (wallets.reconciler) and the status read call it.
- `transfer_fee_bump(*, transfer, actor)`: the way out of a STUCK send (same nonce, higher fee).
- `contract_call_send(*, user, session, wallet, network, to, data, value_wei, function, idempotency_key)`
  -> (transfer, created): a contract write call (kind CONTRACT_CALL) on any configured network
  (wallets.networks), by the same steps below: the intent and the signed bytes stored before broadcast.

How "exactly once" holds (each step survives a kill -9 of the process at any point):
1. Check, then derive the nonce from the node and the stored records: max(the node's pending count,
   the highest nonce a stored transfer of this key holds + 1). Nothing is written yet.
2. Sign, then insert ONE document holding the intent (idempotency key), the nonce (`nonce_key`,
   unique per chain+address+nonce), the signed raw transaction and its hash. That insert is the
   reservation: a crash before it reserves nothing; two concurrent sends cannot take one nonce (the
   loser derives again); two requests with one key cannot make two records (unique key).
3. Make the pending transaction row (idempotent by its external_id), then broadcast the stored
   bytes. BROADCAST only once the node accepted them or already knows the hash; a definite refusal
   is FAILED (and frees the nonce); anything ambiguous stays PREPARED.
4. A retry with the same key, the reconciler (start-up and every minute) and the monitor all work
   from the stored record: they rebroadcast the same bytes and never sign a second payment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from eth_account import Account
from web3 import Web3
from web3.exceptions import TransactionNotFound, Web3RPCError

from accounts.sessions import require_approved_session
from core import permissions
from core.errors import Conflict, DomainError, ErrorCode, InvalidInput, InvalidRequest, NotFound, Unavailable
from core.money import quantize_fiat
from wallets import chain, external_ids, gas, networks
from wallets.addresses import address_normalise
from wallets.erc20 import TRANSFER_TOPIC, erc20_contract
from wallets.events import transaction_event
from wallets.keystore import private_key_decrypt
from wallets.models import (
    OPEN_TRANSFER_STATUSES,
    Cryptocurrency,
    OutgoingTransfer,
    Transaction,
    TransactionSource,
    TransactionStatus,
    TransactionType,
    TransferDirection,
    TransferKind,
    TransferStatus,
    Wallet,
    WalletType,
)
from wallets.prices import price_current
from wallets.signals import transactions_changed_announce

logger = logging.getLogger(__name__)

ETH_TRANSFER_GAS = 21000
PRIORITY_FEE_WEI = Web3.to_wei(1, "gwei")  # the least tip a send offers
NONCE_ATTEMPTS = 8  # concurrent sends from one key that may take the derived nonce first
FEE_HISTORY_BLOCKS = 20
FEE_BUMP_PERCENT = 25  # nodes replace a pending transaction for >= 10% more; bump by 25%


def _fingerprint(**request) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def sender_key(address: str, chain_id: int | None = None) -> str:
    return f"{chain_id or settings.ETH_CHAIN_ID}:{address}"


def nonce_key(address: str, nonce: int, chain_id: int | None = None) -> str:
    return f"{chain_id or settings.ETH_CHAIN_ID}:{address}:{int(nonce)}"


def _client_for_chain(chain_id: int | None) -> Web3:
    """The node of `chain_id`: the default chain's client (wallets.chain) or the configured network
    of that chain id (chain id checked). A ChainError or Unavailable when it does not answer."""
    if not chain_id or int(chain_id) == int(settings.ETH_CHAIN_ID):
        return chain.web3_client()
    network = networks.network_for_chain_id(chain_id)
    if network is None:
        raise chain.ChainError(f"No network with chain id {chain_id} is configured.")
    return networks.web3_for(network)


# --- public entry points --------------------------------------------------------------------------------
def transfer_send(*, user, session, wallet: Wallet, to: str, amount: Decimal, asset: str = "ETH",
                  idempotency_key: str, fee_tier: str = "normal") -> tuple[OutgoingTransfer, bool]:
    """`user` (the acting member: the wallet's owner or a manager of its organization) sends `amount`
    of `asset` (ETH or a tracked ERC-20 symbol) from `wallet` to `to`, in a session approved by
    password. Exactly once per (user, idempotency_key): a repeat with the same key and the same
    request returns the stored transfer (rebroadcasting its bytes if it never left), with a different
    request it is a Conflict. Returns (transfer, created); `created` is False for a repeat.
    Status: PREPARED (stored, not yet accepted by the node), BROADCAST (the node has it), STUCK,
    CONFIRMED or FAILED (settled after ETH_CONFIRMATIONS blocks).
    `fee_tier` (slow/normal/fast, wallets.gas) sets the tip it is signed with; it is not part of the
    request's identity: a repeat returns the stored transfer and its bytes, whatever tier it names."""
    fee_tier_check(fee_tier)
    permissions.require_own(user, wallet)
    permissions.require(permissions.can_send_from_wallet(user, wallet),
                        "Only the wallet's owner or a manager can send from it.")
    require_approved_session(session)
    if not idempotency_key or len(idempotency_key) > 200:
        raise InvalidRequest(ErrorCode.IDEMPOTENCY_KEY_REQUIRED, "Send an Idempotency-Key header (1-200 characters).")
    return _send(requested_by=user, wallet=wallet, to=to, amount=amount, asset=asset,
                 scoped_key=f"{user.pk}:{idempotency_key}", fee_tier=fee_tier)


def payout_send(*, organization_id, wallet: Wallet, to: str, amount: Decimal, asset: str = "ETH",
                intent_key: str, requested_by) -> OutgoingTransfer:
    """Pay `amount` of `asset` from `wallet` to `to` for the organization, without an HTTP session
    (payroll and other apps that pay). Exactly once per (organization_id, intent_key): call it again
    with the same key (after a crash, a timeout, a restart) and it returns the same transfer record,
    rebroadcasting its stored bytes if needed; a different request under the same key is a Conflict.
    `requested_by` is the member on whose authority it pays (the wallet's owner or a manager; the
    caller has already confirmed that member's approval, e.g. a payroll run approved with a
    password). The wallet must belong to `organization_id` (else NotFound). Raises the same domain
    errors as `transfer_send` (InvalidInput for funds/amount/address, Unavailable without a node)."""
    if wallet.organization_id is None or str(wallet.organization_id) != str(organization_id):
        raise NotFound(ErrorCode.NOT_FOUND, "No such wallet in this organization.")
    permissions.require_own(requested_by, wallet)
    permissions.require(permissions.can_send_from_wallet(requested_by, wallet),
                        "Only the wallet's owner or a manager can pay from it.")
    if not intent_key or len(intent_key) > 200:
        raise InvalidRequest(ErrorCode.IDEMPOTENCY_KEY_REQUIRED, "A payout needs an intent key (1-200 characters).")
    transfer, _ = _send(requested_by=requested_by, wallet=wallet, to=to, amount=amount, asset=asset,
                        scoped_key=f"intent:{organization_id}:{intent_key}")
    return transfer


# --- the send -------------------------------------------------------------------------------------------
def _send(*, requested_by, wallet: Wallet, to: str, amount, asset: str, scoped_key: str, fee_tier: str = "normal"):
    fingerprint = _fingerprint(wallet=str(wallet.pk), to=to, amount=str(amount), asset=asset)
    existing = OutgoingTransfer.objects.filter(idempotency_key=scoped_key).first()
    if existing is not None:
        return _replay(existing, fingerprint), False

    if wallet.wallet_type != WalletType.PRIVATE_KEY or not wallet.encrypted_private_key:
        raise Conflict(ErrorCode.WATCH_ONLY_WALLET, "This wallet holds no key: sign the transaction in your own wallet.")
    to = address_normalise(to)
    network = networks.network_get(wallet.network)  # the wallet's network: its chain id, its node
    token = _asset_on(network, asset)
    amount = Decimal(amount)
    if amount <= 0 or amount != amount.quantize(Decimal(1).scaleb(-token.decimals)):
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, f"The amount must be positive with at most {token.decimals} decimals.")
    raw_amount = int(amount.scaleb(token.decimals))

    try:
        w3 = _client_for_chain(network.chain_id)
        max_fee, priority_fee = fee_quote(w3, fee_tier)
        if token.contract_address:
            contract = erc20_contract(w3, token.contract_address)
            token_balance = contract.functions.balanceOf(wallet.address).call()
            if token_balance < raw_amount:
                raise InvalidInput(ErrorCode.INSUFFICIENT_FUNDS, f"Balance is {Decimal(token_balance).scaleb(-token.decimals)} {token.symbol}.")
            gas_limit = int(contract.functions.transfer(to, raw_amount).estimate_gas({"from": wallet.address}) * 1.2)
        else:
            gas_limit = ETH_TRANSFER_GAS
        recipient, value, data = _call_of(w3, token, to, raw_amount)
        eth_balance = w3.eth.get_balance(wallet.address)
        if eth_balance < value + gas_limit * max_fee:
            raise InvalidInput(ErrorCode.INSUFFICIENT_FUNDS, "The balance does not cover the amount plus the maximum fee.",
                               {"balance_eth": str(chain.wei_to_eth(eth_balance)),
                                "needed_eth": str(chain.wei_to_eth(value + gas_limit * max_fee))})
        _rebroadcast_unsent(sender_key(wallet.address, network.chain_id))
        key = private_key_decrypt(wallet.encrypted_private_key)
        # next_nonce(w3, address) is the default chain's (the form crash tests wrap); another network's names it.
        other_chain = () if int(network.chain_id) == int(settings.ETH_CHAIN_ID) else (network.chain_id,)
        for _ in range(NONCE_ATTEMPTS):
            nonce = next_nonce(w3, wallet.address, *other_chain)
            signed = Account.sign_transaction(
                {"to": recipient, "value": value, "data": data, "nonce": nonce, "gas": gas_limit,
                 "maxFeePerGas": max_fee, "maxPriorityFeePerGas": priority_fee, "chainId": network.chain_id,
                 "type": 2}, key)
            transfer = OutgoingTransfer(
                user=requested_by, organization_id=wallet.organization_id, wallet=wallet, cryptocurrency=token,
                to_address=to, amount=amount, idempotency_key=scoped_key, request_fingerprint=fingerprint,
                chain_id=network.chain_id, nonce=nonce, gas_limit=gas_limit, max_fee_per_gas=max_fee,
                max_priority_fee_per_gas=priority_fee, signed_raw_transaction=signed.raw_transaction.to_0x_hex(),
                tx_hash=signed.hash.to_0x_hex(), sender=sender_key(wallet.address, network.chain_id),
                nonce_key=nonce_key(wallet.address, nonce, network.chain_id), network=network.name,
            )
            try:
                transfer.save()  # the reservation and the record: one insert, before anything leaves
                break
            except IntegrityError:
                existing = OutgoingTransfer.objects.filter(idempotency_key=scoped_key).first()
                if existing is not None:  # a concurrent request with the same key won
                    return _replay(existing, fingerprint), False
                continue  # a concurrent send from this key took the nonce: derive it again
        else:
            raise Conflict(ErrorCode.SEND_BUSY, "Too many sends from this wallet at once; try again.")
        del key
    except chain.ChainError as exc:
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, str(exc)) from None
    pending_row_ensure(transfer)
    transfer_broadcast(transfer)
    transfer.refresh_from_db()
    return transfer, True


def _asset_on(network: networks.Network, asset: str) -> Cryptocurrency:
    """The tracked asset `asset` as sent on `network`: its native coin (ETH, POL, BNB:
    Cryptocurrency.native_of) or an active ERC-20 token of that network (Cryptocurrency.network)."""
    symbol = (asset or "").upper()
    if symbol == network.native_asset.upper():
        token = Cryptocurrency.native_of(network)
    else:
        token = Cryptocurrency.objects.filter(symbol=symbol, network=network.name).exclude(contract_address="").first()
    if token is not None and not token.is_active:
        token = None
    if token is None:
        raise InvalidInput(ErrorCode.UNKNOWN_ASSET, f"{asset!r} is not a tracked asset on {network.name} "
                           f"(its coin is {network.native_asset}).", {"network": network.name})
    return token


def _call_of(w3: Web3, token: Cryptocurrency, to: str, raw_amount: int) -> tuple[str, int, bytes]:
    """(recipient of the transaction, wei value, call data) of sending `raw_amount` of `token`."""
    if token.contract_address:
        call = erc20_contract(w3, token.contract_address).functions.transfer(to, raw_amount)
        return Web3.to_checksum_address(token.contract_address), 0, call._encode_transaction_data()
    return to, raw_amount, b""


def next_nonce(w3: Web3, address: str, chain_id: int | None = None) -> int:
    """The nonce of the next send from `address`: after every nonce the node has (mined or pending)
    and every nonce a stored transfer holds. Read at signing time; the unique `nonce_key` of the
    insert that follows settles a race."""
    chain_pending = w3.eth.get_transaction_count(address, "pending")
    last = (OutgoingTransfer.objects.filter(sender=sender_key(address, chain_id), nonce_key__isnull=False)
            .order_by("-nonce").only("nonce").first())
    return max(chain_pending, last.nonce + 1 if last is not None else 0)


def fee_tier_check(fee_tier: str) -> None:
    if fee_tier not in gas.TIER_NAMES:
        raise InvalidInput(ErrorCode.INVALID_FEE_TIER, f"The fee tier must be one of {', '.join(gas.TIER_NAMES)}.",
                           {"field": "fee_tier", "given": str(fee_tier)[:20]})


def fee_quote(w3: Web3, fee_tier: str = "normal") -> tuple[int, int]:
    """(max fee per gas, priority fee) in wei for a send at `fee_tier` (wallets.gas.TIER_NAMES; at
    least a 1 gwei tip)."""
    fee_tier_check(fee_tier)
    quote = fee_tiers_from_node(w3)
    chosen = quote["tiers"][gas.TIER_NAMES.index(fee_tier)]
    tip = max(chosen.max_priority_fee_per_gas, PRIORITY_FEE_WEI)
    return 2 * quote["base_fee_per_gas"] + tip, tip


def _replay(transfer: OutgoingTransfer, fingerprint: str) -> OutgoingTransfer:
    if transfer.request_fingerprint != fingerprint:
        raise Conflict(ErrorCode.IDEMPOTENCY_KEY_REUSED, "This Idempotency-Key was used for a different request.")
    if transfer.status == TransferStatus.PREPARED:
        pending_row_ensure(transfer)
        transfer_broadcast(transfer)  # the earlier attempt died before the node had it: send the same bytes
        transfer.refresh_from_db()
    return transfer


def _rebroadcast_unsent(sender: str) -> None:
    """Before signing the next nonce, send again the stored bytes of this key that never reached the
    node (a sender killed after its insert), so the new send does not wait behind a hole."""
    for transfer in OutgoingTransfer.objects.filter(sender=sender, status=TransferStatus.PREPARED).order_by("nonce"):
        pending_row_ensure(transfer)
        try:
            transfer_broadcast(transfer)
        except DomainError:
            pass  # refused: recorded on that transfer (FAILED), its nonce freed


def transfer_broadcast(transfer: OutgoingTransfer) -> None:
    """Send the stored bytes. BROADCAST once the node accepted them or already knows the hash. A
    definite refusal is FAILED: the nonce is freed unless the chain has used it ("nonce too low": the
    bytes can never be mined). A network error or timeout is ambiguous: it stays PREPARED and the
    retry or the reconciler sends the same bytes again."""
    try:
        w3 = _client_for_chain(transfer.chain_id)
        w3.eth.send_raw_transaction(transfer.signed_raw_transaction)
    except Web3RPCError as exc:
        if node_knows(transfer.tx_hash, transfer.chain_id):  # already received (a rebroadcast): not a second payment
            _mark_broadcast(transfer)
            return
        reason = str(exc)
        nonce_used = "nonce too low" in reason.lower()
        _mark_failed(transfer, reason, free_nonce=not nonce_used)
        raise InvalidInput(ErrorCode.BROADCAST_REJECTED, "The node rejected the transaction.",
                           {"reason": reason[:300]}) from None
    except Exception as exc:
        logger.warning("broadcast of %s deferred: %s", transfer.tx_hash, exc)
        return
    _mark_broadcast(transfer)


def node_knows(tx_hash: str, chain_id: int | None = None) -> bool:
    try:
        return _client_for_chain(chain_id).eth.get_transaction(tx_hash) is not None
    except Exception:
        return False


def _mark_broadcast(transfer: OutgoingTransfer) -> None:
    OutgoingTransfer.objects.filter(pk=transfer.pk, status=TransferStatus.PREPARED).update(
        status=TransferStatus.BROADCAST, broadcast_at=timezone.now())


def _mark_failed(transfer: OutgoingTransfer, reason: str, *, free_nonce: bool) -> None:
    changes = {"status": TransferStatus.FAILED, "error": reason[:2000]}
    if free_nonce:
        changes["nonce_key"] = None
    OutgoingTransfer.objects.filter(pk=transfer.pk, status__in=OPEN_TRANSFER_STATUSES).update(**changes)
    Transaction.objects.for_organization(transfer.organization_id).filter(
        wallet_id=transfer.wallet_id, hash=transfer.tx_hash, status=TransactionStatus.PENDING,
    ).update(status=TransactionStatus.FAILED)


def transfer_mark_failed(transfer: OutgoingTransfer, reason: str, *, free_nonce: bool) -> None:
    """For the reconciler: the transfer can never be mined (its nonce went to another transaction)."""
    _mark_failed(transfer, reason, free_nonce=free_nonce)


# --- the pending row ------------------------------------------------------------------------------------
def _pending_external_id(transfer: OutgoingTransfer, tx_hash: str | None = None) -> str:
    tx_hash = tx_hash or transfer.tx_hash
    address = transfer.wallet.address
    if transfer.cryptocurrency.contract_address:
        return external_ids.chain_pending_external_id(tx_hash=tx_hash, address=address, network=transfer.network)
    return external_ids.chain_external_id(tx_hash=tx_hash, log_index=external_ids.NATIVE_LOG_INDEX, address=address,
                                          network=transfer.network)


def pending_row_ensure(transfer: OutgoingTransfer) -> Transaction | None:
    """The transfer's transaction row (PENDING until settled), made once: its external_id is unique,
    so the sender, its retry, the reconciler and the settle step may all call this."""
    if transfer.kind != TransferKind.PAYMENT:
        return None
    if transfer.transaction_id is not None:
        row = Transaction.objects.filter(pk=transfer.transaction_id).first()
        if row is not None:
            return row
    external_id = _pending_external_id(transfer)
    rows = Transaction.objects.for_organization(transfer.organization_id)
    row = rows.filter(external_id=external_id).first()
    created = False
    if row is None:
        row = Transaction(
            transaction_type=TransactionType.TRANSFER, user_id=transfer.wallet.user_id,
            organization_id=transfer.organization_id, wallet_id=transfer.wallet_id,
            cryptocurrency_id=transfer.cryptocurrency_id, amount=transfer.amount,
            transaction_date=transfer.created_at or timezone.now(), hash=transfer.tx_hash,
            from_address=transfer.wallet.address, to_address=transfer.to_address, direction=TransferDirection.OUT,
            status=TransactionStatus.PENDING, source=TransactionSource.CHAIN,
            description=f"Sent to {transfer.to_address}", external_id=external_id,
        )
        try:
            row.save()
            created = True
        except IntegrityError:
            row = rows.filter(external_id=external_id).first()
            if row is None:
                return None
    OutgoingTransfer.objects.filter(pk=transfer.pk, transaction__isnull=True).update(transaction=row)
    transfer.transaction_id = row.pk
    if created:
        transaction_event("transaction.created", row)
    return row


# --- contract write calls ------------------------------------------------------------------------------
def contract_call_send(*, user, session, wallet: Wallet, network: networks.Network, to: str, data: bytes,
                       value_wei: int = 0, function: str = "", idempotency_key: str) -> tuple[OutgoingTransfer, bool]:
    """`user` calls contract `to` on `network` with call data `data` (and `value_wei` of the network's
    native coin), signed by `wallet`'s key, in a session approved by password: the same rules as
    `transfer_send` (exactly once per (user, Idempotency-Key); the intent, its nonce and the signed
    bytes stored in one insert before broadcast; a repeat returns the stored record, rebroadcasting
    bytes that never left). A call the node says would revert is refused before anything is signed
    (InvalidInput CALL_REVERTED with the node's reason). Returns (transfer, created)."""
    permissions.require_own(user, wallet)
    permissions.require(permissions.can_send_from_wallet(user, wallet),
                        "Only the wallet's owner or a manager can sign with it.")
    require_approved_session(session)
    if not idempotency_key or len(idempotency_key) > 200:
        raise InvalidRequest(ErrorCode.IDEMPOTENCY_KEY_REQUIRED, "Send an Idempotency-Key header (1-200 characters).")
    scoped_key = f"{user.pk}:{idempotency_key}"
    to = address_normalise(to)
    value_wei = int(value_wei)
    fingerprint = _fingerprint(kind=TransferKind.CONTRACT_CALL, wallet=str(wallet.pk), network=network.name, to=to,
                               data=data.hex(), value=str(value_wei))
    existing = OutgoingTransfer.objects.filter(idempotency_key=scoped_key).first()
    if existing is not None:
        return _replay(existing, fingerprint), False
    if wallet.wallet_type != WalletType.PRIVATE_KEY or not wallet.encrypted_private_key:
        raise Conflict(ErrorCode.WATCH_ONLY_WALLET, "This wallet holds no key: sign the transaction in your own wallet.")
    if value_wei < 0:
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, "The value sent with a call cannot be negative.")
    coin = (Cryptocurrency.objects.filter(symbol=network.native_asset, contract_address="").first()
            or Cryptocurrency.objects.filter(symbol="ETH", contract_address="").first())
    if coin is None:
        raise InvalidInput(ErrorCode.UNKNOWN_ASSET, f"{network.native_asset} is not a tracked asset.")
    w3 = networks.web3_for(network)
    try:
        max_fee, priority_fee = fee_quote(w3)
        try:
            estimate = w3.eth.estimate_gas({"from": wallet.address, "to": to, "data": data, "value": value_wei})
        except Exception as exc:
            raise InvalidInput(ErrorCode.CALL_REVERTED, "The node says this call would fail.",
                               {"reason": str(exc)[:300]}) from None
        gas_limit = int(estimate * 1.2)
        balance = w3.eth.get_balance(wallet.address)
        if balance < value_wei + gas_limit * max_fee:
            raise InvalidInput(ErrorCode.INSUFFICIENT_FUNDS, "The balance does not cover the value plus the maximum fee.",
                               {"balance": str(chain.wei_to_eth(balance)),
                                "needed": str(chain.wei_to_eth(value_wei + gas_limit * max_fee))})
        sender = sender_key(wallet.address, network.chain_id)
        _rebroadcast_unsent(sender)
        key = private_key_decrypt(wallet.encrypted_private_key)
        for _ in range(NONCE_ATTEMPTS):
            nonce = next_nonce(w3, wallet.address, network.chain_id)
            signed = Account.sign_transaction(
                {"to": to, "value": value_wei, "data": data, "nonce": nonce, "gas": gas_limit,
                 "maxFeePerGas": max_fee, "maxPriorityFeePerGas": priority_fee, "chainId": network.chain_id,
                 "type": 2}, key)
            transfer = OutgoingTransfer(
                user=user, organization_id=wallet.organization_id, wallet=wallet, cryptocurrency=coin,
                to_address=to, amount=chain.wei_to_eth(value_wei), idempotency_key=scoped_key,
                request_fingerprint=fingerprint, chain_id=network.chain_id, nonce=nonce, gas_limit=gas_limit,
                max_fee_per_gas=max_fee, max_priority_fee_per_gas=priority_fee,
                signed_raw_transaction=signed.raw_transaction.to_0x_hex(), tx_hash=signed.hash.to_0x_hex(),
                sender=sender, nonce_key=nonce_key(wallet.address, nonce, network.chain_id),
                kind=TransferKind.CONTRACT_CALL, call_data="0x" + data.hex(), call_function=function[:300],
                network=network.name,
            )
            try:
                transfer.save()  # the reservation and the record: one insert, before anything leaves
                break
            except IntegrityError:
                existing = OutgoingTransfer.objects.filter(idempotency_key=scoped_key).first()
                if existing is not None:
                    return _replay(existing, fingerprint), False
                continue
        else:
            raise Conflict(ErrorCode.SEND_BUSY, "Too many sends from this wallet at once; try again.")
        del key
    except chain.ChainError as exc:
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, str(exc)) from None
    transfer_broadcast(transfer)
    transfer.refresh_from_db()
    return transfer, True


def _contract_call_of(transfer: OutgoingTransfer) -> tuple[str, int, bytes]:
    """(recipient, wei value, call data) of a stored contract call (for signing it again)."""
    value = int(Decimal(transfer.amount).scaleb(18))
    return Web3.to_checksum_address(transfer.to_address), value, bytes.fromhex(transfer.call_data.removeprefix("0x"))


def transfer_refresh(transfer: OutgoingTransfer) -> OutgoingTransfer:
    """Read the receipt of a send from its own chain's node and settle it if mined (any network;
    the reconciler covers every network every minute). A node that does not answer changes nothing."""
    if transfer.status not in OPEN_TRANSFER_STATUSES:
        return transfer
    try:
        w3 = _client_for_chain(transfer.chain_id)
        receipt = receipt_of(w3, transfer)
        if receipt is not None:
            transfer_settle(transfer, w3=w3, receipt=receipt, head=w3.eth.block_number)
    except (chain.ChainError, DomainError) as exc:
        logger.info("refresh of transfer %s deferred: %s", transfer.pk, exc)
        return transfer
    transfer.refresh_from_db()
    return transfer


# --- settling a mined send ------------------------------------------------------------------------------
def confirmations_of(receipt, head: int) -> int:
    return max(0, head - receipt["blockNumber"] + 1)


def chain_status(receipt, head: int, confirmations: int | None = None) -> str:
    """The one notion of a transaction's status: PENDING until `confirmations` blocks (default
    ETH_CONFIRMATIONS; a send's network's own: `send_confirmations`) hold it (counting its own), then
    CONFIRMED, or FAILED if it reverted."""
    if receipt is None or confirmations_of(receipt, head) < (confirmations or settings.ETH_CONFIRMATIONS):
        return TransactionStatus.PENDING
    return TransactionStatus.CONFIRMED if receipt["status"] == 1 else TransactionStatus.FAILED


def send_confirmations(transfer: OutgoingTransfer) -> int:
    """The confirmations a send's network asks for (wallets.networks.confirmations_for)."""
    try:
        return networks.confirmations_for(transfer.network or networks.network_of_chain_id(transfer.chain_id))
    except DomainError:  # a network the settings no longer list
        return settings.ETH_CONFIRMATIONS


def receipt_of(w3: Web3, transfer: OutgoingTransfer):
    """The receipt of whichever signature of this intent was mined (the current or a replaced one)."""
    for tx_hash in [transfer.tx_hash, *transfer.replaced_hashes]:
        try:
            receipt = w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            continue
        if receipt is not None:
            return receipt
    return None


def transfer_for_hash(*, organization_id, wallet_id, tx_hash: str) -> OutgoingTransfer | None:
    """The send of a wallet that a mined hash belongs to (its current or a replaced signature)."""
    sends = OutgoingTransfer.objects.for_organization(organization_id).filter(wallet_id=wallet_id)
    transfer = sends.filter(tx_hash=tx_hash).first()
    if transfer is not None:
        return transfer
    for candidate in sends.filter(status__in=OPEN_TRANSFER_STATUSES).only("pk", "replaced_hashes"):
        if tx_hash in (candidate.replaced_hashes or []):
            return OutgoingTransfer.objects.get(pk=candidate.pk)
    return None


def transfer_settle(transfer: OutgoingTransfer, *, w3: Web3, receipt, head: int) -> bool:
    """Complete a mined send whatever step its sender died at: once ETH_CONFIRMATIONS blocks hold it,
    the transfer becomes CONFIRMED (or FAILED if reverted) with the fee paid, and its transaction row
    (made now if the sender never made it) gets the on-chain facts, the log's real index for a token,
    and the same status. Before that it is BROADCAST (mined, so not stuck). Idempotent (conditional
    updates): the monitor, the reconciler and the status read may race. Returns True when this call
    settled it."""
    mined_hash = receipt["transactionHash"].to_0x_hex()
    status = chain_status(receipt, head, send_confirmations(transfer))
    if mined_hash != transfer.tx_hash:  # a replaced signature of this same intent was mined
        OutgoingTransfer.objects.filter(pk=transfer.pk).update(tx_hash=mined_hash)
        _row_rehash(transfer, mined_hash)
        transfer.tx_hash = mined_hash
    if status == TransactionStatus.PENDING:
        OutgoingTransfer.objects.filter(pk=transfer.pk, status__in=(TransferStatus.PREPARED, TransferStatus.STUCK)).update(
            status=TransferStatus.BROADCAST, block_number=receipt["blockNumber"], error="")
        return False
    fee_wei = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    settled = OutgoingTransfer.objects.filter(pk=transfer.pk, status__in=OPEN_TRANSFER_STATUSES).update(
        status=TransferStatus.CONFIRMED if status == TransactionStatus.CONFIRMED else TransferStatus.FAILED,
        fee=chain.wei_to_eth(fee_wei), block_number=receipt["blockNumber"], error="")
    row = pending_row_ensure(transfer)
    if row is not None and row.status == TransactionStatus.PENDING:
        _row_settle(transfer, row, w3=w3, receipt=receipt, status=status)
    if settled:
        transactions_changed_announce(user_id=transfer.wallet.user_id, organization_id=transfer.organization_id,
                                      after_commit=False)
    return bool(settled)


def _row_rehash(transfer: OutgoingTransfer, tx_hash: str) -> None:
    Transaction.objects.for_organization(transfer.organization_id).filter(
        wallet_id=transfer.wallet_id, hash=transfer.tx_hash, status=TransactionStatus.PENDING,
    ).update(hash=tx_hash, external_id=_pending_external_id(transfer, tx_hash))


def _row_settle(transfer: OutgoingTransfer, row: Transaction, *, w3: Web3, receipt, status: str) -> None:
    fee = chain.wei_to_eth(receipt["gasUsed"] * receipt["effectiveGasPrice"])
    block = w3.eth.get_block(receipt["blockNumber"])
    facts = {
        "status": status, "block_number": receipt["blockNumber"], "gas_used": receipt["gasUsed"],
        "gas_price": chain.wei_to_eth(receipt["effectiveGasPrice"]), "gas_fee": fee, "fee": fee,
        "transaction_date": dt.datetime.fromtimestamp(block["timestamp"], tz=dt.UTC),
        "hash": transfer.tx_hash,
    }
    token = transfer.cryptocurrency
    if token.contract_address:
        log_index = _token_log_index(receipt, token.contract_address, transfer.wallet.address)
        if log_index is not None:
            facts["log_index"] = log_index
            facts["external_id"] = external_ids.chain_external_id(
                tx_hash=transfer.tx_hash, log_index=log_index, address=transfer.wallet.address,
                network=transfer.network)
    rows = Transaction.objects.for_organization(transfer.organization_id)
    try:
        changed = rows.filter(pk=row.pk, status=TransactionStatus.PENDING).update(**facts)
    except IntegrityError:
        # A row of this movement already exists under its on-chain id (recorded before this fix):
        # that one stays, the pending duplicate goes.
        existing = rows.filter(external_id=facts["external_id"]).first()
        rows.filter(pk=row.pk, status=TransactionStatus.PENDING).delete()
        if existing is not None:
            OutgoingTransfer.objects.filter(pk=transfer.pk).update(transaction=existing)
        return
    if changed:
        row.refresh_from_db()
        transaction_event("transaction.confirmed", row)


def _token_log_index(receipt, contract_address: str, sender: str) -> int | None:
    """The index (within its block) of the token's Transfer log sent by `sender` in this receipt."""
    for log in receipt["logs"]:
        topics = log["topics"]
        if (log["address"].lower() == contract_address.lower() and len(topics) >= 3
                and topics[0].to_0x_hex() == TRANSFER_TOPIC
                and Web3.to_checksum_address("0x" + topics[1].hex()[-40:]) == sender):
            return log["logIndex"]
    return None


# --- the way out of STUCK -------------------------------------------------------------------------------
def transfer_fee_bump(*, transfer: OutgoingTransfer, actor=None) -> OutgoingTransfer:
    """Sign THE SAME intent again (same nonce, recipient, amount, gas limit) with the max fee and the
    tip raised by FEE_BUMP_PERCENT (at least the current quote), store it (the old hash kept in
    `replaced_hashes`) and broadcast it. Both signatures hold one nonce, so the chain mines at most
    one of them: never a second payment. For a BROADCAST or STUCK transfer. `actor`: the member
    asking (the wallet's owner or a manager); None for an operator's command."""
    if actor is not None:
        permissions.require_own(actor, transfer)
        permissions.require(permissions.can_send_from_wallet(actor, transfer.wallet),
                            "Only the wallet's owner or a manager can change this send.")
    if transfer.status not in (TransferStatus.BROADCAST, TransferStatus.STUCK):
        raise Conflict(ErrorCode.TRANSFER_NOT_OPEN, f"A {transfer.status} transfer cannot be bumped.")
    wallet = transfer.wallet
    try:
        w3 = _client_for_chain(transfer.chain_id)
        # A block already holds it: a new signature of the nonce would be refused ("nonce too low")
        # and the mined payment marked failed; the reconciler settles it instead.
        mined = receipt_of(w3, transfer) is not None
        quote_max, quote_tip = fee_quote(w3)
        token = transfer.cryptocurrency
        raw_amount = int(Decimal(transfer.amount).scaleb(token.decimals))
        recipient, value, data = _call_of(w3, token, transfer.to_address, raw_amount)
    except chain.ChainError as exc:
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, str(exc)) from None
    if mined:
        raise Conflict(ErrorCode.TRANSFER_NOT_OPEN, "A block already holds this send; it settles by itself.")
    if transfer.kind == TransferKind.NONCE_FILLER:
        recipient, value, data = wallet.address, 0, b""
    elif transfer.kind == TransferKind.CONTRACT_CALL:
        recipient, value, data = _contract_call_of(transfer)
    old_tip, old_max = int(transfer.max_priority_fee_per_gas), int(transfer.max_fee_per_gas)
    tip = max(math.ceil(old_tip * (100 + FEE_BUMP_PERCENT) / 100), quote_tip)
    max_fee = max(math.ceil(old_max * (100 + FEE_BUMP_PERCENT) / 100), quote_max, tip)
    signed = Account.sign_transaction(
        {"to": recipient, "value": value, "data": data, "nonce": transfer.nonce, "gas": transfer.gas_limit,
         "maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip, "chainId": transfer.chain_id, "type": 2},
        private_key_decrypt(wallet.encrypted_private_key))
    new_hash = signed.hash.to_0x_hex()
    replaced = OutgoingTransfer.objects.filter(pk=transfer.pk, tx_hash=transfer.tx_hash,
                                               status=transfer.status).update(
        tx_hash=new_hash, signed_raw_transaction=signed.raw_transaction.to_0x_hex(), max_fee_per_gas=max_fee,
        max_priority_fee_per_gas=tip, replaced_hashes=[*transfer.replaced_hashes, transfer.tx_hash],
        status=TransferStatus.PREPARED, error="")
    if not replaced:
        raise Conflict(ErrorCode.TRANSFER_NOT_OPEN, "This transfer changed meanwhile; look at it again.")
    _row_rehash(transfer, new_hash)
    transfer.refresh_from_db()
    transfer_broadcast(transfer)
    transfer.refresh_from_db()
    logger.info("transfer %s fee bumped: nonce %s, %s -> %s", transfer.pk, transfer.nonce,
                transfer.replaced_hashes[-1], new_hash)
    return transfer


# --- reads from the node --------------------------------------------------------------------------------
def _reader(network: str | None) -> tuple[Web3, int]:
    """The node of `network` (None: the default one, as before networks) and its confirmations."""
    if not network:
        return chain.web3_client(), int(settings.ETH_CONFIRMATIONS)
    found = networks.network_get(network)
    return networks.web3_for(found), networks.confirmations_for(found)


def transaction_status(*, tx_hash: str, network: str | None = None) -> dict:
    """PENDING until the network's confirmations (ETH_CONFIRMATIONS on ethereum) hold it, then
    CONFIRMED, or FAILED if it reverted (in lower case), with the confirmation count and the fee paid.
    A send of ours that this read finds settled is settled in the books at once (the same rule the
    monitor applies), so the stored row and this answer agree. `network`: which node to ask (default:
    the default network)."""
    w3, confirmations = None, None
    try:
        w3, confirmations = _reader(network)
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
    status = chain_status(receipt, head, confirmations)
    result = {"hash": tx_hash, "from_address": tx["from"], "to_address": tx.get("to"),
              "value_eth": chain.wei_to_eth(tx["value"]), "nonce": tx["nonce"], "block_number": tx.get("blockNumber"),
              "status": status.lower(), "confirmations": 0, "required_confirmations": confirmations,
              "gas_used": None, "effective_gas_price": None, "fee_eth": None}
    if receipt is not None:
        result.update(
            confirmations=confirmations_of(receipt, head), gas_used=receipt["gasUsed"],
            effective_gas_price=receipt["effectiveGasPrice"],
            fee_eth=chain.wei_to_eth(receipt["gasUsed"] * receipt["effectiveGasPrice"]),
            block_number=receipt["blockNumber"],
        )
        if status != TransactionStatus.PENDING:
            for transfer in OutgoingTransfer.objects.filter(tx_hash=tx_hash, status__in=OPEN_TRANSFER_STATUSES):
                transfer_settle(transfer, w3=w3, receipt=receipt, head=head)
    return result


def fee_tiers_from_node(w3: Web3, blocks: int = FEE_HISTORY_BLOCKS) -> dict:
    """{base_fee_per_gas (next block), block_seconds, tiers: [slow, normal, fast] (wallets.gas.FeeTier)}."""
    history = w3.eth.fee_history(blocks, "latest", list(gas.PERCENTILES))
    latest = w3.eth.get_block("latest")
    oldest_number = max(0, latest["number"] - blocks)
    oldest = w3.eth.get_block(oldest_number)
    span = latest["number"] - oldest_number
    block_seconds = (latest["timestamp"] - oldest["timestamp"]) / span if span else 0
    block_seconds = max(block_seconds, 1.0)
    tiers = gas.fee_tiers(rewards=history["reward"] or [], gas_used_ratios=history["gasUsedRatio"] or [],
                          next_base_fee=history["baseFeePerGas"][-1], block_seconds=block_seconds)
    return {"base_fee_per_gas": history["baseFeePerGas"][-1], "block_seconds": block_seconds, "tiers": tiers}


def gas_estimate(*, from_address: str, to: str, amount: Decimal, asset: str = "ETH", fiat: str = "USD",
                 organization=None, network: str | None = None) -> dict:
    """Gas limit of the transfer and slow/normal/fast fee tiers (wallets.gas: eth_feeHistory reward
    percentiles 10/50/90 over recent blocks) with the expected wait of each, in ETH and in `fiat` (the
    organization's) at the current ETH price it sees (no fiat figure without one). The cost of a tier
    is what it would pay at the next block's base fee (gas x (base fee + tip))."""
    from_address, to = address_normalise(from_address), address_normalise(to)
    if network:  # the network's coin or one of its tokens, on its node
        token = _asset_on(networks.network_get(network), asset)
    else:
        token = Cryptocurrency.objects.filter(symbol=asset.upper()).first()
        if token is None:
            raise InvalidInput(ErrorCode.UNKNOWN_ASSET, f"{asset!r} is not a tracked asset.")
    try:
        w3, _ = _reader(network)
        if token.contract_address:
            raw = int(Decimal(amount).scaleb(token.decimals))
            gas_limit = erc20_contract(w3, token.contract_address).functions.transfer(to, raw).estimate_gas(
                {"from": from_address})
        else:
            gas_limit = w3.eth.estimate_gas({"from": from_address, "to": to, "value": chain.eth_to_wei(Decimal(amount))})
        quote = fee_tiers_from_node(w3)
    except chain.ChainError as exc:
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, str(exc)) from None
    except Exception as exc:
        raise InvalidInput(ErrorCode.ESTIMATE_FAILED, "The node cannot estimate this transfer.", {"reason": str(exc)[:300]}) from None
    base_fee = quote["base_fee_per_gas"]
    price = _eth_price(fiat, organization)
    tiers = {}
    for tier in quote["tiers"]:
        cost_eth = chain.wei_to_eth(gas_limit * (base_fee + tier.max_priority_fee_per_gas))
        tiers[tier.name] = {"max_fee_per_gas": tier.max_fee_per_gas,
                            "max_priority_fee_per_gas": tier.max_priority_fee_per_gas, "cost_eth": cost_eth,
                            "cost_fiat": quantize_fiat(cost_eth * price, fiat) if price else None,
                            "expected_wait_blocks": tier.expected_wait_blocks,
                            "expected_wait_seconds": tier.expected_wait_seconds}
    return {"gas_limit": gas_limit, "base_fee_per_gas": base_fee, "block_seconds": quote["block_seconds"],
            "fiat_currency": fiat, "tiers": tiers}


def _eth_price(fiat: str, organization=None) -> Decimal | None:
    try:
        return price_current(symbol="ETH", fiat=fiat, organization=organization)
    except DomainError:
        return None
