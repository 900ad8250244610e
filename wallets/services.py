"""Writes for wallets: `<entity>_<action>(*, ...)`, validated; errors are ApiErrors with a code.

Every write takes the acting member and checks what they may do with core.permissions; what they may
reach at all is decided before (the API/view looks objects up through wallets.selectors, so another
organization's object is a 404 there). Everything written carries its organization: a wallet the
actor's, a transaction or transfer its wallet's, an alert its owner's."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from decimal import Decimal

from django.db import IntegrityError
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import is_address, is_checksum_address, to_checksum_address

from accounts.employees import employee_can_hold_funds
from core import money, permissions
from core.jsonapi.errors import ApiError
from core.transactions import in_transaction
from wallets import chain
from wallets.events import transaction_event, wallet_event
from wallets.keystore import envelope_key_id, envelope_rewrap, private_key_encrypt
from wallets.models import Cryptocurrency, Wallet, WalletType
from wallets.signals import transactions_changed_announce

logger = logging.getLogger(__name__)

OWNERSHIP_CHALLENGE_TTL = dt.timedelta(minutes=5)


def address_normalise(address: str) -> str:
    """EIP-55 form of a valid address. All-lowercase or all-uppercase input is accepted; mixed case
    must be a correct checksum (a typo in a checksummed address is caught, not silently 'fixed')."""
    address = (address or "").strip()
    if not is_address(address) and not (address.startswith("0x") and len(address) == 42):
        raise ApiError(422, "invalid_address", "Not an Ethereum address.", {"address": address[:64]})
    body = address[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(address):
        raise ApiError(422, "bad_checksum", "The address's mixed-case checksum is wrong (EIP-55).",
                       {"address": address})
    if not is_address(address.lower()):
        raise ApiError(422, "invalid_address", "Not an Ethereum address.", {"address": address[:64]})
    return to_checksum_address(address.lower())


def _forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise _forbidden(message)


def _key_to_account(private_key: str):
    try:
        return Account.from_key(private_key.strip())
    except Exception:
        raise ApiError(422, "invalid_private_key", "Not a valid secp256k1 private key.") from None


def wallet_create(*, user, name: str, wallet_type: str, address: str = "", private_key: str = "") -> Wallet:
    """`user` (the acting member) creates a wallet of their own in their organization, in one of
    their `max_wallets` slots there (race-proof via a unique (organization, user, slot) index).
    Private Key wallets generate a key unless one is imported; MetaMask and Hardware wallets are
    watch-only and need an address. An address is unique within an organization (another
    organization may watch the same one)."""
    _require(permissions.can_create_wallet(user), "You cannot create wallets.")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApiError(422, "validation_error", "A wallet needs a name of 1-100 characters.", {"fields": {"name": "1-100 characters"}})
    if wallet_type not in WalletType.values:
        raise ApiError(422, "validation_error", f"Unknown wallet type {wallet_type!r}.",
                       {"fields": {"wallet_type": f"one of {WalletType.values}"}})
    if not employee_can_hold_funds(user):
        raise ApiError(403, "employee_not_verified", "Your manager has not verified your account yet.")

    envelope = ""
    if wallet_type == WalletType.PRIVATE_KEY:
        account = _key_to_account(private_key) if private_key else Account.create()
        if address and address_normalise(address) != account.address:
            raise ApiError(422, "address_mismatch", "The address does not belong to the private key.")
        address = account.address
        envelope = private_key_encrypt(account.key.to_0x_hex())
        del account
    else:
        if private_key:
            raise ApiError(422, "validation_error", "Watch-only wallets take no private key.")
        if not address:
            raise ApiError(422, "validation_error", "A watch-only wallet needs its address.",
                           {"fields": {"address": "required"}})
        address = address_normalise(address)

    in_organization = Wallet.objects.for_organization(user.organization_id)
    if in_organization.filter(address=address).exists():
        raise ApiError(409, "address_taken", "This address is already registered in your organization.")
    taken = set(in_organization.filter(user=user).values_list("slot", flat=True))
    for slot in (s for s in range(user.max_wallets) if s not in taken):
        wallet = Wallet(name=name, address=address, user=user, organization_id=user.organization_id,
                        wallet_type=wallet_type, encrypted_private_key=envelope, slot=slot)
        try:
            wallet.save()
        except IntegrityError:
            if in_organization.filter(address=address).exists():
                raise ApiError(409, "address_taken",
                               "This address is already registered in your organization.") from None
            continue  # another create took this slot a moment ago: try the next one
        logger.info("wallet created id=%s user=%s organization=%s type=%s address=%s", wallet.pk, user.pk,
                    user.organization_id, wallet_type, address)
        wallet_event("wallet.created", wallet)
        return wallet
    raise ApiError(409, "wallet_limit_reached", f"You already have the maximum of {user.max_wallets} wallets.",
                   {"max_wallets": user.max_wallets})


def wallet_create_with_new_key(*, user, name: str) -> Wallet:
    """A Private Key wallet of `user` (the acting member) with a freshly generated key: EIP-55
    address, key stored only as an encrypted envelope (never logged or returned), within the owner's
    max_wallets."""
    return wallet_create(user=user, name=name, wallet_type=WalletType.PRIVATE_KEY)


def wallet_update(*, actor, wallet: Wallet, name: str | None = None, is_active: bool | None = None) -> Wallet:
    _require(permissions.can_manage_wallet(actor, wallet), "Only the wallet's owner or a manager can change it.")
    if name is not None:
        name = name.strip()
        if not name or len(name) > 100:
            raise ApiError(422, "validation_error", "A wallet needs a name of 1-100 characters.")
        wallet.name = name
    if is_active is not None:
        wallet.is_active = is_active
    wallet.save(update_fields=["name", "is_active", "updated_at"])
    wallet_event("wallet.updated", wallet)
    return wallet


def wallet_delete(*, actor, wallet: Wallet) -> None:
    _require(permissions.can_manage_wallet(actor, wallet), "Only the wallet's owner or a manager can delete it.")
    try:
        wallet.delete()
    except ProtectedError:
        raise ApiError(409, "wallet_has_transactions",
                       "This wallet has transactions; deactivate it instead (is_active=false).") from None
    wallet_event("wallet.deleted", wallet)


def wallet_ownership_challenge(*, actor, wallet: Wallet) -> str:
    """A message for the wallet's owner to sign (EIP-191 personal_sign); single use, 5 minutes."""
    _require(permissions.can_manage_wallet(actor, wallet),
             "Only the wallet's owner or a manager can prove its ownership.")
    nonce = secrets.token_hex(16)
    expires = timezone.now() + OWNERSHIP_CHALLENGE_TTL
    Wallet.objects.filter(pk=wallet.pk).update(ownership_nonce=nonce, ownership_nonce_expires=expires)
    return ownership_message(wallet.address, nonce)


