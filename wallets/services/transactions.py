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

Labels (issue 15): a transaction's label (`TransactionLabel`: buy, sell, swap, income, ..., own
transfer) and category (`TransactionCategory`: business / personal / trading) are kept on the row
(`ai_subcategory` / `ai_category`, with `ai_confidence`, `ai_description`, `is_classified`) and written in
the ledger's own vocabulary (`transaction_type` + `tax_category`, `LEDGER_FORMS`), so the journal
sync re-books the entry. They are business fields: editable on chain rows too (only the on-chain
facts are not), by the owner or anyone working the books. `transaction_label` is the one path:
an override (PUT label/category), an accepted suggestion and an automatically applied one; it
announces `transaction_labelled` (the classifier records who and when, and learns).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

from core import money, permissions
from core.errors import Conflict, ErrorCode, InvalidInput
from core.models import Organization
from core.organizations import organization_day
from wallets.addresses import address_normalise
from wallets.events import transaction_event
from wallets.models import PriceQuote, Transaction, TransactionSource, TransactionType, TransferDirection, Wallet
from wallets.selectors import asset_get
from wallets.signals import transaction_labelled_announce, transactions_changed_announce


class TransactionLabel(models.TextChoices):
    """What a transaction is, in words (the classifier's vocabulary; `LEDGER_FORMS` says how each is booked)."""

    BUY = "buy", "Buy"
    SELL = "sell", "Sell"
    SWAP = "swap", "Swap"
    INCOME = "income", "Income"
    STAKING_REWARD = "staking reward", "Staking reward"
    AIRDROP = "airdrop", "Airdrop"
    MINING = "mining", "Mining"
    PAYMENT = "payment", "Payment"
    SALARY = "salary", "Salary"
    INVOICE_PAYMENT = "invoice payment", "Invoice payment"
    FEE = "fee", "Fee"
    OWN_TRANSFER = "own transfer", "Own transfer"
    GIFT = "gift", "Gift"
    LOST = "lost", "Lost or stolen"


class TransactionCategory(models.TextChoices):
    BUSINESS = "business", "Business"
    PERSONAL = "personal", "Personal"
    TRADING = "trading", "Trading"


class LabelHow(models.TextChoices):
    MANUAL = "manual", "Set by a person"
    ACCEPTED = "accepted", "Suggestion accepted"
    APPLIED = "applied", "Suggestion applied automatically"


T = TransactionType
# label -> (booking when units arrive, booking when units leave): (transaction_type, tax_category) in
# the ledger's vocabulary (ledger.tax_trades, ledger.cost_basis), or None: the row's booking is left as
# it is (an invoice payment is booked by invoicing; a gas-only fee by the transfer's own fee).
LEDGER_FORMS: dict[str, tuple[tuple[str, str] | None, tuple[str, str] | None]] = {
    TransactionLabel.BUY: ((T.BUY, ""), (T.BUY, "")),
    TransactionLabel.SELL: ((T.SELL, ""), (T.SELL, "")),
    TransactionLabel.SWAP: ((T.BUY, ""), (T.SELL, "")),
    TransactionLabel.INCOME: ((T.INCOME, "income"), (T.EXPENSE, "payment")),
    TransactionLabel.STAKING_REWARD: ((T.INCOME, "staking"), None),
    TransactionLabel.AIRDROP: ((T.INCOME, "airdrop"), None),
    TransactionLabel.MINING: ((T.INCOME, "mining"), None),
    TransactionLabel.PAYMENT: ((T.INCOME, "income"), (T.EXPENSE, "payment")),
    TransactionLabel.SALARY: ((T.INCOME, "income"), (T.EXPENSE, "payment")),
    TransactionLabel.INVOICE_PAYMENT: (None, None),
    TransactionLabel.FEE: (None, (T.EXPENSE, "cost")),
    TransactionLabel.OWN_TRANSFER: ((T.TRANSFER, "transfer"), (T.TRANSFER, "transfer")),
    TransactionLabel.GIFT: ((T.INCOME, "gift"), (T.EXPENSE, "gift")),
    TransactionLabel.LOST: (None, (T.EXPENSE, "lost")),
}

BUSINESS_FIELDS = ("business_purpose", "tax_category", "is_business_expense", "description")
# The label and category (and the type they set): business fields too, editable on chain rows.
LABEL_FIELDS = ("label", "category", "transaction_type")
MANUAL_FIELDS = ("transaction_type", "amount", "price_at_transaction", "transaction_date", "fee", "usd_value",
                 "from_address", "to_address", "hash", "status", *BUSINESS_FIELDS)


def _validate_transaction(tx: Transaction) -> None:
    # a chain row of nothing (a contract call that only paid gas) is a fact, not an input error
    if tx.amount is not None and tx.amount <= 0 and not (tx.source == TransactionSource.CHAIN and tx.amount == 0):
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


