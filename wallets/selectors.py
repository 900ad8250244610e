"""Reads for wallets. Every read is for an actor: `Model.objects.for_actor(actor)` (their
organization's rows), then, unless they may view every wallet of it (books roles:
core.permissions.can_view_all_wallets), only their own: the wallets they made, those wallets'
transactions and the rows they imported. Values are in the organization's reporting fiat."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, QuerySet

from core import permissions
from core.errors import ErrorCode, InvalidInput
from wallets.models import (Cryptocurrency, PriceAlert, PriceQuote, Transaction, TransactionStatus, TransactionType,
                            TransferDirection, Wallet)
from wallets.portfolio import PriceBook
from wallets.prices import quote_preference


def _own_unless_books(queryset, actor):
    """The actor's organization's rows (already scoped) narrowed to their own for a plain member."""
    if permissions.can_view_all_wallets(actor):
        return queryset
    return queryset.filter(user_id=actor.pk)


def wallet_list_for(actor) -> QuerySet[Wallet]:
    """The wallets `actor` may see: every wallet of the organization for books roles, else their own."""
    queryset = _own_unless_books(Wallet.objects.for_actor(actor), actor)
    return queryset.order_by("slot", "created_at", "id")


def asset_get(symbol: str) -> Cryptocurrency:
    """A known asset by its symbol (any case); an unknown one is invalid input."""
    token = Cryptocurrency.objects.filter(symbol=(symbol or "").upper()).first()
    if token is None:
        raise InvalidInput(ErrorCode.UNKNOWN_ASSET, f"{symbol!r} is not a known asset.")
    return token


def transaction_queryset_for(actor):
    """The transactions `actor` may see (unordered, unfiltered): the base of every transaction read."""
    return _own_unless_books(Transaction.objects.for_actor(actor), actor)


def transaction_get_for(actor, transaction_id):
    """One transaction the actor may see, or None (another organization's, a colleague's for a plain
    member, or missing: the caller answers 404 alike).

    Read by id alone, then the scope checked on the row with the same rule as
    transaction_queryset_for (core.permissions.can_view_transaction): with the organization in the
    query the embedded server picks the organization index and scans every row of the organization
    (1.3 s at 6k rows) instead of the _id index (13 ms). prefetch, not select_related: the backend's
    $lookup runs before the $match (bench/README.md)."""
    transaction = Transaction.objects.prefetch_related("cryptocurrency", "wallet").filter(pk=transaction_id).first()
    if transaction is None or not permissions.can_view_transaction(actor, transaction):
        return None
    return transaction


def organization_fiat(actor) -> str:
    """The reporting fiat of the actor's organization (the setting's default without one)."""
    organization = getattr(actor, "organization", None)
    return (organization.reporting_fiat if organization is not None else settings.REPORTING_FIAT).upper()


TRANSACTION_ORDERINGS = {
    "date": ("transaction_date", "id"), "-date": ("-transaction_date", "-id"),
    "amount": ("amount", "id"), "-amount": ("-amount", "-id"),
}
INFLOW_TYPES = (TransactionType.BUY, TransactionType.INCOME)
OUTFLOW_TYPES = (TransactionType.SELL, TransactionType.EXPENSE)


def transaction_list_for(actor, *, wallet_id=None, asset=None, transaction_type=None, status=None, category=None,
                         date_from=None, date_to=None, ordering="-date"):
    queryset = transaction_queryset_for(actor)
    if wallet_id:
        queryset = queryset.filter(wallet_id=wallet_id)
    if asset:
        token = Cryptocurrency.objects.filter(symbol=asset.upper()).first()
        queryset = queryset.filter(cryptocurrency=token) if token else queryset.none()
    if transaction_type:
        queryset = queryset.filter(transaction_type=transaction_type)
    if status:
        queryset = queryset.filter(status=status)
    if category:
        queryset = queryset.filter(Q(ai_category=category) | Q(tax_category=category))
    if date_from:
        queryset = queryset.filter(transaction_date__gte=date_from)
    if date_to:
        queryset = queryset.filter(transaction_date__lt=date_to)
    # prefetch_related, not select_related: the backend puts a join's $lookup before the $match, and
    # the embedded server then joins every transaction of the collection before filtering
    # (bench/README.md, transactions list). Two small queries for the page's wallets and assets instead.
    return queryset.prefetch_related("wallet", "cryptocurrency").order_by(*TRANSACTION_ORDERINGS[ordering])


def transaction_history_for(actor) -> list[dict]:
    """Every movement of the wallets the actor sees in date order with the running balance per
    asset. Transfers count by direction; a transfer between two of those wallets moves nothing."""
    own = set(wallet_list_for(actor).values_list("address", flat=True))
    balances: dict[str, Decimal] = {}
    rows = []
    for tx in transaction_list_for(actor, ordering="date"):
        if tx.status == TransactionStatus.FAILED:
            continue
        symbol = tx.cryptocurrency.symbol
        if tx.transaction_type in INFLOW_TYPES:
            change = tx.amount
        elif tx.transaction_type in OUTFLOW_TYPES:
            change = -tx.amount
        elif tx.from_address in own and tx.to_address in own:
            change = Decimal(0)
        else:
            if tx.direction:
                outgoing = tx.direction == TransferDirection.OUT
            else:
                outgoing = tx.from_address in own if tx.wallet is None else tx.from_address == tx.wallet.address
            change = -tx.amount if outgoing else tx.amount
        balances[symbol] = balances.get(symbol, Decimal(0)) + change
        if tx.fee and tx.wallet is not None and tx.from_address == tx.wallet.address:  # fees are paid in ETH
            if symbol == "ETH":
                change -= tx.fee
                balances[symbol] -= tx.fee
            else:
                balances["ETH"] = balances.get("ETH", Decimal(0)) - tx.fee
        rows.append({"id": tx.pk, "date": tx.transaction_date, "type": tx.transaction_type, "asset": symbol,
                     "wallet": tx.wallet.name if tx.wallet else "", "change": change, "balance": balances[symbol], "hash": tx.hash})
    return rows


def reporting_fiat_lock_reason(organization) -> str | None:
    """The organization's reporting fiat is fixed once it holds a transaction: every stored value
    (prices, costs, proceeds) is in that currency. None: it may still change."""
    if Transaction.objects.for_organization(organization.pk).exists():
        return "The organization already has transactions valued in its reporting currency."
    return None


def price_alert_list_for(actor):
    """The price alerts `actor` may see: every alert of the organization for books roles, else theirs."""
    return _own_unless_books(PriceAlert.objects.for_actor(actor), actor).order_by("-created_at", "-id")


def price_book_for(assets, *, until: dt.date | None = None, fiat: str | None = None, organization=None):
    """Every stored price of `assets` up to `until` (daily) plus their latest quotes, in one query:
    the shared quotes and those of `organization` (an Organization or its id; None: shared only)."""
    fiat = (fiat or settings.REPORTING_FIAT).upper()
    organization_id = getattr(organization, "pk", organization)
    days = Q(day__isnull=False) if until is None else Q(day__lte=until)
    rows = PriceQuote.objects.for_organization(organization_id).filter(
        Q(day__isnull=True) | days, symbol__in=sorted(assets), fiat=fiat)
    daily, latest, latest_key = [], {}, {}
    # Same choice as wallets.prices: for a day, the organization's own quote, else the first source
    # alphabetically; of the latest quotes the newest (the organization's own on the same day).
    quotes = sorted(rows, key=lambda q: (q.symbol, q.day or dt.date.min, *quote_preference(q)))
    for quote in quotes:
        if quote.day is not None:
            daily.append((quote.symbol, quote.day, quote.price))
            continue
        key = (quote.fetched_at.date(), quote.organization_id is not None, quote.fetched_at)
        if quote.symbol not in latest_key or key > latest_key[quote.symbol]:
            latest[quote.symbol], latest_key[quote.symbol] = quote.price, key
    return PriceBook(daily, latest)
