"""Transactions recorded by hand, and corrections to any transaction: chain rows keep their on-chain
facts (only the business fields change); manual and imported rows can be corrected or deleted.

What the books need to value a row (refused at input with 422 transaction_not_valued, so bad data
does not reach the books; old rows that slipped in are reported by the journal sync, not blocking):
- BUY, SELL, INCOME and EXPENSE are valued in the organization's reporting fiat: they need
  `usd_value` (or `price_at_transaction`, from which it is computed; a BUY also takes
  `total_cost_usd`), or else a stored price of the asset (wallets.PriceQuote, shared or the
  organization's, in its reporting fiat) on or before the transaction's day on the organization's
  calendar: the price ledger.tax_trades values such a row at.
- Except what the cost-basis engine moves at cost, without a value: an EXPENSE labelled lost
  (or stolen), a gift under fifo/lifo/hifo (under uk/acb a gift is a disposal at market value: it
  needs one), and an INCOME labelled transfer (a deposit from another own wallet).
- TRANSFER rows need no value (a row without one is an own transfer).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from core import money, permissions
from core.errors import Conflict, ErrorCode, InvalidInput
from core.models import Organization
from core.organizations import organization_day
from wallets.addresses import address_normalise
from wallets.events import transaction_event
from wallets.models import PriceQuote, Transaction, TransactionSource, TransactionType, Wallet
from wallets.selectors import asset_get
from wallets.signals import transactions_changed_announce

BUSINESS_FIELDS = ("business_purpose", "tax_category", "is_business_expense", "description")
MANUAL_FIELDS = ("transaction_type", "amount", "price_at_transaction", "transaction_date", "fee", "usd_value",
                 "from_address", "to_address", "hash", "status", *BUSINESS_FIELDS)


def _validate_transaction(tx: Transaction) -> None:
    if tx.amount is not None and tx.amount <= 0:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "The amount must be positive.", {"fields": {"amount": "> 0"}})
    if tx.fee is not None and tx.fee < 0:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "The fee cannot be negative.", {"fields": {"fee": ">= 0"}})
    for name in ("from_address", "to_address"):
        value = getattr(tx, name)
        if value:
            # a record of what happened: a mint comes from, and a burn goes to, the zero address
            setattr(tx, name, address_normalise(value, zero_allowed=True))
    if tx.price_at_transaction is not None and tx.usd_value is None:
        tx.usd_value = money.quantize_asset(tx.amount * tx.price_at_transaction, money.FIAT_DECIMALS)
    try:
        tx.full_clean(exclude=["wallet", "cryptocurrency"])
    except ValidationError as exc:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "The transaction is not valid.",
                           {"fields": exc.message_dict}) from None
    _check_can_be_valued(tx)


VALUED_TYPES = (TransactionType.BUY, TransactionType.SELL, TransactionType.INCOME, TransactionType.EXPENSE)
LOST_LABELS = ("lost", "stolen")
GIFT_LABELS = ("gift", "donation")
GIFT_DISPOSAL_METHODS = ("uk", "acb")  # a gift is a disposal at market value (ledger.cost_basis)
TRANSFER_LABELS = ("transfer",)


def _needs_value(tx: Transaction, organization) -> bool:
    """Whether the books need a fiat value for `tx` (the module docstring has the rule)."""
    if tx.transaction_type not in VALUED_TYPES:
        return False
    label = (tx.tax_category or "").strip().lower()
    if tx.transaction_type == TransactionType.EXPENSE:
        if label in LOST_LABELS:
            return False
        if label in GIFT_LABELS:
            return organization is not None and organization.cost_basis_method in GIFT_DISPOSAL_METHODS
    if tx.transaction_type == TransactionType.INCOME and label in TRANSFER_LABELS:
        return False
    return True


def _check_can_be_valued(tx: Transaction) -> None:
    if tx.usd_value is not None or (tx.transaction_type == TransactionType.BUY and tx.total_cost_usd is not None):
        return
    organization = (Organization.objects.filter(pk=tx.organization_id)
                    .only("time_zone", "reporting_fiat", "cost_basis_method").first())
    if organization is None or tx.transaction_date is None or tx.cryptocurrency_id is None \
            or not _needs_value(tx, organization):
        return
    asset = tx.cryptocurrency.symbol
    fiat = organization.reporting_fiat.upper()
    day = organization_day(organization, tx.transaction_date)
    if PriceQuote.objects.for_organization(tx.organization_id).filter(
            symbol=asset, fiat=fiat, day__isnull=False, day__lte=day).exists():
        return  # valued at the stored price of its day (ledger.tax_trades)
    raise InvalidInput(
        ErrorCode.TRANSACTION_NOT_VALUED,
        f"A {tx.transaction_type.lower()} needs its value in {fiat}: give usd_value or price_at_transaction "
        f"(no {asset} price is stored for {day.isoformat()} or before).",
        {"fields": {"usd_value": "required", "price_at_transaction": "or this"}, "asset": asset,
         "day": day.isoformat(), "fiat": fiat})


def transaction_create(*, actor, wallet: Wallet, asset: str, **fields) -> Transaction:
    """A manual transaction in `wallet`: it belongs to the wallet's owner and organization."""
    permissions.require_own(actor, wallet)
    permissions.require(permissions.can_record_transaction(actor, wallet),
                        "Only the wallet's owner or a manager can record transactions in it.")
    tx = Transaction(user_id=wallet.user_id, organization_id=wallet.organization_id, wallet=wallet,
                     cryptocurrency=asset_get(asset), source=TransactionSource.MANUAL,
                     **{k: v for k, v in fields.items() if k in MANUAL_FIELDS})
    _validate_transaction(tx)
    tx.save()
    transactions_changed_announce(tx)
    transaction_event("transaction.created", tx)
    return tx


