"""Wallets: create (a new or imported key, or a watch-only address), rename and (de)activate,
delete, read balances from the node (and record them after the monitor saw them change, pushing
`wallet.balance_changed` to open pages), switch on monitoring, rotate the key envelopes; the fee
bump of a member's stuck send (wallets.transfers does the signing)."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

import segno
from django.conf import settings
from django.db import IntegrityError
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from eth_account import Account

from accounts.employees import employee_can_hold_funds
from core import permissions
from core.errors import Conflict, ErrorCode, Forbidden, InvalidInput, Unavailable
from wallets import chain, keystore, networks, transfers
from wallets.addresses import address_normalise
from wallets.erc20 import erc20_balance, erc20_contract
from wallets.events import wallet_event
from wallets.models import Cryptocurrency, OutgoingTransfer, TransferStatus, Wallet, WalletType
from wallets.payment_requests import eip681_uri

logger = logging.getLogger(__name__)


def _key_to_account(private_key: str):
    try:
        return Account.from_key(private_key.strip())
    except Exception:
        raise InvalidInput(ErrorCode.INVALID_PRIVATE_KEY, "Not a valid secp256k1 private key.") from None


def wallet_create(*, user, name: str, wallet_type: str, address: str = "", private_key: str = "",
                  network: str | None = None) -> Wallet:
    """`user` (the acting member) creates a wallet of their own in their organization, in one of
    their `max_wallets` slots there (race-proof via a unique (organization, user, slot) index).
    Private Key wallets generate a key unless one is imported: EIP-55 address, key stored only as an
    encrypted envelope (never logged or returned). MetaMask and Hardware wallets are watch-only and
    need an address. `network` (wallets.networks; the default one when empty, InvalidInput
    `unknown_network` when not configured) is where it is monitored and sends from it are signed for.
    An address is unique within an organization and network (another organization may watch the same
    one; one key may be a wallet on two networks). Every wallet is monitored from the block it was
    added at on its network (from the monitor's next pass when the node is unreachable now);
    `wallet_monitoring_enable` moves the start."""
    permissions.require(permissions.can_create_wallet(user), "You cannot create wallets.")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "A wallet needs a name of 1-100 characters.",
                           {"fields": {"name": "1-100 characters"}})
    if wallet_type not in WalletType.values:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, f"Unknown wallet type {wallet_type!r}.",
                           {"fields": {"wallet_type": f"one of {WalletType.values}"}})
    if not employee_can_hold_funds(user):
        raise Forbidden(ErrorCode.EMPLOYEE_NOT_VERIFIED, "Your manager has not verified your account yet.")
    on = networks.network_get(network)

    envelope = ""
    if wallet_type == WalletType.PRIVATE_KEY:
        account = _key_to_account(private_key) if private_key else Account.create()
        if address and address_normalise(address) != account.address:
            raise InvalidInput(ErrorCode.ADDRESS_MISMATCH, "The address does not belong to the private key.")
        address = account.address
        # through the module: the test suite's key-leak guard wraps keystore.private_key_encrypt
        envelope = keystore.private_key_encrypt(account.key.to_0x_hex())
        del account
    else:
        if private_key:
            raise InvalidInput(ErrorCode.VALIDATION_ERROR, "Watch-only wallets take no private key.")
        if not address:
            raise InvalidInput(ErrorCode.VALIDATION_ERROR, "A watch-only wallet needs its address.",
                               {"fields": {"address": "required"}})
        address = address_normalise(address)

    in_organization = Wallet.objects.for_organization(user.organization_id)
    if in_organization.filter(network=on.name, address=address).exists():
        raise Conflict(ErrorCode.ADDRESS_TAKEN, f"This address is already registered in your organization on {on.name}.")
    taken = set(in_organization.filter(user=user).values_list("slot", flat=True))
    added_at_block = _current_block_or_none(on)
    for slot in (s for s in range(user.max_wallets) if s not in taken):
        wallet = Wallet(name=name, address=address, user=user, organization_id=user.organization_id,
                        wallet_type=wallet_type, encrypted_private_key=envelope, slot=slot, network=on.name,
                        monitoring_enabled=True, monitor_from_block=added_at_block)
        try:
            wallet.save()
        except IntegrityError:
            if in_organization.filter(network=on.name, address=address).exists():
                raise Conflict(ErrorCode.ADDRESS_TAKEN,
                               "This address is already registered in your organization.") from None
            continue  # another create took this slot a moment ago: try the next one
        logger.info("wallet created id=%s user=%s organization=%s type=%s address=%s", wallet.pk, user.pk,
                    user.organization_id, wallet_type, address)
        wallet_event("wallet.created", wallet)
        return wallet
    raise Conflict(ErrorCode.WALLET_LIMIT_REACHED, f"You already have the maximum of {user.max_wallets} wallets.",
                   {"max_wallets": user.max_wallets})


def _current_block_or_none(network: networks.Network) -> int | None:
    """The network's head, or None when its node cannot be reached (the monitor fills it in)."""
    try:
        return networks.web3_for(network).eth.block_number
    except Unavailable:
        return None


def wallet_update(*, actor, wallet: Wallet, name: str | None = None, is_active: bool | None = None) -> Wallet:
    permissions.require_own(actor, wallet)
    permissions.require(permissions.can_manage_wallet(actor, wallet),
                        "Only the wallet's owner or a manager can change it.")
    if name is not None:
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidInput(ErrorCode.VALIDATION_ERROR, "A wallet needs a name of 1-100 characters.")
        wallet.name = name
    if is_active is not None:
        wallet.is_active = is_active
    wallet.save(update_fields=["name", "is_active", "updated_at"])
    wallet_event("wallet.updated", wallet)
    return wallet


def wallet_delete(*, actor, wallet: Wallet) -> None:
    permissions.require_own(actor, wallet)
    permissions.require(permissions.can_manage_wallet(actor, wallet),
                        "Only the wallet's owner or a manager can delete it.")
    try:
        wallet.delete()
    except ProtectedError:
        raise Conflict(ErrorCode.WALLET_HAS_TRANSACTIONS,
                       "This wallet has transactions; deactivate it instead (is_active=false).") from None
    wallet_event("wallet.deleted", wallet)


def wallet_balance_refresh(*, actor, wallet: Wallet) -> dict:
    """ETH and every tracked ERC-20 balance, read from the node; the stored ETH balance is updated.
    Anyone who may see the wallet may refresh it (it reads public chain facts)."""
    permissions.require_own(actor, wallet)
    permissions.require(permissions.can_view_wallet(actor, wallet), "You cannot see this wallet.")
    balances = _balances_from_node(wallet)
    Wallet.objects.filter(pk=wallet.pk).update(balance=balances["eth"])
    return balances


def _balances_from_node(wallet: Wallet) -> dict:
    """The native coin's (`eth`) and every active tracked ERC-20 balance of the wallet's address on
    its network, read from that network's node."""
    try:
        on_default = wallet.network == networks.default_network_name()
        w3 = None if on_default else networks.web3_for(wallet.network)
        eth = chain.eth_balance(wallet.address) if on_default else chain.wei_to_eth(w3.eth.get_balance(wallet.address))
        tokens = []
        for token in (Cryptocurrency.objects.filter(is_active=True, network=wallet.network)
                      .exclude(contract_address="").order_by("symbol")):
            if on_default:
                balance = erc20_balance(token_address=token.contract_address, holder=wallet.address,
                                        decimals=token.decimals)
            else:
                raw = erc20_contract(w3, token.contract_address).functions.balanceOf(wallet.address).call()
                balance = Decimal(raw).scaleb(-token.decimals)
            tokens.append({"symbol": token.symbol, "contract_address": token.contract_address,
                           "decimals": token.decimals, "balance": balance})
    except Exception as exc:  # ChainError, or a token call the node cannot answer
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, str(exc)[:300]) from None
    return {"address": wallet.address, "eth": eth, "tokens": tokens, "as_of": timezone.now()}


