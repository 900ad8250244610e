"""The send reconciler: each key's stored intents against its network's node, at start-up
(`runstack`) and every minute (huey task `sends_reconcile`); by hand `manage.py reconcile_sends`.

It walks every configured network (wallets.networks: ethereum, polygon, bsc, ...) with open sends,
each against its own node (chain id checked): payments, nonce fillers and contract calls
(TransferKind.CONTRACT_CALL, signed by ai_audit.contracts) alike. A network whose node does not answer
is skipped with a note and the others still reconciled (the default network's failure is raised
after them, as before networks existed); open sends of a chain id no network is configured for are
left alone, with a note.

For every key (chain + address) with open transfers (PREPARED, BROADCAST, STUCK), in nonce order:
- mined (a receipt for its hash or a replaced signature's): settled through
  wallets.transfers.transfer_settle (CONFIRMED/FAILED at the network's confirmations, with the fee and
  its row);
- not mined and its nonce already used on chain by another transaction: FAILED (those bytes can
  never be mined; nothing is signed again);
- unknown to the node (lost from its pool, a node restart, a sender killed before broadcasting):
  the stored bytes are broadcast again, never re-signed;
- known but not mined for TRANSFER_STUCK_AFTER_SECONDS: STUCK, with the way out in its `error`
  (`manage.py transfer_fee_bump <id>`: the same intent and nonce with a higher fee).
Then the gaps: a nonce between the chain's count and the highest nonce a stored transfer holds that
no stored transfer holds (burned by an older version, or freed when the node refused a transfer)
keeps every later send from being mined. It is filled with a 0-ETH send to the wallet itself (a
NONCE_FILLER transfer, stored before it is broadcast like any send): never a second payment of an
intent, never a payment to anyone.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from eth_account import Account

from accounts.models import NotificationPriority, NotificationType
from accounts.notifications import notification_create
from core.errors import DomainError
from wallets import keystore, networks, transfers
from wallets.models import (
    OPEN_TRANSFER_STATUSES,
    Cryptocurrency,
    OutgoingTransfer,
    TransferKind,
    TransferStatus,
    Wallet,
)

logger = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    senders: int = 0
    settled: int = 0
    rebroadcast: int = 0
    failed: int = 0
    stuck: int = 0
    fillers: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"senders": self.senders, "settled": self.settled, "rebroadcast": self.rebroadcast,
                "failed": self.failed, "stuck": self.stuck, "fillers": self.fillers, "notes": self.notes[:20]}


def sends_reconcile() -> ReconcileReport:
    """Every key with open transfers, on every configured network (system work across organizations)."""
    report = ReconcileReport()
    open_senders: dict[int, set[str]] = {}
    for chain_id, sender in OutgoingTransfer.objects.filter(status__in=OPEN_TRANSFER_STATUSES).values_list(
            "chain_id", "sender"):
        if sender:
            open_senders.setdefault(int(chain_id), set()).add(sender)
    failure = None
    for index, network in enumerate(networks.networks()):
        senders = open_senders.pop(int(network.chain_id), set())
        if not senders and index:
            continue  # nothing open there: its node is not asked anything
        try:
            w3 = networks.web3_for(network)
        except DomainError as exc:
            if not index:
                failure = exc
            logger.warning("send reconciler: %s skipped: %s", network.name, exc.message)
            report.notes.append(f"{network.name}: {exc.message}"[:300])
            continue
        for sender in sorted(senders):
            report.senders += 1
            try:
                sender_reconcile(w3, sender, report, network=network)
            except Exception as exc:  # one key's trouble never stops the others
                logger.exception("reconciling %s failed", sender)
                report.notes.append(f"{sender}: {type(exc).__name__}: {exc}"[:300])
    for chain_id in sorted(open_senders):
        report.notes.append(f"open sends on chain {chain_id} left alone: no network with that chain id is configured")
    if any((report.settled, report.rebroadcast, report.failed, report.stuck, report.fillers)):
        logger.info("send reconciler: %s", report.as_dict())
    if failure is not None:
        raise failure
    return report


def sender_reconcile(w3, sender: str, report: ReconcileReport, *, network: networks.Network) -> None:
    address = sender.split(":", 1)[1]
    head = w3.eth.block_number
    mined_count = w3.eth.get_transaction_count(address, "latest")  # read before the receipts
    stuck_after = dt.timedelta(seconds=settings.TRANSFER_STUCK_AFTER_SECONDS)
    for transfer in OutgoingTransfer.objects.filter(sender=sender, status__in=OPEN_TRANSFER_STATUSES).order_by("nonce"):
        receipt = transfers.receipt_of(w3, transfer)
        if receipt is not None:
            if transfers.transfer_settle(transfer, w3=w3, receipt=receipt, head=head):
                report.settled += 1
            continue
        if transfer.nonce < mined_count:
            transfers.transfer_mark_failed(
                transfer, f"nonce {transfer.nonce} was used by another transaction; these bytes can never be mined",
                free_nonce=False)
            report.failed += 1
            continue
        transfers.pending_row_ensure(transfer)
        if not transfers.node_knows(transfer.tx_hash, transfer.chain_id):
            try:
                transfers.transfer_broadcast(transfer)
                report.rebroadcast += 1
            except DomainError as exc:
                report.failed += 1
                report.notes.append(f"transfer {transfer.pk} refused on rebroadcast: {exc}"[:300])
                continue
        else:
            OutgoingTransfer.objects.filter(pk=transfer.pk, status=TransferStatus.PREPARED).update(
                status=TransferStatus.BROADCAST, broadcast_at=timezone.now())
        since = transfer.broadcast_at or transfer.created_at
        if transfer.status == TransferStatus.BROADCAST and since and timezone.now() - since > stuck_after:
            marked = OutgoingTransfer.objects.filter(pk=transfer.pk, status=TransferStatus.BROADCAST).update(
                status=TransferStatus.STUCK,
                error=(f"No block has included nonce {transfer.nonce} since {since:%Y-%m-%d %H:%M} UTC. Way out: "
                       f"`manage.py transfer_fee_bump {transfer.pk}` signs this same intent and nonce again with a "
                       f"higher fee (only one of the two can be mined)."))
            report.stuck += marked
            if marked:
                _stuck_notify(transfer, since)
    _fill_gaps(w3, sender, address, report, network)


def _stuck_notify(transfer: OutgoingTransfer, since) -> None:
    """Tell the member who asked for the send (its status says STUCK too, with the way out)."""
    notification_create(
        user=transfer.user, type=NotificationType.TRANSACTION, priority=NotificationPriority.HIGH,
        title=f"Send of {transfer.amount} {transfer.cryptocurrency.symbol} is stuck",
        message=(f"No block has included it since {since:%Y-%m-%d %H:%M} UTC (nonce {transfer.nonce}). Raising its "
                 f"fee replaces it with the same payment (only one can be mined)."),
        metadata={"transfer_id": str(transfer.pk), "tx_hash": transfer.tx_hash, "wallet_id": str(transfer.wallet_id)},
    )


def _fill_gaps(w3, sender: str, address: str, report: ReconcileReport, network: networks.Network) -> None:
    mined_count = w3.eth.get_transaction_count(address, "latest")
    held = set(OutgoingTransfer.objects.filter(sender=sender, nonce_key__isnull=False, nonce__gte=mined_count)
               .values_list("nonce", flat=True))
    if not held:
        return
    for nonce in range(mined_count, max(held)):
        if nonce not in held:
            if _filler_send(w3, address, nonce, report, network):
                report.fillers += 1


def _filler_send(w3, address: str, nonce: int, report: ReconcileReport, network: networks.Network) -> bool:
    # The key is the address's whatever network its wallet row names (one key signs on every chain);
    # a wallet on this network first.
    keyed = Wallet.objects.filter(address=address).exclude(encrypted_private_key="").select_related("user")
    wallet = (keyed.filter(network=network.name).order_by("created_at").first()
              or keyed.order_by("created_at").first())
    coin = Cryptocurrency.native_of(network)
    if wallet is None or coin is None:
        report.notes.append(f"{address}: nonce {nonce} is a gap but no stored key can fill it")
        return False
    chain_id = network.chain_id
    max_fee, tip = transfers.fee_quote(w3)
    attempt = OutgoingTransfer.objects.filter(kind=TransferKind.NONCE_FILLER,
                                              sender=transfers.sender_key(address, chain_id), nonce=nonce).count()
    signed = Account.sign_transaction(
        {"to": address, "value": 0, "data": b"", "nonce": nonce, "gas": transfers.ETH_TRANSFER_GAS,
         "maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip, "chainId": chain_id, "type": 2},
        keystore.private_key_decrypt(wallet.encrypted_private_key))
    filler = OutgoingTransfer(
        user=wallet.user, organization_id=wallet.organization_id, wallet=wallet, cryptocurrency=coin, to_address=address,
        amount=0, idempotency_key=f"filler:{chain_id}:{address}:{nonce}:{attempt}",
        request_fingerprint="", chain_id=chain_id, nonce=nonce, gas_limit=transfers.ETH_TRANSFER_GAS,
        max_fee_per_gas=max_fee, max_priority_fee_per_gas=tip, signed_raw_transaction=signed.raw_transaction.to_0x_hex(),
        tx_hash=signed.hash.to_0x_hex(), sender=transfers.sender_key(address, chain_id),
        nonce_key=transfers.nonce_key(address, nonce, chain_id), kind=TransferKind.NONCE_FILLER, network=network.name,
    )
    try:
        filler.save()
    except IntegrityError:
        return False  # a send took this nonce meanwhile: no gap any more
    try:
        transfers.transfer_broadcast(filler)
    except DomainError as exc:
        report.notes.append(f"{address}: filler for nonce {nonce} refused: {exc}"[:300])
        return False
    logger.warning("nonce gap filled: %s nonce %s (0-ETH send to itself, transfer %s)", address, nonce, filler.pk)
    return True