def ownership_message(address: str, nonce: str) -> str:
    return f"Crypto Books: I control {address}. Nonce: {nonce}"


def wallet_ownership_verify(*, actor, wallet: Wallet, signature: str) -> Wallet:
    _require(permissions.can_manage_wallet(actor, wallet),
             "Only the wallet's owner or a manager can prove its ownership.")
    wallet.refresh_from_db()
    if not wallet.ownership_nonce or not wallet.ownership_nonce_expires or wallet.ownership_nonce_expires < timezone.now():
        raise ApiError(400, "no_challenge", "Ask for a new challenge first; the last one expired or was used.")
    message = encode_defunct(text=ownership_message(wallet.address, wallet.ownership_nonce))
    try:
        signer = Account.recover_message(message, signature=signature)
    except Exception:
        raise ApiError(422, "invalid_signature", "The signature is malformed.") from None
    if signer != wallet.address:
        raise ApiError(403, "wrong_signer", "The message was not signed by this wallet's key.")
    used = Wallet.objects.filter(pk=wallet.pk, ownership_nonce=wallet.ownership_nonce).update(
        ownership_nonce="", ownership_nonce_expires=None, last_authenticated=timezone.now())
    if not used:
        raise ApiError(400, "no_challenge", "This challenge was already used.")
    wallet.refresh_from_db()
    return wallet