def wallet_balances_record(*, wallet_ids) -> int:
    """System work (the monitor, after it recorded or settled movements of these wallets): read each
    wallet's balances from the node, store the ETH balance, and push `wallet.balance_changed` (the
    wallet's id, after the write commits) to the owner and the organization's books
    roles, so open wallet pages refresh that wallet. A wallet the node cannot be asked about now is
    skipped (the next scan or a refresh catches up). Returns how many were recorded."""
    recorded = 0
    for wallet in Wallet.objects.filter(pk__in=list(wallet_ids)):
        try:
            balances = _balances_from_node(wallet)
        except Unavailable as exc:
            logger.warning("balance of wallet %s not recorded: %s", wallet.pk, exc.message)
            continue
        Wallet.objects.filter(pk=wallet.pk).update(balance=balances["eth"])
        wallet.balance = balances["eth"]
        wallet_event("wallet.balance_changed", wallet)
        recorded += 1
    return recorded


def transfer_fee_bump_request(*, actor, transfer: OutgoingTransfer) -> OutgoingTransfer:
    """A member (the wallet's owner or a manager of its organization) replaces a BROADCAST or STUCK
    send by the same payment and nonce with a higher fee (wallets.transfers.transfer_fee_bump: only
    one of the two can ever be mined). The admin action, the page and the API call this."""
    permissions.require_own(actor, transfer)
    permissions.require(permissions.can_send_from_wallet(actor, transfer.wallet),
                        "Only the wallet's owner or a manager can change this send.")
    if transfer.status in (TransferStatus.BROADCAST, TransferStatus.STUCK):
        # A send a block already holds waits for confirmations, not for a fee: re-signing its nonce
        # would only be refused by the node (and must never mark the mined payment failed).
        try:
            mined = transfers.receipt_of(networks.web3_for(networks.network_of_chain_id(transfer.chain_id)),
                                         transfer)
        except chain.ChainError as exc:
            raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, str(exc)) from None
        if mined is not None:
            raise Conflict(ErrorCode.TRANSFER_NOT_OPEN, f"This send is already in block {mined['blockNumber']}: it "
                           "is waiting for its confirmations, a higher fee would change nothing.",
                           {"block_number": mined["blockNumber"]})
    return transfers.transfer_fee_bump(transfer=transfer, actor=actor)


