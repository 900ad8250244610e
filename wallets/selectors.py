"""Reads for wallets. Every read is for an actor: `Model.objects.for_actor(actor)` (their
organization's rows), then, unless they may view every wallet of it (books roles:
core.permissions.can_view_all_wallets), only their own: the wallets they made, those wallets'
transactions and the rows they imported. Values are in the organization's reporting fiat."""

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from core import permissions
from wallets.models import Wallet


def _own_unless_books(queryset, actor):
    """The actor's organization's rows (already scoped) narrowed to their own for a plain member."""
    if permissions.can_view_all_wallets(actor):
        return queryset
    return queryset.filter(user_id=actor.pk)


def wallet_list_for(actor) -> QuerySet[Wallet]:
    """The wallets `actor` may see: every wallet of the organization for books roles, else their own."""
    queryset = _own_unless_books(Wallet.objects.for_actor(actor), actor)
    return queryset.order_by("slot", "created_at", "id")


def transaction_queryset_for(actor):
    """The transactions `actor` may see (unordered, unfiltered): the base of every transaction read."""
    from wallets.models import Transaction

    return _own_unless_books(Transaction.objects.for_actor(actor), actor)


def transaction_get_for(actor, transaction_id):
    """One transaction the actor may see, or None (another organization's, a colleague's for a plain
    member, or missing: the caller answers 404 alike).

    Read by id alone, then the scope checked on the row with the same rule as
    transaction_queryset_for (core.permissions.can_view_transaction): with the organization in the
    query the embedded server picks the organization index and scans every row of the organization
    (1.3 s at 6k rows) instead of the _id index (13 ms). prefetch, not select_related: the backend's
    $lookup runs before the $match (bench/README.md)."""
    from wallets.models import Transaction

    transaction = Transaction.objects.prefetch_related("cryptocurrency", "wallet").filter(pk=transaction_id).first()
    if transaction is None or not permissions.can_view_transaction(actor, transaction):
        return None
    return transaction


def organization_fiat(actor) -> str:
    """The reporting fiat of the actor's organization (the setting's default without one)."""
    from django.conf import settings

    organization = getattr(actor, "organization", None)
    return (organization.reporting_fiat if organization is not None else settings.REPORTING_FIAT).upper()


TRANSACTION_ORDERINGS = {
    "date": ("transaction_date", "id"), "-date": ("-transaction_date", "-id"),
    "amount": ("amount", "id"), "-amount": ("-amount", "-id"),
}
INFLOW_TYPES = ("BUY", "INCOME")
OUTFLOW_TYPES = ("SELL", "EXPENSE")


def transaction_list_for(actor, *, wallet_id=None, asset=None, transaction_type=None, status=None, category=None,
                         date_from=None, date_to=None, ordering="-date"):
    from django.db.models import Q

    from wallets.models import Cryptocurrency

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
    from decimal import Decimal

    own = set(wallet_list_for(actor).values_list("address", flat=True))
    balances: dict[str, Decimal] = {}
    rows = []
    for tx in transaction_list_for(actor, ordering="date"):
        if tx.status == "FAILED":
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
                outgoing = tx.direction == "out"
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


def portfolio_value_for(actor, *, movements: list[dict] | None = None) -> dict:
    """Holdings (from the average-cost engine) of what the actor sees, valued at the newest stored
    price in the organization's fiat; assets without a price are listed, not guessed."""
    from decimal import Decimal

    from wallets.portfolio import positions_from, valued

    positions = positions_from(portfolio_movements_for(actor) if movements is None else movements)
    fiat = organization_fiat(actor)
    # one query, same choice as prices.price_current
    book = price_book_for(positions, fiat=fiat, organization=actor.organization_id)
    prices = {asset: book.current(asset) for asset in positions}
    rows = [row for row in valued(positions, prices) if row["quantity"]]
    return {
        "fiat": fiat,
        "total_invested": sum((r["total_invested"] for r in rows if r["current_value"] is not None), Decimal(0)),
        "total_value": sum((r["current_value"] for r in rows if r["current_value"] is not None), Decimal(0)),
        "unrealized_gain_loss": sum((r["unrealized_gain_loss"] for r in rows if r["current_value"] is not None),
                                    Decimal(0)),
        "positions": rows,
        "unpriced": [r["asset"] for r in rows if r["current_value"] is None],
    }


def portfolio_allocation_for(actor, *, movements: list[dict] | None = None) -> dict:
    """Shares of the priced holdings by asset and by wallet (unpriced assets are left out).
    `movements`: the actor's, when the caller already has them (one read for a whole page)."""
    from decimal import Decimal

    from wallets.portfolio import positions_from

    movements = portfolio_movements_for(actor) if movements is None else movements
    prices = {row["asset"]: row["current_price"]
              for row in portfolio_value_for(actor, movements=movements)["positions"]}
    by_wallet: dict[str, Decimal] = {}
    for wallet_name in {m["wallet"] for m in movements}:
        for asset, position in positions_from([m for m in movements if m["wallet"] == wallet_name]).items():
            if prices.get(asset) is not None and position.quantity > 0:
                by_wallet[wallet_name] = by_wallet.get(wallet_name, Decimal(0)) + position.quantity * prices[asset]
    by_asset = {a: p.quantity * prices[a] for a, p in positions_from(movements).items()
                if prices.get(a) is not None and p.quantity > 0}

    def shares(values: dict) -> list[dict]:
        total = sum(values.values(), Decimal(0))
        return [{"name": name, "value": value,
                 "share": (value / total).quantize(Decimal("0.0001")) if total else Decimal(0)}
                for name, value in sorted(values.items(), key=lambda item: -item[1])]

    return {"by_asset": shares(by_asset), "by_wallet": shares(by_wallet)}