def wallet_balance_refresh(*, actor, wallet: Wallet) -> dict:
    """ETH and every tracked ERC-20 balance, read from the node; the stored ETH balance is updated.
    Anyone who may see the wallet may refresh it (it reads public chain facts)."""
    from wallets.erc20 import erc20_balance

    _require(permissions.can_view_wallet(actor, wallet), "You cannot see this wallet.")
    try:
        eth = chain.eth_balance(wallet.address)
        tokens = []
        for token in Cryptocurrency.objects.filter(is_active=True).exclude(contract_address="").order_by("symbol"):
            tokens.append({"symbol": token.symbol, "contract_address": token.contract_address,
                           "decimals": token.decimals,
                           "balance": erc20_balance(token_address=token.contract_address, holder=wallet.address,
                                                    decimals=token.decimals)})
    except chain.ChainError as exc:
        raise ApiError(503, "chain_unavailable", str(exc)) from None
    Wallet.objects.filter(pk=wallet.pk).update(balance=eth)
    return {"address": wallet.address, "eth": eth, "tokens": tokens, "as_of": timezone.now()}


def wallet_monitoring_enable(*, wallet: Wallet, from_block: int | None = None, actor=None) -> Wallet:
    """Watch the wallet from `from_block` (default: the current block). `actor`: the member asking
    (checked); None only for system work (the demo loader, benchmarks)."""
    if actor is not None:
        _require(permissions.can_manage_wallet(actor, wallet), "Only the wallet's owner or a manager can monitor it.")
    if from_block is None:
        try:
            from_block = chain.web3_client().eth.block_number
        except chain.ChainError as exc:
            raise ApiError(503, "chain_unavailable", str(exc)) from None
    if from_block < 0:
        raise ApiError(422, "validation_error", "from_block must be 0 or more.")
    Wallet.objects.filter(pk=wallet.pk).update(monitoring_enabled=True, monitor_from_block=from_block)
    wallet.refresh_from_db()
    wallet_event("wallet.monitoring_enabled", wallet)
    return wallet


def wallet_keys_rotate() -> tuple[int, int]:
    """Re-wrap every envelope not under the current master key, in every organization (an
    installation-wide operation of the `rotate_wallet_keys` command); a compare-and-set on the old
    envelope keeps a concurrent writer's change. Returns (re-wrapped, already current)."""
    from django.conf import settings

    rotated = current = 0
    for wallet in Wallet.objects.exclude(encrypted_private_key="").only("pk", "encrypted_private_key"):
        old = wallet.encrypted_private_key
        if envelope_key_id(old) == settings.KEY_ENCRYPTION_KEY_ID:
            current += 1
            continue
        rotated += Wallet.objects.filter(pk=wallet.pk, encrypted_private_key=old).update(
            encrypted_private_key=envelope_rewrap(old))
    return rotated, current




# --- transactions --------------------------------------------------------------------------------
BUSINESS_FIELDS = ("business_purpose", "tax_category", "is_business_expense", "description")
MANUAL_FIELDS = ("transaction_type", "amount", "price_at_transaction", "transaction_date", "fee", "usd_value",
                 "from_address", "to_address", "hash", "status", *BUSINESS_FIELDS)


def _asset(symbol: str) -> Cryptocurrency:
    token = Cryptocurrency.objects.filter(symbol=(symbol or "").upper()).first()
    if token is None:
        raise ApiError(422, "unknown_asset", f"{symbol!r} is not a known asset.")
    return token


def _validate_transaction(tx) -> None:
    from django.core.exceptions import ValidationError

    if tx.amount is not None and tx.amount <= 0:
        raise ApiError(422, "validation_error", "The amount must be positive.", {"fields": {"amount": "> 0"}})
    if tx.fee is not None and tx.fee < 0:
        raise ApiError(422, "validation_error", "The fee cannot be negative.", {"fields": {"fee": ">= 0"}})
    for name in ("from_address", "to_address"):
        value = getattr(tx, name)
        if value:
            setattr(tx, name, address_normalise(value))
    if tx.price_at_transaction is not None and tx.usd_value is None:
        tx.usd_value = money.quantize_asset(tx.amount * tx.price_at_transaction, money.FIAT_DECIMALS)
    try:
        tx.full_clean(exclude=["wallet", "cryptocurrency"])
    except ValidationError as exc:
        raise ApiError(422, "validation_error", "The transaction is not valid.", {"fields": exc.message_dict}) from None


