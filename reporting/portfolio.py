"""Reads of the portfolio: what an actor holds, its cost basis and P&L, its value over time.

One answer with the books: the rows the actor may see (wallets.selectors: every transaction of the
organization for books roles, else their own) are read as engine trades by the same mapping as the
books (`ledger.tax_trades.tax_trades_for`, restricted to those rows, with the wallets the actor sees
as their own: a transfer between two of them is no disposal), and the cost basis, the holdings and
the realised P&L come from the cost-basis engine with the organization's method and lot scope. For a
books role the figures are the books' (tests/reporting/test_portfolio_agrees_with_the_books.py).

- Only confirmed rows are held; pending ones are listed as pending, never counted.
- Calendar days are the organization's (core.organizations: `organization_zone`, `organization_today`):
  a trade's day, the price of its day, "today" of the charts.
- Value history and performance (wallets.portfolio, pure) run over the movements of the same trades,
  so their quantities are the engine's (fees paid in crypto included).
- Lots sent to a wallet the actor does not see (an unlabelled send: a transfer to another wallet of
  the organization's, as in the books) are listed as `in_transit`, not as holdings.
Values are in the organization's reporting fiat; assets without a price are listed, not guessed.

Data problems degrade, they do not block (issue 19), with the rule of the books
(ledger.cost_basis.compute_skipping): a trade the engine cannot cost (no fiat value, a sale of more
than is held, rows that are no one trade) is listed in `problems` (its date, key, transactions,
assets and why) and the other trades give cost and P&L as before. An asset touched by such a trade
keeps its quantity (from every movement the rows describe, as the value history counts it) and its
value, but its cost, average price and unrealised and realised P&L are unknown (None): no figure is
made up from the trades that could be costed. Totals: `total_value` counts every priced position
(a value needs no cost); `total_invested` and `unrealized_gain_loss` count the priced positions
whose cost is known, and `value_without_cost` is the value of the others, so total_value =
total_invested + unrealized_gain_loss + value_without_cost. `realized_gain_loss` sums the costed
assets' disposals. 409 cost_basis_failed is left for what is no data problem (a method or lot scope
the engine does not know): then nothing sensible can be said.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from core.errors import Conflict, ErrorCode, InvalidInput
from core.memo import RecentResults
from core.permissions import can_view_all_wallets
from core.money import ZERO
from core.organizations import organization_today, organization_zone
from ledger import books_inputs
from ledger.cost_basis import IN_TRANSIT, Result, Trade, TradeError, compute_skipping
from ledger.tax_trades import tax_trades_for
from wallets.models import TransactionStatus
from wallets.portfolio import SIGNS, PriceBook, value_series, window_performance
from wallets.selectors import price_book_for, transaction_queryset_for, wallet_list_for

NO_WALLET = "(no wallet)"
TRANSFER_LABEL = "transfer"
LOST_LABEL = "lost"


# --- trades -> movements (pure) ----------------------------------------------------------------------
def movements_of(trade: Trade, fiat: str) -> list[dict]:
    """The movements of one engine trade for wallets.portfolio (its module docstring has the kinds).

    Flows are valued like the engine's costs and proceeds: a buy at the fiat paid plus a fiat fee, a
    sell at the fiat received less it, a swap and a one-sided row at their fair value (a fiat fee
    taken off what left, else added to what came in), so a fiat fee is a loss in the performance.
    A fee paid in crypto is a LOSS of its units; so is a send labelled lost. A value the trade does
    not carry is None (priced from the store on the trade's day)."""
    label = (trade.label or "").strip().lower()
    when = trade.date

    def crypto(asset: str) -> bool:
        return bool(asset) and asset.upper() != fiat.upper()

    moves: list[dict] = []

    def add(kind: str, asset: str, quantity: Decimal, value: Decimal | None, wallet: str) -> None:
        moves.append({"kind": kind, "asset": asset, "quantity": quantity, "value": value, "wallet": wallet,
                      "date": when, "day": when.date()})

    fiat_fee = trade.fee_amount if trade.fee_amount and trade.fee_asset and not crypto(trade.fee_asset) else ZERO
    sends = crypto(trade.sent_asset) and bool(trade.sent_amount)
    receives = crypto(trade.received_asset) and bool(trade.received_amount)
    if trade.to_wallet or label == TRANSFER_LABEL:
        if trade.to_wallet or (trade.sent_asset and trade.received_asset):  # own transfer in one row
            asset = trade.sent_asset or trade.received_asset
            quantity = trade.sent_amount if trade.sent_amount is not None else trade.received_amount
            if crypto(asset):
                add("MOVE_OUT", asset, quantity, None, trade.wallet)
                add("MOVE_IN", asset, quantity, None, trade.to_wallet or trade.wallet)
        elif sends:  # to a wallet not seen here: it leaves these holdings (in transit, as in the books)
            add("OUT", trade.sent_asset, trade.sent_amount, trade.net_worth, trade.wallet)
        elif receives:
            add("IN", trade.received_asset, trade.received_amount, trade.net_worth, trade.wallet)
    elif sends and receives:  # swap
        worth = trade.net_worth
        add("OUT", trade.sent_asset, trade.sent_amount, None if worth is None else worth - fiat_fee, trade.wallet)
        add("IN", trade.received_asset, trade.received_amount, worth, trade.wallet)
    elif receives:  # buy, income, a receive
        paid = trade.sent_amount if trade.sent_asset else trade.net_worth
        add("IN", trade.received_asset, trade.received_amount, None if paid is None else paid + fiat_fee,
            trade.wallet)
    elif sends and label == LOST_LABEL:
        add("LOSS", trade.sent_asset, trade.sent_amount, None, trade.wallet)
    elif sends:  # sell, spend, gift
        got = trade.received_amount if trade.received_asset else trade.net_worth
        add("OUT", trade.sent_asset, trade.sent_amount, None if got is None else got - fiat_fee, trade.wallet)
    if trade.fee_amount and crypto(trade.fee_asset):
        add("LOSS", trade.fee_asset, trade.fee_amount, None, trade.wallet)
    return moves


# --- one read per request ----------------------------------------------------------------------------
@dataclass
class PortfolioData:
    """What the actor may see, read once and shared by every figure of a page."""

    organization: object | None
    fiat: str
    zone: zoneinfo.ZoneInfo
    method: str
    lot_scope: str
    trades: list[Trade] = field(default_factory=list)
    movements: list[dict] = field(default_factory=list)
    pending: list[dict] = field(default_factory=list)
    # Parallel to `trades`: each trade's key and stored transactions (ledger.tax_trades).
    keys: list[str] = field(default_factory=list)
    sources: list[list] = field(default_factory=list)
    # Rows that are no trade at all (ledger.tax_trades' problems): always problems.
    unread: list[dict] = field(default_factory=list)
    _book: PriceBook | None = None
    # The engine's results per `as_of`: shared by the copies a remembered read hands out (the engine
    # over 100k trades is most of an uncached dashboard once the read itself is remembered).
    _costed: dict = field(default_factory=dict)

    @property
    def today(self) -> dt.date:
        return organization_today(self.organization)

    def book(self) -> PriceBook:
        """Every stored price of the assets moved (daily, and the latest quotes): one query."""
        if self._book is None:
            assets = {move["asset"] for move in self.movements}
            self._book = (price_book_for(assets, fiat=self.fiat, organization=self.organization) if assets
                          else PriceBook([]))
        return self._book

    def costed(self, as_of: dt.date | None = None) -> tuple[Result, list[dict]]:
        """The engine over the trades (dated up to `as_of`, a day in the organization's time zone)
        that can be costed, and the problems of the others (module docstring), oldest first."""
        if as_of not in self._costed:
            self._costed[as_of] = self._cost(as_of)
        return self._costed[as_of]

    def _cost(self, as_of: dt.date | None) -> tuple[Result, list[dict]]:
        indices = [i for i, trade in enumerate(self.trades) if as_of is None or trade.date.date() <= as_of]
        try:
            result, skipped = compute_skipping([self.trades[i] for i in indices], method=self.method,
                                               fiat=self.fiat, lot_scope=self.lot_scope)
        except TradeError as exc:  # no data problem: the call itself (method, lot scope, fiat)
            raise Conflict(ErrorCode.COST_BASIS_FAILED, f"The cost basis cannot be computed: {exc}",
                           {"reason": str(exc)}) from exc
        problems = [_problem(self.keys[indices[n]], self.trades[indices[n]].date, self.sources[indices[n]],
                             _trade_assets(self.trades[indices[n]], self.fiat), reason)
                    for n, reason in skipped.items()]
        problems += [p for p in self.unread if as_of is None or p["date"].date() <= as_of]
        return result, sorted(problems, key=lambda p: (p["date"], p["key"]))


def _trade_assets(trade: Trade, fiat: str) -> list[str]:
    return sorted({asset for asset in (trade.sent_asset, trade.received_asset, trade.fee_asset)
                   if asset and asset.upper() != fiat.upper()})


def _problem(key: str, when: dt.datetime, sources: list, assets: list[str], reason: str) -> dict:
    return {"key": key, "date": when, "transactions": [tx.pk for tx in sources], "assets": assets,
            "reason": re.sub(r"^trade #\d+(?: ref='[^']*')?: ", "", reason)}


# --- the read, remembered while its inputs stand still -----------------------------------------------
# Reading a whole history is the cost of every portfolio figure (issue 16: 301 s at 100k rows on a
# loaded machine). The read is kept in this process (core.memo) under the books' inputs
# (ledger.books_inputs.inputs_fingerprint: change marks and row counts), the wallets the actor sees,
# whose rows they see, and the day; any change of those makes a new key.
_remembered = RecentResults(seconds=600, entries=8)


def portfolio_data_for(actor) -> PortfolioData:
    organization = actor.organization if actor.organization_id else None
    if organization is None:
        return PortfolioData(None, settings.REPORTING_FIAT.upper(), organization_zone(None), "fifo", "all")
    wallets = dict(wallet_list_for(actor).values_list("address", "name"))
    scope = "all" if can_view_all_wallets(actor) else str(actor.pk)
    key = (books_inputs.inputs_fingerprint(organization.pk), scope, tuple(sorted(wallets.items())),
           organization_today(organization))  # read before the data: never a key newer than its data
    data = _remembered.get_or_compute(key, lambda: _portfolio_read(actor, organization, wallets))
    # The current prices (latest quotes move every few minutes) are read again by each request.
    return dataclasses.replace(data, _book=None)


def portfolio_memo_clear() -> None:
    """Forget every remembered read of this process (the system's clear-cache, tests)."""
    _remembered.clear()


def _portfolio_read(actor, organization, wallets: dict) -> PortfolioData:
    method = organization.cost_basis_method
    data = PortfolioData(organization, organization.reporting_fiat.upper(), organization_zone(organization), method,
                         "all" if method == "uk" else organization.cost_basis_lot_scope)
    visible = transaction_queryset_for(actor)
    tax_input = tax_trades_for(organization, transactions=visible, own_addresses=wallets, skip_bad=True)
    data.trades, data.keys, data.sources = tax_input.trades, tax_input.keys, tax_input.sources
    zone = data.zone
    data.unread = [_problem(problem.key, problem.sources[0].transaction_date.astimezone(zone), problem.sources,
                            sorted({tx.cryptocurrency.symbol for tx in problem.sources
                                    if tx.cryptocurrency.symbol.upper() != data.fiat}), problem.reason)
                   for problem in tax_input.problems]
    for trade in data.trades:
        for move in movements_of(trade, data.fiat):
            data.movements.append({**move, "wallet": wallets.get(move["wallet"], NO_WALLET)})
    for tx in (visible.filter(status=TransactionStatus.PENDING).prefetch_related("wallet", "cryptocurrency")
               .order_by("transaction_date", "id")):
        data.pending.append({"id": tx.pk, "date": tx.transaction_date, "type": tx.transaction_type,
                             "asset": tx.cryptocurrency.symbol, "quantity": tx.amount,
                             "wallet": tx.wallet.name if tx.wallet_id else NO_WALLET, "value": tx.usd_value})
    return data


# --- figures -----------------------------------------------------------------------------------------
def portfolio_value_for(actor, *, data: PortfolioData | None = None, as_of: dt.date | None = None) -> dict:
    """Holdings with their cost basis (the engine's open lots), value, unrealised and realised P&L,
    and the trades whose cost is unknown (`problems`; the module docstring has the rule).
    `as_of`: a day (the organization's): trades up to its end, valued at that day's price; default
    now, at the newest price."""
    data = data or portfolio_data_for(actor)
    result, problems = data.costed(as_of)
    book = data.book()
    held: dict[str, list[Decimal]] = {}
    in_transit: dict[str, list[Decimal]] = {}
    for lot in result.open_lots:
        into = in_transit if lot.wallet == IN_TRANSIT else held
        quantity, cost = into.setdefault(lot.asset, [ZERO, ZERO])
        into[lot.asset] = [quantity + lot.quantity, cost + lot.cost]
    realised: dict[str, Decimal] = {}
    for disposal in result.disposals:
        realised[disposal.asset] = realised.get(disposal.asset, ZERO) + disposal.gain
    uncosted = {asset for problem in problems for asset in problem["assets"]}
    if uncosted:  # their quantity from every movement the rows describe, cost unknown
        movements = [m for m in data.movements if as_of is None or m["day"] <= as_of]
        moved = _quantities([m for m in movements if m["asset"] in uncosted], lambda m: m["asset"])
        for asset in uncosted:
            held[asset] = [moved.get(asset, ZERO), None]
    rows = []
    for asset, (quantity, cost) in sorted(held.items()):
        if quantity <= 0:
            continue
        price = book.current(asset) if as_of is None else book.on(asset, as_of)
        value = quantity * price if price is not None else None
        rows.append({
            "asset": asset, "quantity": quantity, "cost_known": cost is not None,
            "average_buy_price": cost / quantity if cost is not None else None, "total_invested": cost,
            "current_price": price, "current_value": value,
            "unrealized_gain_loss": value - cost if value is not None and cost is not None else None,
            "realized_gain_loss": realised.get(asset, ZERO) if cost is not None else None,
        })
    priced = [row for row in rows if row["current_value"] is not None]
    costed = [row for row in priced if row["cost_known"]]
    return {
        "fiat": data.fiat,
        "as_of": as_of or data.today,
        "cost_basis_method": data.method,
        "lot_scope": data.lot_scope,
        "total_invested": sum((r["total_invested"] for r in costed), ZERO),
        "total_value": sum((r["current_value"] for r in priced), ZERO),
        "unrealized_gain_loss": sum((r["unrealized_gain_loss"] for r in costed), ZERO),
        "value_without_cost": sum((r["current_value"] for r in priced if not r["cost_known"]), ZERO),
        "realized_gain_loss": sum((gain for asset, gain in realised.items() if asset not in uncosted), ZERO),
        "positions": rows,
        "unpriced": [r["asset"] for r in rows if r["current_value"] is None],
        "problems": problems,
        "in_transit": [{"asset": asset, "quantity": quantity, "cost": cost}
                       for asset, (quantity, cost) in sorted(in_transit.items()) if quantity],
        "pending": data.pending if as_of is None else [p for p in data.pending if
                                                       p["date"].astimezone(data.zone).date() <= as_of],
    }


def _quantities(movements: list[dict], key) -> dict:
    held: dict = {}
    for move in movements:
        name = key(move)
        held[name] = held.get(name, ZERO) + SIGNS[move["kind"]] * move["quantity"]
    return held


def portfolio_allocation_for(actor, *, data: PortfolioData | None = None) -> dict:
    """Shares of the priced holdings (now) by asset and by wallet; unpriced assets are left out.
    Quantities come from the movements, which are the engine's, so no cost basis is needed."""
    data = data or portfolio_data_for(actor)
    book = data.book()
    prices = {asset: book.current(asset) for asset in {m["asset"] for m in data.movements}}

    def worth(quantities: dict) -> dict:
        values: dict = {}
        for (name, asset), quantity in quantities.items():
            if prices.get(asset) is not None and quantity > 0:
                values[name] = values.get(name, ZERO) + quantity * prices[asset]
        return values

    def shares(values: dict) -> list[dict]:
        total = sum(values.values(), ZERO)
        return [{"name": name, "value": value,
                 "share": (value / total).quantize(Decimal("0.0001")) if total else ZERO}
                for name, value in sorted(values.items(), key=lambda item: -item[1])]

    by_asset = worth(_quantities(data.movements, lambda m: (m["asset"], m["asset"])))
    by_wallet = worth(_quantities(data.movements, lambda m: (m["wallet"], m["asset"])))
    return {"by_asset": shares(by_asset), "by_wallet": shares(by_wallet)}


MAX_HISTORY_DAYS = 3 * 366
DEFAULT_HISTORY_DAYS = 30


def portfolio_history_for(actor, *, start: dt.date | None = None, end: dt.date | None = None,
                          data: PortfolioData | None = None) -> dict:
    """Daily value of the holdings the actor sees from `start` to `end` (inclusive, days of the
    organization; default the last 30 days): quantities at each day's end times the day's price."""
    data = data or portfolio_data_for(actor)
    today = data.today
    end = end or today
    start = start or end - dt.timedelta(days=DEFAULT_HISTORY_DAYS - 1)
    if end > today:
        raise InvalidInput(ErrorCode.INVALID_RANGE, "The end date cannot be in the future.", {"end": str(end)})
    if start > end:
        raise InvalidInput(ErrorCode.INVALID_RANGE, "The start date is after the end date.",
                           {"start": str(start), "end": str(end)})
    if (end - start).days + 1 > MAX_HISTORY_DAYS:
        raise InvalidInput(ErrorCode.RANGE_TOO_LONG, "Ask for at most 3 years of daily history.",
                           {"max_days": MAX_HISTORY_DAYS, "asked_days": (end - start).days + 1})
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return {"fiat": data.fiat, "interval": "day", "start": start, "end": end,
            "points": value_series(data.movements, days, data.book(), today=today)}


PERFORMANCE_WINDOWS = ("24h", "7d", "30d", "ytd", "all")


def performance_window_start(window: str, now: dt.datetime, zone: dt.tzinfo) -> dt.datetime | None:
    """The window's start in the organization's time zone (its date picks the start price's day)."""
    if window == "all":
        return None
    if window == "ytd":  # the organization's 1 January
        return now.astimezone(zone).replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    deltas = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}
    return (now - deltas[window]).astimezone(zone)


def portfolio_performance_for(actor, *, now: dt.datetime | None = None, data: PortfolioData | None = None) -> dict:
    """P&L and ROI over each window (formula in wallets.portfolio.window_performance)."""
    data = data or portfolio_data_for(actor)
    now = now or timezone.now()
    book = data.book()
    windows = [{"period": window, **window_performance(data.movements, book, end=now,
                                                        start=performance_window_start(window, now, data.zone))}
               for window in PERFORMANCE_WINDOWS]
    return {"fiat": data.fiat, "as_of": now, "windows": windows}