def portfolio_movements_for(actor) -> list[dict]:
    """The transactions the actor sees as plain movements for wallets.portfolio (transfers between
    the wallets they see are internal and skipped)."""
    own = set(wallet_list_for(actor).values_list("address", flat=True))
    movements = []
    for tx in transaction_list_for(actor, ordering="date"):
        if tx.status == "FAILED":
            continue
        kind = tx.transaction_type
        if kind == "TRANSFER":
            if tx.from_address in own and tx.to_address in own:
                continue
            if tx.direction:
                kind = "OUT" if tx.direction == "out" else "IN"
            else:
                kind = "OUT" if tx.wallet is not None and tx.from_address == tx.wallet.address else "IN"
        value = tx.total_cost_usd if tx.total_cost_usd is not None else tx.usd_value
        movements.append({"kind": kind, "asset": tx.cryptocurrency.symbol, "quantity": tx.amount, "value": value,
                          "wallet": tx.wallet.name if tx.wallet else "(no wallet)", "date": tx.transaction_date,
                          "day": timezone.localtime(tx.transaction_date).date()})
    return movements


def price_book_for(assets, *, until: dt.date | None = None, fiat: str | None = None, organization=None):
    """Every stored price of `assets` up to `until` (daily) plus their latest quotes, in one query:
    the shared quotes and those of `organization` (an Organization or its id; None: shared only)."""
    from django.conf import settings
    from django.db.models import Q

    from wallets.models import PriceQuote
    from wallets.portfolio import PriceBook
    from wallets.prices import quote_preference

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


MAX_HISTORY_DAYS = 3 * 366
DEFAULT_HISTORY_DAYS = 30


def portfolio_history_for(actor, *, start: dt.date | None = None, end: dt.date | None = None,
                          movements: list[dict] | None = None) -> dict:
    """Daily value of the holdings the actor sees from `start` to `end` (inclusive; default the last 30
    days): quantities at each day's end from the transactions, times the day's stored price."""
    from core.jsonapi.errors import ApiError
    from wallets.portfolio import value_series

    today = timezone.localdate()
    end = end or today
    start = start or end - dt.timedelta(days=DEFAULT_HISTORY_DAYS - 1)
    if end > today:
        raise ApiError(422, "invalid_range", "The end date cannot be in the future.", {"end": str(end)})
    if start > end:
        raise ApiError(422, "invalid_range", "The start date is after the end date.",
                       {"start": str(start), "end": str(end)})
    if (end - start).days + 1 > MAX_HISTORY_DAYS:
        raise ApiError(422, "range_too_long", "Ask for at most 3 years of daily history.",
                       {"max_days": MAX_HISTORY_DAYS, "asked_days": (end - start).days + 1})
    movements = portfolio_movements_for(actor) if movements is None else movements
    fiat = organization_fiat(actor)
    book = price_book_for({m["asset"] for m in movements}, until=end, fiat=fiat, organization=actor.organization_id)
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return {"fiat": fiat, "interval": "day", "start": start, "end": end,
            "points": value_series(movements, days, book, today=today)}


PERFORMANCE_WINDOWS = ("24h", "7d", "30d", "ytd", "all")


def performance_window_start(window: str, now: dt.datetime) -> dt.datetime | None:
    if window == "all":
        return None
    if window == "ytd":
        return timezone.localtime(now).replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return now - {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}[window]


def portfolio_performance_for(actor, *, now: dt.datetime | None = None) -> dict:
    """P&L and ROI over each window (formula in wallets.portfolio.window_performance)."""
    from wallets.portfolio import window_performance

    now = now or timezone.now()
    movements = portfolio_movements_for(actor)
    fiat = organization_fiat(actor)
    book = price_book_for({m["asset"] for m in movements}, fiat=fiat, organization=actor.organization_id)
    windows = [{"period": window, **window_performance(movements, book, start=performance_window_start(window, now),
                                                        end=now)}
               for window in PERFORMANCE_WINDOWS]
    return {"fiat": fiat, "as_of": now, "windows": windows}


def price_alert_list_for(actor):
    """The price alerts `actor` may see: every alert of the organization for books roles, else theirs."""
    from wallets.models import PriceAlert

    return _own_unless_books(PriceAlert.objects.for_actor(actor), actor).order_by("-created_at", "-id")


def transfer_list_for(actor):
    """The outgoing transfers `actor` may see: every send of the organization for books roles, else
    the sends from their own wallets."""
    from wallets.models import OutgoingTransfer

    queryset = OutgoingTransfer.objects.for_actor(actor)
    if not permissions.can_view_all_wallets(actor):
        queryset = queryset.filter(wallet_id__in=list(wallet_list_for(actor).values_list("pk", flat=True)))
    return queryset.order_by("-created_at", "-id")