def transaction_create(*, actor, wallet: Wallet, asset: str, **fields):
    """A manual transaction in `wallet`: it belongs to the wallet's owner and organization."""
    from wallets.models import Transaction

    _require(permissions.can_record_transaction(actor, wallet),
             "Only the wallet's owner or a manager can record transactions in it.")
    tx = Transaction(user_id=wallet.user_id, organization_id=wallet.organization_id, wallet=wallet,
                     cryptocurrency=_asset(asset), source="manual",
                     **{k: v for k, v in fields.items() if k in MANUAL_FIELDS})
    _validate_transaction(tx)
    tx.save()
    transactions_changed_announce(tx)
    transaction_event("transaction.created", tx)
    return tx


def transaction_update(*, actor, transaction, **changes):
    """Rows from the chain keep their on-chain facts: only business fields change. Manual rows can
    be corrected entirely. Business fields: the owner or anyone working the books; anything else:
    the owner or a manager."""
    if set(changes) <= set(BUSINESS_FIELDS):
        _require(permissions.can_edit_transaction_business_fields(actor, transaction),
                 "You cannot edit this transaction.")
    else:
        _require(permissions.can_edit_transaction(actor, transaction),
                 "Only the transaction's owner or a manager can correct it.")
    allowed = BUSINESS_FIELDS if transaction.source == "chain" else MANUAL_FIELDS
    refused = sorted(set(changes) - set(allowed))
    if refused:
        raise ApiError(409 if transaction.source == "chain" else 422, "immutable_fields",
                       "These fields come from the chain and cannot be edited." if transaction.source == "chain"
                       else "These fields cannot be edited.", {"fields": refused})
    for name, value in changes.items():
        setattr(transaction, name, value)
    _validate_transaction(transaction)
    transaction.save()
    transactions_changed_announce(transaction)  # corrected by reversal + new entry
    transaction_event("transaction.updated", transaction)
    return transaction


def transaction_delete(*, actor, transaction) -> None:
    _require(permissions.can_edit_transaction(actor, transaction),
             "Only the transaction's owner or a manager can delete it.")
    if transaction.source == "chain":
        raise ApiError(409, "chain_transaction", "Transactions read from the chain cannot be deleted.")
    owner = {"user_id": transaction.user_id, "organization_id": transaction.organization_id}
    transaction.delete()
    transactions_changed_announce(**owner)  # its entry is reversed
    transaction_event("transaction.deleted", transaction)


# --- price alerts --------------------------------------------------------------------------------
MAX_PRICE_ALERTS_PER_USER = 100


def _alert_fields(*, symbol: str | None = None, direction: str | None = None, threshold=None,
                  fiat: str | None = None) -> dict:
    from wallets.models import AlertDirection

    fields = {}
    if symbol is not None:
        fields["symbol"] = _asset(symbol).symbol
    if direction is not None:
        if direction not in AlertDirection.values:
            raise ApiError(422, "validation_error", "direction must be 'above' or 'below'.",
                           {"fields": {"direction": AlertDirection.values}})
        fields["direction"] = direction
    if threshold is not None:
        threshold = Decimal(threshold)
        if not threshold.is_finite() or threshold <= 0:
            raise ApiError(422, "validation_error", "The threshold must be a positive price.",
                           {"fields": {"threshold": "> 0"}})
        fields["threshold"] = threshold
    if fiat is not None:
        fiat = fiat.strip().upper()
        if len(fiat) != 3 or not fiat.isalpha():
            raise ApiError(422, "validation_error", "fiat must be a 3-letter currency code.",
                           {"fields": {"fiat": "e.g. USD"}})
        fields["fiat"] = fiat
    return fields


def price_alert_create(*, user, symbol: str, direction: str, threshold, fiat: str = "USD"):
    """`user` (the acting member) sets an alert of their own, in their organization."""
    from wallets.models import PriceAlert

    _require(permissions.can_use_backoffice(user), "You cannot set price alerts.")
    fields = _alert_fields(symbol=symbol, direction=direction, threshold=threshold, fiat=fiat)
    if PriceAlert.objects.for_actor(user).filter(user=user).count() >= MAX_PRICE_ALERTS_PER_USER:
        raise ApiError(409, "alert_limit_reached", f"You already have {MAX_PRICE_ALERTS_PER_USER} price alerts.")
    return PriceAlert.objects.create(user=user, organization_id=user.organization_id, **fields)