def wallet_monitoring_enable(*, wallet: Wallet, from_block: int | None = None, actor=None) -> Wallet:
    """Watch the wallet from `from_block` (default: the current block). `actor`: the member asking
    (checked); None only for system work (the demo loader, benchmarks)."""
    if actor is not None:
        permissions.require_own(actor, wallet)
        permissions.require(permissions.can_manage_wallet(actor, wallet),
                            "Only the wallet's owner or a manager can monitor it.")
    if from_block is None:  # the head of the wallet's network (Unavailable when its node does not answer)
        from_block = networks.web3_for(wallet.network).eth.block_number
    if from_block < 0:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "from_block must be 0 or more.")
    Wallet.objects.filter(pk=wallet.pk).update(monitoring_enabled=True, monitor_from_block=from_block)
    wallet.refresh_from_db()
    wallet_event("wallet.monitoring_enabled", wallet)
    return wallet


def wallet_keys_rotate() -> tuple[int, int]:
    """Re-wrap every envelope not under the current master key, in every organization (an
    installation-wide operation of the `rotate_wallet_keys` command); a compare-and-set on the old
    envelope keeps a concurrent writer's change. Returns (re-wrapped, already current)."""
    rotated = current = 0
    for wallet in Wallet.objects.exclude(encrypted_private_key="").only("pk", "encrypted_private_key"):
        old = wallet.encrypted_private_key
        if keystore.envelope_key_id(old) == settings.KEY_ENCRYPTION_KEY_ID:
            current += 1
            continue
        rotated += Wallet.objects.filter(pk=wallet.pk, encrypted_private_key=old).update(
            encrypted_private_key=keystore.envelope_rewrap(old))
    return rotated, current


def wallet_receive_request(*, wallet: Wallet, asset: str = "ETH", amount=None) -> dict:
    """What a payer needs to pay into the wallet: its address, the EIP-681 payment URI (ETH
    `ethereum:<address>@<chain id>[?value=<wei>]`; an ERC-20 `ethereum:<token>@<chain id>/transfer?
    address=<address>[&uint256=<units>]`) and that URI as a QR code (SVG, segno). Public facts of a
    wallet the caller may already see; an unknown asset or a bad amount is invalid input."""
    symbol = (asset or "ETH").upper()
    token = Cryptocurrency.objects.filter(symbol=symbol, is_active=True).first()
    if token is None and symbol == "ETH":
        token = Cryptocurrency(symbol="ETH", decimals=18, contract_address="")  # the chain's own coin
    if token is None:
        raise InvalidInput(ErrorCode.UNKNOWN_ASSET, f"{asset!r} is not a tracked asset.")
    units = None
    if amount not in (None, ""):
        try:
            value = Decimal(str(amount).strip())
        except (InvalidOperation, ValueError):
            raise InvalidInput(ErrorCode.INVALID_AMOUNT, "The amount is not a number.") from None
        if not value.is_finite() or value <= 0 or value != value.quantize(Decimal(1).scaleb(-token.decimals)):
            raise InvalidInput(ErrorCode.INVALID_AMOUNT,
                               f"The amount must be positive with at most {token.decimals} decimals.")
        units = int(value.scaleb(token.decimals))
    uri = eip681_uri(to=wallet.address, chain_id=networks.network_get(wallet.network).chain_id, token_contract=token.contract_address or "",
                     units=units)
    qr = segno.make(uri, error="m")
    return {"address": wallet.address, "asset": token.symbol, "uri": uri,
            "qr_svg": qr.svg_inline(scale=4, dark="#111827", title=f"Pay {token.symbol} to {wallet.address}")}