def transaction_incoming(tx: Transaction) -> bool:
    """Whether the row brings units in (else it sends them out): its direction, else its type."""
    if tx.direction:
        return tx.direction == TransferDirection.IN
    if tx.transaction_type in (TransactionType.INCOME, TransactionType.BUY):
        return True
    return tx.transaction_type == TransactionType.TRANSFER and bool(tx.wallet_id) and bool(tx.to_address) \
        and tx.to_address == tx.wallet.address


def _label_changes(tx: Transaction, label: str, category: str) -> dict:
    if label not in TransactionLabel.values:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, f"{label!r} is not a label.",
                           {"fields": {"label": sorted(TransactionLabel.values)}})
    if category not in TransactionCategory.values:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, f"{category!r} is not a category.",
                           {"fields": {"category": sorted(TransactionCategory.values)}})
    changes = {"ai_subcategory": label, "ai_category": category, "is_classified": True}
    form = LEDGER_FORMS[label][0 if transaction_incoming(tx) else 1]
    if label == TransactionLabel.FEE and not tx.amount:
        form = None  # a gas-only row: its fee is booked with the row as it is
    if form is not None:
        changes["transaction_type"], changes["tax_category"] = form
    return changes


def transaction_update(*, actor, transaction: Transaction, **changes) -> Transaction:
    """Rows from the chain keep their on-chain facts: only business fields (and the label,
    category and type) change. Manual rows can be corrected entirely. Business fields and labels: the
    owner or anyone working the books; anything else: the owner or a manager. `label` and
    `category` go together through `transaction_label` (and then set the type and tax category)."""
    permissions.require_own(actor, transaction)
    if set(changes) <= set(BUSINESS_FIELDS) | set(LABEL_FIELDS):
        permissions.require(permissions.can_edit_transaction_business_fields(actor, transaction),
                            "You cannot edit this transaction.")
    else:
        permissions.require(permissions.can_edit_transaction(actor, transaction),
                            "Only the transaction's owner or a manager can correct it.")
    from_chain = transaction.source == TransactionSource.CHAIN
    editable = (*BUSINESS_FIELDS, *LABEL_FIELDS) if from_chain else (*MANUAL_FIELDS, *LABEL_FIELDS)
    refused = sorted(set(changes) - set(editable))
    if refused:
        if from_chain:
            raise Conflict(ErrorCode.IMMUTABLE_FIELDS, "These fields come from the chain and cannot be edited.",
                           {"fields": refused})
        raise InvalidInput(ErrorCode.IMMUTABLE_FIELDS, "These fields cannot be edited.", {"fields": refused})
    label, category = changes.pop("label", None), changes.pop("category", None)
    if label is not None or category is not None:
        clash = sorted({"transaction_type", "tax_category"} & set(changes))
        if clash:
            raise InvalidInput(ErrorCode.VALIDATION_ERROR, "A label sets the type and tax category: give one or "
                               "the other.", {"fields": {name: "set by label" for name in clash}})
        return transaction_label(actor=actor, transaction=transaction, label=label or transaction.ai_subcategory,
                                 category=category or transaction.ai_category or TransactionCategory.BUSINESS,
                                 how=LabelHow.MANUAL, other_changes=changes)
    for name, value in changes.items():
        setattr(transaction, name, value)
    _validate_transaction(transaction)
    transaction.save()
    transactions_changed_announce(transaction)  # corrected by reversal + new entry
    transaction_event("transaction.updated", transaction)
    return transaction


def transaction_label(*, actor, transaction: Transaction, label: str, category: str, how: str = LabelHow.MANUAL,
                      confidence: Decimal | None = None, reason: str = "", other_changes: dict | None = None) -> Transaction:
    """Give `transaction` a label and a category: on the row, in the ledger's vocabulary (the journal
    sync re-books it), announced to the classifier. `actor` None (or the system user) with how
    "applied": the classifier applying its own suggestion."""
    if actor is not None and not permissions.is_system_actor(actor):
        permissions.require_own(actor, transaction)
        permissions.require(permissions.can_edit_transaction_business_fields(actor, transaction),
                            "You cannot edit this transaction.")
    elif how != LabelHow.APPLIED:
        raise ValueError("only a person overrides or accepts a label")
    changes = {**(other_changes or {}), **_label_changes(transaction, label, category)}
    if how == LabelHow.APPLIED:
        changes["ai_confidence"] = confidence
        changes["ai_description"] = reason[:2000]
    else:
        changes["ai_confidence"] = Decimal(1)
        who = getattr(actor, "username", "") or "a person"
        changes["ai_description"] = (f"accepted by {who}: {reason}" if how == LabelHow.ACCEPTED and reason
                                     else f"labelled by {who}")[:2000]
    for name, value in changes.items():
        setattr(transaction, name, value)
    _validate_transaction(transaction)
    transaction.save()
    transactions_changed_announce(transaction)  # the journal entry is re-booked (reversal + new entry)
    transaction_labelled_announce(transaction=transaction, actor=actor, label=label, category=category, how=how)
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