def price_alert_update(*, actor, alert, rearm: bool = False, is_active: bool | None = None, **changes):
    """Change an alert. Changing its condition (asset, direction, threshold, fiat) or `rearm=True`
    re-arms it: it may fire again once."""
    _require(permissions.can_manage_price_alert(actor, alert), "Only the alert's owner or a manager can change it.")
    fields = _alert_fields(**changes)
    condition_changed = any(getattr(alert, name) != value for name, value in fields.items())
    for name, value in fields.items():
        setattr(alert, name, value)
    if is_active is not None:
        alert.is_active = is_active
    if rearm or condition_changed:
        alert.triggered_at = None
    alert.save()
    return alert


def price_alert_delete(*, actor, alert) -> None:
    _require(permissions.can_manage_price_alert(actor, alert), "Only the alert's owner or a manager can delete it.")
    alert.delete()


def _crossed(alert, price: Decimal) -> bool:
    from wallets.models import AlertDirection

    return price >= alert.threshold if alert.direction == AlertDirection.ABOVE else price <= alert.threshold


def price_alert_fire(*, alert, price: Decimal) -> bool:
    """Mark a crossed alert as fired and notify its owner, once: the conditional update on
    `triggered_at=None` matches for one caller only, and the notification is written in the same
    transaction (its websocket event goes out after the commit). False: someone else fired it."""
    
    from accounts.models import NotificationPriority, NotificationType
    from accounts.notifications import notification_create
    from wallets.models import AlertDirection, PriceAlert

    def fire_write():
        won = PriceAlert.objects.filter(pk=alert.pk, is_active=True, triggered_at=None).update(
            triggered_at=timezone.now(), last_price=price)
        if won:
            word = "above" if alert.direction == AlertDirection.ABOVE else "below"
            threshold = money.format_fiat(alert.threshold, alert.fiat)
            notification_create(
                user=alert.user, type=NotificationType.SYSTEM, priority=NotificationPriority.HIGH,
                title=f"{alert.symbol} is {word} {threshold}",
                message=f"{alert.symbol} is at {money.format_fiat(price, alert.fiat)}, {word} your alert's "
                        f"threshold of {threshold}.",
                action_url="/app/portfolio/", action_text="Open portfolio",
                metadata={"price_alert_id": str(alert.pk), "price": str(price)})
        return won
    won = in_transaction(fire_write)
    return bool(won)


def price_alerts_check() -> dict:
    """Compare every armed alert with the current stored price its organization sees (shared
    quotes and its own) and fire the crossed ones. System work over every organization."""
    from django.db import DatabaseError
    from pymongo.errors import PyMongoError

    from wallets.models import PriceAlert
    from wallets.selectors import price_book_for

    armed = list(PriceAlert.objects.filter(is_active=True, triggered_at=None).select_related("user"))
    fired = unpriced = 0
    for organization_id, fiat in sorted({(alert.organization_id, alert.fiat) for alert in armed}, key=str):
        alerts = [alert for alert in armed if alert.fiat == fiat and alert.organization_id == organization_id]
        book = price_book_for({alert.symbol for alert in alerts}, fiat=fiat, organization=organization_id)
        for symbol in sorted({alert.symbol for alert in alerts}):
            price = book.current(symbol)
            if price is None:
                unpriced += sum(1 for alert in alerts if alert.symbol == symbol)
                continue
            # One write per asset and organization records the price every armed alert saw.
            PriceAlert.objects.for_organization(organization_id).filter(
                symbol=symbol, fiat=fiat, is_active=True, triggered_at=None).update(last_price=price)
            for alert in (a for a in alerts if a.symbol == symbol and _crossed(a, price)):
                try:
                    fired += price_alert_fire(alert=alert, price=price)
                except (DatabaseError, PyMongoError):
                    # e.g. a write conflict with another checker: that one fires it.
                    logger.warning("price alert %s: check lost a write conflict", alert.pk, exc_info=True)
    return {"armed": len(armed), "fired": fired, "unpriced": unpriced}
