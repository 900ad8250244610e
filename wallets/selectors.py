"""Reads for wallets."""

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from wallets.models import Wallet


def wallet_list_for(user) -> QuerySet[Wallet]:
    return Wallet.objects.filter(user=user).order_by("slot", "id")


TRANSACTION_ORDERINGS = {
    "date": ("transaction_date", "id"), "-date": ("-transaction_date", "-id"),
    "amount": ("amount", "id"), "-amount": ("-amount", "-id"),
}
INFLOW_TYPES = ("BUY", "INCOME")
OUTFLOW_TYPES = ("SELL", "EXPENSE")


def transaction_list_for(user, *, wallet_id=None, asset=None, transaction_type=None, status=None, category=None,
                         date_from=None, date_to=None, ordering="-date"):
    from django.db.models import Q

    from wallets.models import Cryptocurrency, Transaction

    queryset = Transaction.objects.filter(user=user)
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


def transaction_history_for(user) -> list[dict]:
    """Every movement of the user's wallets in date order with the running balance per asset.
    Transfers count by direction; a transfer between two of the user's wallets moves nothing."""
    from decimal import Decimal

    own = set(wallet_list_for(user).values_list("address", flat=True))
    balances: dict[str, Decimal] = {}
    rows = []
    for tx in transaction_list_for(user, ordering="date"):
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


def portfolio_value_for(user, *, movements: list[dict] | None = None) -> dict:
    """Holdings (from the average-cost engine) valued at the newest stored price; assets without a
    price are listed, not guessed."""
    from decimal import Decimal

    from wallets.portfolio import positions_from, valued

    positions = positions_from(portfolio_movements_for(user) if movements is None else movements)
    book = price_book_for(positions, fiat=user.reporting_fiat)  # one query, same choice as prices.price_current
    prices = {asset: book.current(asset) for asset in positions}
    rows = [row for row in valued(positions, prices) if row["quantity"]]
    return {
        "fiat": user.reporting_fiat,
        "total_invested": sum((r["total_invested"] for r in rows if r["current_value"] is not None), Decimal(0)),
        "total_value": sum((r["current_value"] for r in rows if r["current_value"] is not None), Decimal(0)),
        "unrealized_gain_loss": sum((r["unrealized_gain_loss"] for r in rows if r["current_value"] is not None),
                                    Decimal(0)),
        "positions": rows,
        "unpriced": [r["asset"] for r in rows if r["current_value"] is None],
    }


def portfolio_allocation_for(user, *, movements: list[dict] | None = None) -> dict:
    """Shares of the priced holdings by asset and by wallet (unpriced assets are left out).
    `movements`: the user's, when the caller already has them (one read for a whole page)."""
    from decimal import Decimal

    from wallets.portfolio import positions_from

    movements = portfolio_movements_for(user) if movements is None else movements
    prices = {row["asset"]: row["current_price"]
              for row in portfolio_value_for(user, movements=movements)["positions"]}
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


def portfolio_movements_for(user) -> list[dict]:
    """The user's transactions as plain movements for wallets.portfolio (internal transfers skipped)."""
    own = set(wallet_list_for(user).values_list("address", flat=True))
    movements = []
    for tx in transaction_list_for(user, ordering="date"):
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


def price_book_for(assets, *, until: dt.date | None = None, fiat: str | None = None):
    """Every stored price of `assets` up to `until` (daily) plus their latest quotes, in one query."""
    from django.conf import settings
    from django.db.models import Q

    from wallets.models import PriceQuote
    from wallets.portfolio import PriceBook

    fiat = (fiat or settings.REPORTING_FIAT).upper()
    days = Q(day__isnull=False) if until is None else Q(day__lte=until)
    rows = PriceQuote.objects.filter(Q(day__isnull=True) | days, symbol__in=sorted(assets), fiat=fiat)
    daily, latest, latest_at = [], {}, {}
    # Same choice as wallets.prices: for a day, the first source alphabetically; the newest latest quote.
    for quote in rows.order_by("symbol", "day", "source"):
        if quote.day is not None:
            daily.append((quote.symbol, quote.day, quote.price))
        elif quote.symbol not in latest_at or quote.fetched_at > latest_at[quote.symbol]:
            latest[quote.symbol], latest_at[quote.symbol] = quote.price, quote.fetched_at
    return PriceBook(daily, latest)


MAX_HISTORY_DAYS = 3 * 366
DEFAULT_HISTORY_DAYS = 30


def portfolio_history_for(user, *, start: dt.date | None = None, end: dt.date | None = None,
                          movements: list[dict] | None = None) -> dict:
    """Daily value of the user's holdings from `start` to `end` (inclusive; default the last 30
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
    movements = portfolio_movements_for(user) if movements is None else movements
    book = price_book_for({m["asset"] for m in movements}, until=end, fiat=user.reporting_fiat)
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return {"fiat": user.reporting_fiat, "interval": "day", "start": start, "end": end,
            "points": value_series(movements, days, book, today=today)}


PERFORMANCE_WINDOWS = ("24h", "7d", "30d", "ytd", "all")


def performance_window_start(window: str, now: dt.datetime) -> dt.datetime | None:
    if window == "all":
        return None
    if window == "ytd":
        return timezone.localtime(now).replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return now - {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}[window]


def portfolio_performance_for(user, *, now: dt.datetime | None = None) -> dict:
    """P&L and ROI over each window (formula in wallets.portfolio.window_performance)."""
    from wallets.portfolio import window_performance

    now = now or timezone.now()
    movements = portfolio_movements_for(user)
    book = price_book_for({m["asset"] for m in movements}, fiat=user.reporting_fiat)
    windows = [{"period": window, **window_performance(movements, book, start=performance_window_start(window, now),
                                                        end=now)}
               for window in PERFORMANCE_WINDOWS]
    return {"fiat": user.reporting_fiat, "as_of": now, "windows": windows}


def price_alert_list_for(user):
    from wallets.models import PriceAlert

    return PriceAlert.objects.filter(user=user).order_by("-created_at", "-id")
