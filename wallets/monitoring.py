"""The wallet monitor: records native-coin transfers (ETH, POL, BNB) and ERC-20 Transfer logs of
monitored wallets, on every configured network (wallets.networks).

Each network is scanned on its own node (`web3_for`, chain id checked), with its own checkpoint
(`monitor:<chain id>`) and its own confirmations (`networks.confirmations_for`): a wallet is watched
on its network only, its rows carry that network, and the tokens looked for are that network's
(`Cryptocurrency.network`). A network with no monitored wallet is not asked anything (the default
one still advances its checkpoint); one whose node does not answer is skipped with a note, the others
still scanned (the default network's failure is raised after them).

Only blocks with the network's confirmations are scanned, so a reorg within that depth cannot
leave a ghost row. Each transfer is recorded once per monitored wallet (two organizations watching
one address each get their own row, in their own organization) through the external_id
(wallets.external_ids: `chain:[<network>:]<tx hash>:<log index or -1>:<wallet address>`, so one hash
on two chains makes two rows), unique within an organization, however often the scan runs or
crashes; the checkpoint advances by compare-and-set after each chunk. Our own sends are matched by hash (or a
replaced signature's hash) and, for a token, the log's real index read from the receipt, then settled
in place through wallets.transfers.transfer_settle (confirmed or failed, with the fee actually paid,
whatever step the sender died at): no second row, no orphan pending row.

The node is asked in JSON-RPC batches (`chain.batched_calls`, 100 calls per request): a chunk's blocks,
then the receipts of the transactions that touch a monitored address; the Transfer logs with one
eth_getLogs per filter, a range the node refuses as too large asked again in halves, then the logs'
transactions, receipts and block times in batches. A node that refuses batches is asked one call at a
time.

After each scan, the balances of the wallets whose movements it recorded or settled are read from
the node, stored, and pushed to open pages (`wallet.balance_changed`, wallets.services
`wallet_balances_record`). Each recorded movement notifies the owner with a link to the wallet's
page.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, partial

from django.db import IntegrityError
from django.urls import reverse
from web3 import Web3

from accounts.models import NotificationPriority, NotificationType
from accounts.notifications import notification_create
from core.money import format_quantity
from core.realtime import events_batched
from wallets import chain, external_ids, networks, transfers
from wallets.erc20 import TRANSFER_TOPIC
from wallets.events import transaction_event
from wallets.models import (
    ChainCheckpoint,
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
)
from wallets.services import wallet_balances_record
from wallets.signals import transactions_changed_announce

logger = logging.getLogger(__name__)

CHUNK_BLOCKS = 200


@dataclass
class ScanReport:
    from_block: int | None = None
    to_block: int | None = None
    recorded: int = 0
    confirmed_sends: int = 0
    skipped_duplicates: int = 0
    notes: list[str] = field(default_factory=list)
    head: int | None = None  # the chain's head when the scan began
    users_changed: set = field(default_factory=set)  # ids of users with new or confirmed transactions
    wallets_changed: set = field(default_factory=set)  # ids of wallets with new or settled movements
    balances_recorded: int = 0
    # The whole scan's report: from_block, to_block and head are the default network's; each scanned
    # network's own report by name.
    networks: dict = field(default_factory=dict)

    def add(self, part: "ScanReport", *, primary: bool) -> None:
        if primary:
            self.from_block, self.to_block, self.head = part.from_block, part.to_block, part.head
        self.recorded += part.recorded
        self.confirmed_sends += part.confirmed_sends
        self.skipped_duplicates += part.skipped_duplicates
        self.notes += part.notes
        self.users_changed |= part.users_changed
        self.wallets_changed |= part.wallets_changed


def _checkpoint_key(network: networks.Network) -> str:
    return f"monitor:{network.chain_id}"


def _topic_address(address: str) -> str:
    return "0x" + "0" * 24 + address[2:].lower()


def monitor_scan(*, max_blocks: int = 1000) -> ScanReport:
    """Scan every configured network with monitored wallets (and the default one in any case)."""
    report = ScanReport()
    # network -> address -> the monitored wallets with it (one per organization watching it). System
    # work over every organization: each row is written into its wallet's organization.
    monitored: dict[str, dict[str, list[Wallet]]] = {}
    for wallet in Wallet.objects.filter(monitoring_enabled=True).select_related("user"):
        monitored.setdefault(wallet.network, {}).setdefault(wallet.address, []).append(wallet)
    configured = networks.networks()
    for name in sorted(set(monitored) - {network.name for network in configured}):
        report.notes.append(f"wallets on {name!r} are not scanned: no such network is configured")
    failure = None
    for index, network in enumerate(configured):
        wallets = monitored.get(network.name, {})
        if not wallets and index:
            continue
        part = ScanReport()
        try:
            _scan_network(network, wallets, part, max_blocks=max_blocks)
        except Exception as exc:  # one node's trouble never stops the others
            if not index:
                failure = exc
            else:
                logger.warning("monitor: %s not scanned: %s", network.name, exc)
                part.notes.append(f"{network.name}: {type(exc).__name__}: {exc}"[:300])
        report.networks[network.name] = part
        report.add(part, primary=not index)
    _sync_journals(report)
    if report.wallets_changed:
        report.balances_recorded = wallet_balances_record(wallet_ids=report.wallets_changed)
    if failure is not None:
        raise failure
    return report


def _scan_network(network: networks.Network, wallets: dict[str, list[Wallet]], report: ScanReport, *,
                  max_blocks: int) -> None:
    w3 = networks.web3_for(network)
    report.head = w3.eth.block_number
    safe_head = report.head - networks.confirmations_for(network) + 1
    for same in wallets.values():
        for wallet in same:
            if wallet.monitor_from_block is None:  # monitored from when it was added (the node was down then)
                Wallet.objects.filter(pk=wallet.pk, monitor_from_block__isnull=True).update(monitor_from_block=report.head)
                wallet.monitor_from_block = report.head
    checkpoint, _ = ChainCheckpoint.objects.get_or_create(key=_checkpoint_key(network))
    if not wallets:
        start = max(checkpoint.last_block + 1, 0)
    else:
        earliest = min((w.monitor_from_block or 0) for same in wallets.values() for w in same)
        start = max(checkpoint.last_block + 1, 0) if checkpoint.last_block >= earliest else earliest
    end = min(safe_head, start + max_blocks - 1)
    if end < start:
        return
    report.from_block, report.to_block = start, end
    tokens = {t.contract_address.lower(): t
              for t in Cryptocurrency.objects.filter(network=network.name).exclude(contract_address="")}
    native = Cryptocurrency.native_of(network)
    last_done = checkpoint.last_block
    for chunk_start in range(start, end + 1, CHUNK_BLOCKS):
        chunk_end = min(chunk_start + CHUNK_BLOCKS - 1, end)
        if wallets:
            with events_batched():  # a chunk's live-page events in one outbox insert
                _scan_chunk(w3, chunk_start, chunk_end, wallets, tokens, native, report)
        advanced = ChainCheckpoint.objects.filter(key=_checkpoint_key(network), last_block=last_done).update(
            last_block=chunk_end)
        if not advanced:
            report.notes.append(f"{network.name}: another monitor advanced the checkpoint; stopping")
            break
        last_done = chunk_end


def _sync_journals(report: ScanReport) -> None:
    """Queue the journals of every user whose transactions the scan recorded or confirmed. After the
    rows exist: a monitor killed before this loses no transaction, and the periodic sync catches up."""
    for user_id in sorted(report.users_changed, key=str):
        transactions_changed_announce(user_id=user_id, after_commit=False)


def _scan_chunk(w3, start: int, end: int, wallets: dict, tokens: dict, eth, report: ScanReport) -> None:
    """One chunk of blocks: the node is asked in JSON-RPC batches (chain.batched_calls: the blocks, then
    the receipts of the matching transactions; for tokens, the logs, then their transactions, receipts
    and block times), never one request per block or per transfer."""
    addresses = set(wallets)
    when_of: dict[int, dt.datetime] = {}
    receipt_of: dict = {}
    moves: list[_Movement] = []
    if eth is not None:
        blocks = chain.batched_calls(w3, [partial(w3.eth.get_block, number, True) for number in range(start, end + 1)])
        matched = []
        for block in blocks:
            when = when_of[block["number"]] = dt.datetime.fromtimestamp(block["timestamp"], tz=dt.UTC)
            matched += [(tx, when) for tx in block["transactions"]
                        if tx["from"] in addresses or tx.get("to") in addresses]
        receipts = chain.batched_calls(w3, [partial(w3.eth.get_transaction_receipt, tx["hash"]) for tx, _ in matched])
        for (tx, when), receipt in zip(matched, receipts):
            receipt_of[tx["hash"]] = receipt
            sender, receiver = tx["from"], tx.get("to")
            for address in {a for a in (sender, receiver) if a in addresses}:
                if tx["value"] == 0 and address != sender:
                    continue  # a contract call to us without ETH: the token logs below cover it
                moves += [_Movement(wallet, eth, tx, receipt, when, amount=chain.wei_to_eth(tx["value"]),
                                    log_index=-1, sender=sender, receiver=receiver) for wallet in wallets[address]]
    if tokens and addresses:
        topics_in = [_topic_address(a) for a in addresses]
        query = {"address": [Web3.to_checksum_address(a) for a in tokens]}
        logs, seen = [], set()
        for topics in ([TRANSFER_TOPIC, topics_in], [TRANSFER_TOPIC, None, topics_in]):
            for log in _logs_adaptive(w3, start, end, {**query, "topics": topics}):
                if (log["transactionHash"], log["logIndex"]) not in seen:
                    seen.add((log["transactionHash"], log["logIndex"]))
                    logs.append(log)
        logs.sort(key=lambda item: (item["blockNumber"], item["logIndex"]))
        hashes = list(dict.fromkeys(log["transactionHash"] for log in logs))
        transaction_of = dict(zip(hashes, chain.batched_calls(w3, [partial(w3.eth.get_transaction, h) for h in hashes])))
        unread = [h for h in hashes if h not in receipt_of]
        receipt_of.update(zip(unread, chain.batched_calls(w3, [partial(w3.eth.get_transaction_receipt, h)
                                                               for h in unread])))
        untimed = sorted({log["blockNumber"] for log in logs} - set(when_of))
        for block in chain.batched_calls(w3, [partial(w3.eth.get_block, number) for number in untimed]):
            when_of[block["number"]] = dt.datetime.fromtimestamp(block["timestamp"], tz=dt.UTC)
        for log in logs:
            token = tokens[log["address"].lower()]
            sender = Web3.to_checksum_address("0x" + log["topics"][1].hex()[-40:])
            receiver = Web3.to_checksum_address("0x" + log["topics"][2].hex()[-40:])
            amount = Decimal(int.from_bytes(bytes(log["data"]), "big")).scaleb(-token.decimals)
            tx_hash = log["transactionHash"]
            for address in {a for a in (sender, receiver) if a in addresses}:
                moves += [_Movement(wallet, token, transaction_of[tx_hash], receipt_of[tx_hash],
                                    when_of[log["blockNumber"]], amount=amount, log_index=log["logIndex"],
                                    sender=sender, receiver=receiver) for wallet in wallets[address]]
    _record_all(w3, report, moves)


@dataclass
class _Movement:
    """One transfer seen for one monitored wallet (log_index -1: the native coin)."""
    wallet: Wallet
    asset: Cryptocurrency
    tx: dict
    receipt: dict
    when: dt.datetime
    amount: Decimal
    log_index: int
    sender: str
    receiver: str | None

    @cached_property
    def tx_hash(self) -> str:
        return self.tx["hash"].to_0x_hex()

    @cached_property
    def external_id(self) -> str:
        return external_ids.chain_external_id(tx_hash=self.tx_hash, log_index=self.log_index,
                                              address=self.wallet.address, network=self.wallet.network)


def _record_all(w3, report: ScanReport, moves: list[_Movement]) -> None:
    """Record a chunk's movements in order. What each needs from the database (its row if one exists,
    which addresses are its owner's wallets) is read once for the chunk: two queries per organization
    in it, not two per movement."""
    if not moves:
        return
    by_organization: dict = {}
    for move in moves:
        by_organization.setdefault(move.wallet.organization_id, []).append(move)
    existing, owned = {}, set()
    for organization_id, its_moves in by_organization.items():
        rows = Transaction.objects.for_organization(organization_id).filter(
            external_id__in=sorted({move.external_id for move in its_moves}))
        existing.update(((organization_id, row.external_id), row) for row in rows)
        addresses = sorted({a for move in its_moves for a in (move.sender, move.receiver) if a})
        owned.update(Wallet.objects.for_organization(organization_id).filter(
            user_id__in=sorted({move.wallet.user_id for move in its_moves}, key=str),
            address__in=addresses).values_list("user_id", "network", "address"))
    for move in moves:
        _record(w3, report, move, existing.get((move.wallet.organization_id, move.external_id)), owned)


# What nodes and providers answer when an eth_getLogs range holds too much ("query returned more than
# 10000 results", "block range is too wide", "exceed maximum block range", "response size exceeded").
_RANGE_REFUSED = re.compile(r"range|too (many|large|wide|big)|more than|exceed|limit", re.IGNORECASE)


def _logs_adaptive(w3, start: int, end: int, query: dict) -> list:
    """eth_getLogs over [start, end]; a range the node refuses as too large is asked again in halves
    (down to one block, whose refusal is raised)."""
    try:
        return list(w3.eth.get_logs({**query, "fromBlock": start, "toBlock": end}))
    except Exception as exc:
        if start >= end or not _RANGE_REFUSED.search(str(exc)):
            raise
    middle = (start + end) // 2
    return _logs_adaptive(w3, start, middle, query) + _logs_adaptive(w3, middle + 1, end, query)


def _record(w3, report: ScanReport, move: _Movement, mine: Transaction | None, owned: set) -> None:
    """`mine`: the row with this movement's identity read for the chunk, if any; `owned`: (user id,
    network, address) of the wallets among the chunk's addresses."""
    wallet, asset, receipt, when = move.wallet, move.asset, move.receipt, move.when
    amount, log_index, sender, receiver = move.amount, move.log_index, move.sender, move.receiver
    tx_hash, external_id = move.tx_hash, move.external_id
    outgoing = sender == wallet.address
    if outgoing:
        settled = _settle_own_send(w3, report, wallet, asset, tx_hash, receipt)
        if settled:
            return
        if settled is not None:  # a nonce filler of ours, just settled: its row may have changed since the chunk read
            mine = Transaction.objects.for_organization(wallet.organization_id).filter(external_id=external_id).first()
    fee = chain.wei_to_eth(receipt["gasUsed"] * receipt["effectiveGasPrice"]) if outgoing else None
    status = TransactionStatus.CONFIRMED if receipt["status"] == 1 else TransactionStatus.FAILED
    facts = {
        "block_number": receipt["blockNumber"], "status": status, "gas_used": receipt["gasUsed"] if outgoing else None,
        "gas_price": chain.wei_to_eth(receipt["effectiveGasPrice"]) if outgoing else None, "gas_fee": fee,
        "fee": fee or Decimal(0),
    }
    organization_rows = Transaction.objects.for_organization(wallet.organization_id)
    # A row with this identity exists (a pending row made outside the send machinery): confirm it.
    if mine is not None:
        if mine.status == TransactionStatus.PENDING:
            confirmed = organization_rows.filter(pk=mine.pk, status=TransactionStatus.PENDING).update(**facts)
            OutgoingTransfer.objects.for_organization(wallet.organization_id).filter(tx_hash=tx_hash).update(
                status=TransferStatus.CONFIRMED if status == TransactionStatus.CONFIRMED else TransferStatus.FAILED)
            report.confirmed_sends += 1
            report.users_changed.add(wallet.user_id)
            report.wallets_changed.add(wallet.pk)
            if confirmed:
                mine.refresh_from_db()
                transaction_event("transaction.confirmed", mine)
        else:
            report.skipped_duplicates += 1
        return
    internal = bool(receiver) and sender != receiver and all(
        (wallet.user_id, wallet.network, address) in owned for address in (sender, receiver))
    try:
        # One document, no multi-document transaction: a monitor killed here leaves no open
        # transaction (and its locks) behind for the next run to trip over.
        recorded = Transaction.objects.create(
            transaction_type=TransactionType.TRANSFER, user_id=wallet.user_id,
            organization_id=wallet.organization_id, wallet=wallet, network=wallet.network, cryptocurrency=asset,
            amount=amount, transaction_date=when, hash=tx_hash, log_index=None if log_index < 0 else log_index,
            from_address=sender, to_address=receiver or "", source=TransactionSource.CHAIN, external_id=external_id,
            direction=TransferDirection.OUT if outgoing else TransferDirection.IN,
            description=("Internal transfer between your wallets" if internal
                         else f"{'Sent to' if outgoing else 'Received from'} {receiver if outgoing else sender}"),
            **facts,
        )
    except IntegrityError:
        report.skipped_duplicates += 1  # recorded by an earlier or concurrent run
        return
    # After the row exists; a crash right here loses this notification, never the transaction.
    notification_create(
        user=wallet.user, type=NotificationType.TRANSACTION, priority=NotificationPriority.MEDIUM,
        title=f"{'Sent' if outgoing else 'Received'} {format_quantity(amount, asset.symbol)}",
        message=f"{wallet.name}: {'to' if outgoing else 'from'} {receiver if outgoing else sender} "
                f"(block {receipt['blockNumber']}).",
        metadata={"tx_hash": tx_hash, "wallet_id": str(wallet.pk)},
        action_url=reverse("backoffice-wallet-detail", args=[wallet.pk]), action_text="Open wallet",
    )
    report.recorded += 1
    report.users_changed.add(wallet.user_id)
    report.wallets_changed.add(wallet.pk)
    transaction_event("transaction.created", recorded)


def _settle_own_send(w3, report, wallet, asset, tx_hash: str, receipt) -> bool | None:
    """Our send of `asset` from this wallet: settle its record and row in place. True when the
    movement was ours (nothing more to record); False for a nonce filler, settled and still recorded
    (its fee is a real cost); None when it is not a send of ours."""
    transfer = transfers.transfer_for_hash(organization_id=wallet.organization_id, wallet_id=wallet.pk,
                                           tx_hash=tx_hash)
    if transfer is None or transfer.cryptocurrency_id != asset.pk:
        return None
    if transfers.transfer_settle(transfer, w3=w3, receipt=receipt, head=report.head):
        report.confirmed_sends += 1
        report.users_changed.add(wallet.user_id)
        report.wallets_changed.add(wallet.pk)
    else:
        report.skipped_duplicates += 1
    return transfer.kind == TransferKind.PAYMENT