def transaction_update(*, actor, transaction: Transaction, **changes) -> Transaction:
    """Rows from the chain keep their on-chain facts: only business fields change. Manual rows can
    be corrected entirely. Business fields: the owner or anyone working the books; anything else:
    the owner or a manager."""
    permissions.require_own(actor, transaction)
    if set(changes) <= set(BUSINESS_FIELDS):
        permissions.require(permissions.can_edit_transaction_business_fields(actor, transaction),
                            "You cannot edit this transaction.")
    else:
        permissions.require(permissions.can_edit_transaction(actor, transaction),
                            "Only the transaction's owner or a manager can correct it.")
    from_chain = transaction.source == TransactionSource.CHAIN
    refused = sorted(set(changes) - set(BUSINESS_FIELDS if from_chain else MANUAL_FIELDS))
    if refused:
        if from_chain:
            raise Conflict(ErrorCode.IMMUTABLE_FIELDS, "These fields come from the chain and cannot be edited.",
                           {"fields": refused})
        raise InvalidInput(ErrorCode.IMMUTABLE_FIELDS, "These fields cannot be edited.", {"fields": refused})
    for name, value in changes.items():
        setattr(transaction, name, value)
    _validate_transaction(transaction)
    transaction.save()
    transactions_changed_announce(transaction)  # corrected by reversal + new entry
    transaction_event("transaction.updated", transaction)
    return transaction


def transaction_delete(*, actor, transaction: Transaction) -> None:
    permissions.require_own(actor, transaction)
    permissions.require(permissions.can_edit_transaction(actor, transaction),
                        "Only the transaction's owner or a manager can delete it.")
    if transaction.source == TransactionSource.CHAIN:
        raise Conflict(ErrorCode.CHAIN_TRANSACTION, "Transactions read from the chain cannot be deleted.")
    owner = {"user_id": transaction.user_id, "organization_id": transaction.organization_id}
    transaction.delete()
    transactions_changed_announce(**owner)  # its entry is reversed
    transaction_event("transaction.deleted", transaction)
