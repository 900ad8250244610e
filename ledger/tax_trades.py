"""Stored transactions -> the cost-basis engine's trades: the one mapping the automatic journals
(ledger.transaction_journals) and the tax reports (reporting) both read.

`tax_trades_for(organization)` turns the organization's stored transactions back into the cost-basis
engine's trades (`ledger.cost_basis.Trade`, one per Koinly-universal-like row), valued in the
organization's reporting fiat:

- Imported rows: the importer splits a row into movements whose external ids share the row's key
  (`import:<user>:<row key>:<part>`); they are grouped back into one trade, so a swap is one trade
  again, a fiat fee comes back from the difference the importer folded into the values (a buy's
  `total_cost_usd` - `usd_value`, a swap's fair value - the sell part's net proceeds), and a fee
  paid in another crypto asset (the importer's extra "fee" part) is the trade's fee again.
- Fee parts (issue 10): an imported EXPENSE of amount 0 carries a fee in its `fee` (in its own asset,
  a crypto or the fiat) and the fee's fiat value in `usd_value`. As a later part of a row it is the
  row's fee (a fiat fee on income, a receive, a cost/payment spend, a gift, lost, a transfer: the
  engine makes it a cost of acquisition, a cost of disposal or an expense); alone it is a fee-only
  trade (rule 10.5: a crypto fee disposed of at the stored net worth; a fiat fee an expense).
- A gift or a spend without a stored value is valued from the price store; when no price is stored its
  net worth stays None and the engine refuses it where the method needs one (a gift under uk/acb),
  naming the trade's ref (the TxHash, else the import id).
- Chain rows: the two rows of a transfer between two of the organization's wallets (one per wallet,
  same hash and log index) are one own transfer (`wallet` -> `to_wallet`); the gas fee, in ETH, is
  the fee of the sending row. Rows without a fiat value are valued from the local price store (the
  day's price, else the newest earlier one) and each such estimate is listed in `warnings`.
- Only confirmed transactions count; pending and failed ones are skipped.
- Calendar days are the organization's (core.organizations.organization_zone): each trade is dated in that zone
  (same day, anniversaries and tax years follow), and a row valued from the price store takes the
  price of that day.

Labels: the engine knows income/reward/airdrop/mining/staking, cost/payment, gift/lost and
transfer. Koinly's other labels are mapped to those (`LABEL_ALIASES`); an unlabelled send is a
transfer to another wallet of the organization's (Koinly's "withdrawal"), not a disposal.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from core.organizations import organization_zone
from ledger.cost_basis import Trade, TradeError
from wallets.models import Transaction, TransactionStatus, TransactionType, Wallet
from wallets.selectors import price_book_for
from wallets.transaction_rows import transaction_row_windows, transaction_rows
from wallets import external_ids

LABEL_ALIASES = {
    "fork": "income", "loan interest": "income", "other income": "income", "interest": "income",
    "fee": "cost", "margin fee": "cost", "expense": "cost",
    "donation": "gift", "stolen": "lost",
}


# The key of a trade rebuilt from one stored transaction alone ("tx:<id>"); other keys are groups'.
SINGLE_KEY_PREFIX = "tx:"


@dataclass
class TradeProblem:
    """Stored transactions that are no trade the engine can take, and why (the engine's message)."""

    key: str
    sources: list
    reason: str


@dataclass
class TaxInput:
    trades: list[Trade] = field(default_factory=list)
    fiat: str = "USD"
    warnings: list[str] = field(default_factory=list)
    transactions_read: int = 0
    # Parallel to `trades`: a stable identity of each trade (the import row, the own transfer, or the
    # transaction id) and the stored transactions it was rebuilt from.
    keys: list[str] = field(default_factory=list)
    sources: list[list] = field(default_factory=list)
    # With skip_bad: the rows that could not be read as a trade (left out of `trades`).
    problems: list[TradeProblem] = field(default_factory=list)




def _label(raw: str) -> str:
    label = (raw or "").strip().lower()
    return LABEL_ALIASES.get(label, label)


def _wallet_key(tx) -> str:
    return tx.wallet.address if tx.wallet_id else ""


class _Valuer:
    """Fair values from the price store for rows that carry none, each estimate recorded. The price is
    that of the row's calendar day in the organization's time zone."""

    def __init__(self, book, fiat: str, zone: zoneinfo.ZoneInfo, warnings: list[str]):
        self.book, self.fiat, self.zone, self.warnings = book, fiat, zone, warnings

    def local(self, moment: dt.datetime) -> dt.datetime:
        """A trade's date: calendar dates (same day, anniversaries, tax years) are the organization's."""
        return moment.astimezone(self.zone)

    def value(self, asset: str, amount: Decimal, when: dt.datetime, what: str) -> Decimal | None:
        day = when.astimezone(self.zone).date()
        price = self.book.on(asset, day) if self.book is not None else None
        if price is None:
            return None
        self.warnings.append(f"{day.isoformat()} {what}: {amount.normalize():f} {asset} valued at the "
                             f"stored price {price} {self.fiat}")
        return amount * price


def tax_trades_for(organization, *, transactions=None, own_addresses=None, skip_bad: bool = False) -> TaxInput:
    """Every confirmed transaction of `organization` (whoever of its members recorded it) as engine
    trades in its reporting fiat, in date order (ties: stored order). `sources` holds the rows each trade
    was rebuilt from (wallets.transaction_rows.TransactionRow: read-only, never saved).

    `transactions`: only these (a queryset of the organization's transactions, e.g. what one member
    may see: the portfolio); `own_addresses`: the wallets whose transfers between each other are own
    transfers (default: every wallet of the organization's). Rows that are not one trade raise
    TradeError, or with `skip_bad` are left out and listed in `problems` (the journal sync and the
    portfolio: one bad row does not stop the rest)."""

    fiat = organization.reporting_fiat
    zone = organization_zone(organization)
    result = TaxInput(fiat=fiat)
    base = Transaction.objects if transactions is None else transactions
    # Light rows straight from the driver, not model instances (wallets.transaction_rows): building
    # instances was two thirds of the read. Unsorted, then sorted here: the server sorts a whole
    # history before sending the first row; Python sorts 100k rows in a few hundredths of a second.
    rows = transaction_rows(base.for_organization(organization.pk).filter(status=TransactionStatus.CONFIRMED))
    rows.sort(key=lambda tx: (tx.transaction_date, tx.pk))
    result.transactions_read = len(rows)
    needs_price = {tx.cryptocurrency.symbol for tx in rows if tx.usd_value is None} | {"ETH"}
    last_day = max((tx.transaction_date.astimezone(zone).date() for tx in rows), default=None)
    book = price_book_for(needs_price, until=last_day, fiat=fiat, organization=organization) if rows else None
    builder = _TradeBuilder(own=_own_addresses(organization, own_addresses),
                            valuer=_Valuer(book, fiat, zone, result.warnings), skip_bad=skip_bad,
                            problems=result.problems)
    for key, sources, trade in builder.trades(rows):
        result.trades.append(trade)
        result.keys.append(key)
        result.sources.append(sources)
    return result


class TradeSplitAcrossWindows(Exception):
    """Rows of one trade (an imported row's parts, an own transfer's halves) were read in two windows:
    they carry different dates (one was edited). `TradeStream` cannot rebuild that trade; its caller
    reads the history whole instead (`tax_trades_for`)."""


class TradeStream:
    """The organization's trades as `tax_trades_for(organization)` gives them, in date order, built
    window by window from a history read in date order (wallets.transaction_rows.transaction_row_windows)
    so that neither the rows nor the trades are ever held whole: for the engine fed one trade at a time
    (ledger.cost_basis.ComputeRun). Iterate once; `warnings` and `transactions_read` are complete at
    the end. A trade whose rows are in two windows raises TradeSplitAcrossWindows (the caller falls back
    to the whole read; the importer and the chain give a trade's rows one date, so only an edit does it)."""

    def __init__(self, organization):
        self.organization = organization
        self.fiat = organization.reporting_fiat
        self.zone = organization_zone(organization)
        self.warnings: list[str] = []
        self.transactions_read = 0

    def __iter__(self) -> Iterator[Trade]:
        organization = self.organization
        prices = _PricesOnDemand(fiat=self.fiat, organization=organization)
        builder = _TradeBuilder(own=_own_addresses(organization, None),
                                valuer=_Valuer(prices, self.fiat, self.zone, self.warnings), skip_bad=False,
                                problems=[])
        earlier_groups: set[int] = set()  # hashes of the group keys of earlier windows: ~60 bytes a trade
        confirmed = Transaction.objects.for_organization(organization.pk).filter(status=TransactionStatus.CONFIRMED)
        for rows in transaction_row_windows(confirmed, organization_id=organization.pk):
            self.transactions_read += len(rows)
            trades = list(builder.trades(rows))
            groups = {hash(key) for key, _, _ in trades if not key.startswith(SINGLE_KEY_PREFIX)}
            if groups & earlier_groups:
                raise TradeSplitAcrossWindows(organization.pk)
            earlier_groups |= groups
            trades.sort(key=lambda built: built[2].date)  # stable: as the engine orders a whole history
            for _, _, trade in trades:
                yield trade


def _own_addresses(organization, own_addresses) -> set:
    if own_addresses is None:
        own_addresses = Wallet.objects.for_organization(organization.pk).values_list("address", flat=True)
    return set(own_addresses)


class _PricesOnDemand:
    """The price store read one asset at a time, when a row first needs that asset's price: a history
    read in windows does not know beforehand which assets lack a stored value."""

    def __init__(self, *, fiat: str, organization):
        self.fiat, self.organization = fiat, organization
        self.books: dict = {}

    def on(self, asset: str, day: dt.date):
        if asset not in self.books:
            self.books[asset] = price_book_for({asset}, fiat=self.fiat, organization=self.organization)
        return self.books[asset].on(asset, day)


class _TradeBuilder:
    """Rows in date order (ties: stored order) -> (key, sources, trade) in the order of each trade's
    first row: the rows of one imported row, or of one own transfer, make one trade."""

    def __init__(self, *, own: set, valuer: _Valuer, skip_bad: bool, problems: list):
        self.own, self.valuer = own, valuer
        self.skip_bad, self.problems = skip_bad, problems

    def trades(self, rows) -> Iterator[tuple[str, list, Trade]]:
        fiat, valuer, own = self.valuer.fiat, self.valuer, self.own
        groups: dict[str, list] = {}
        order: list[tuple[str, object]] = []  # (kind, key or transaction), in stored order
        for tx in rows:
            key = external_ids.import_row_key(tx.external_id)
            if key is None and tx.source == "chain" and tx.hash and tx.from_address in own and tx.to_address in own:
                # Both halves of an own transfer; a row without a log index is the native ETH movement.
                key = external_ids.chain_movement_key(tx_hash=tx.hash, log_index=tx.log_index, network=tx.network)
            if key is None:
                order.append(("single", tx))
                continue
            if key not in groups:
                groups[key] = []
                order.append(("group", key))
            groups[key].append(tx)

        for kind, item in order:
            if kind == "single":
                key, sources, build = f"{SINGLE_KEY_PREFIX}{item.pk}", [item], lambda: _single_trade(item, fiat, valuer)
            elif external_ids.is_chain_movement_key(item):
                key, sources, build = item, groups[item], lambda: _own_transfer_trade(groups[item], valuer)
            else:
                key, sources, build = item, groups[item], lambda: _imported_trade(groups[item], fiat, valuer)
            try:
                trade = build()
            except TradeError as exc:
                if not self.skip_bad:
                    raise
                self.problems.append(TradeProblem(key, sources, str(exc)))
                continue
            yield key, sources, trade


def _part(tx) -> int:
    return external_ids.import_part(tx.external_id)


def _is_fee_part(tx) -> bool:
    """The importer's fee part: an EXPENSE of nothing whose `fee` is the fee (wallets.imports)."""
    return tx.transaction_type == TransactionType.EXPENSE and not tx.amount and bool(tx.fee)


def _fee_part_trade(part, fiat: str, valuer: _Valuer, common: dict) -> Trade:
    """A fee-only row (rule 10.5): a crypto fee disposed of at its net worth; a fiat fee an expense."""
    asset = part.cryptocurrency.symbol
    if asset.upper() == fiat.upper():
        return Trade(fee_asset=fiat, fee_amount=part.fee, **{**common, "label": _label(part.tax_category)})
    worth = part.usd_value
    if worth is None:
        worth = valuer.value(asset, part.fee, part.transaction_date, "fee-only row")
    return Trade(fee_asset=asset, fee_amount=part.fee, net_worth=worth,
                 **{**common, "label": _label(part.tax_category)})


def _imported_trade(parts: list, fiat: str, valuer: _Valuer) -> Trade:
    parts = sorted(parts, key=_part)
    main = parts[0]
    common = dict(date=valuer.local(main.transaction_date), label="", wallet=_wallet_key(main),
                  ref=main.hash or main.external_id)
    if _is_fee_part(main):
        return _fee_part_trade(main, fiat, valuer, common)
    # The importer's extra part for a fee it could not attach to a leg (a third asset, or a swap's
    # received asset; a fiat fee on a one-sided row): the trade's fee again.
    extra_fee = next((p for p in parts[1:] if p.transaction_type == TransactionType.EXPENSE
                      and (_is_fee_part(p) or p.tax_category == "fee")), None)
    legs = [p for p in parts if p is not extra_fee]
    fee: dict = {}
    if extra_fee is not None:
        amount = extra_fee.fee if _is_fee_part(extra_fee) else extra_fee.amount
        fee = dict(fee_asset=extra_fee.cryptocurrency.symbol, fee_amount=amount)
        if fee["fee_asset"].upper() == fiat.upper():
            fee["fee_asset"] = fiat
        elif fee["fee_asset"] not in {leg.cryptocurrency.symbol for leg in legs}:
            fee_value = extra_fee.usd_value if _is_fee_part(extra_fee) else None
            if fee_value is None:
                fee_value = valuer.value(fee["fee_asset"], amount, extra_fee.transaction_date, "fee")
            if fee_value is not None:
                fee["fee_value"] = fee_value

    sell = next((p for p in legs if p.transaction_type == TransactionType.SELL), None)
    buy = next((p for p in legs if p.transaction_type == TransactionType.BUY), None)
    if sell is not None and buy is not None:  # swap
        worth = buy.usd_value
        if worth is None:
            worth = valuer.value(buy.cryptocurrency.symbol, buy.amount, buy.transaction_date, "swap fair value")
        fiat_fee = worth - sell.usd_value if worth is not None and sell.usd_value is not None else Decimal(0)
        if sell.fee:
            fee = dict(fee_asset=sell.cryptocurrency.symbol, fee_amount=sell.fee)
        elif fiat_fee > 0:
            fee = dict(fee_asset=fiat, fee_amount=fiat_fee)
        return Trade(sent_asset=sell.cryptocurrency.symbol, sent_amount=sell.amount,
                     received_asset=buy.cryptocurrency.symbol, received_amount=buy.amount, net_worth=worth,
                     **fee, **common)
    if buy is not None:  # bought with fiat: the importer's usd_value is the fiat paid, total_cost adds the fee
        paid = buy.usd_value if buy.usd_value is not None else buy.total_cost_usd
        fiat_fee = (buy.total_cost_usd - buy.usd_value) if buy.total_cost_usd is not None and buy.usd_value is not None \
            else Decimal(0)
        if buy.fee:
            fee = dict(fee_asset=buy.cryptocurrency.symbol, fee_amount=buy.fee)
        elif fiat_fee > 0:
            fee = dict(fee_asset=fiat, fee_amount=fiat_fee)
        return Trade(sent_asset=fiat, sent_amount=paid, received_asset=buy.cryptocurrency.symbol,
                     received_amount=buy.amount, **fee, **common)
    if sell is not None:  # sold for fiat: usd_value is already the net proceeds (fiat fee deducted)
        if sell.fee:
            fee = dict(fee_asset=sell.cryptocurrency.symbol, fee_amount=sell.fee)
        return Trade(sent_asset=sell.cryptocurrency.symbol, sent_amount=sell.amount, received_asset=fiat,
                     received_amount=sell.usd_value, **fee, **common)
    if len(legs) == 2:  # one send and one receive under one TxHash: a swap written as two rows
        sent = [p for p in legs if not _is_incoming(p)]
        received = [p for p in legs if _is_incoming(p)]
        if len(sent) == 1 and len(received) == 1:
            sent, received = sent[0], received[0]
            worth = received.usd_value if received.usd_value is not None else sent.usd_value
            if worth is None:
                worth = valuer.value(received.cryptocurrency.symbol, received.amount, received.transaction_date,
                                     "swap fair value")
            if not fee:
                fee = _fee_of(sent, valuer, priced=True) or _fee_of(received, valuer, priced=True)
            return Trade(sent_asset=sent.cryptocurrency.symbol, sent_amount=sent.amount,
                         received_asset=received.cryptocurrency.symbol, received_amount=received.amount,
                         net_worth=worth, **fee, **{**common, "label": _label(sent.tax_category)})
    if len(legs) > 1:  # never read one row of several and drop the rest
        raise TradeError(f"TxHash {main.hash or main.external_id}: {len(legs)} rows share it but are not one trade "
                         "(a buy, a sell, a swap, or one send with one receive): give them their own TxHashes")
    return _one_sided_trade(main, fiat, valuer, fee=fee, common=common)


def _is_incoming(tx) -> bool:
    """Whether a one-sided stored row brings units in (else it sends them out)."""
    if tx.direction:
        return tx.direction == "in"
    return tx.transaction_type == TransactionType.INCOME or (
        tx.transaction_type == TransactionType.TRANSFER and not (tx.wallet_id and tx.from_address == tx.wallet.address))


def _fee_of(tx, valuer: _Valuer, *, priced: bool) -> dict:
    """The row's own fee: gas in ETH for chain rows, else in the row's asset. `priced`: value it from
    the store (the engine cannot take the rate from a trade that has no fiat value in that asset)."""
    if not tx.fee:
        return {}
    fee_asset = "ETH" if tx.source == "chain" else tx.cryptocurrency.symbol
    fee = dict(fee_asset=fee_asset, fee_amount=tx.fee)
    if priced:
        fee_value = valuer.value(fee_asset, tx.fee, tx.transaction_date, "fee")
        if fee_value is not None:
            fee["fee_value"] = fee_value
    return fee


def _one_sided_trade(tx, fiat: str, valuer: _Valuer, *, fee: dict, common: dict) -> Trade:
    asset = tx.cryptocurrency.symbol
    label = _label(tx.tax_category)
    incoming = _is_incoming(tx)
    if tx.transaction_type == TransactionType.INCOME and not label:
        label = "income"
    if tx.transaction_type == TransactionType.EXPENSE and label not in ("cost", "payment", "salary", "gift", "lost"):
        label = "cost"
    if tx.transaction_type == TransactionType.TRANSFER and not incoming and not label:
        label = "transfer"  # a withdrawal to another wallet of the organization's: no disposal
    worth = tx.usd_value
    if worth is None and label != "transfer":
        worth = valuer.value(asset, tx.amount, tx.transaction_date, "fair value")
    if incoming and not label and worth is None:
        label = "transfer"  # a deposit from another wallet of the organization's: its lots arrive from transit
    if not fee:
        fee = _fee_of(tx, valuer, priced=worth is None or (tx.source == "chain" and asset != "ETH"))
    common = {**common, "label": label}
    if incoming:
        return Trade(received_asset=asset, received_amount=tx.amount, net_worth=worth, **fee, **common)
    return Trade(sent_asset=asset, sent_amount=tx.amount, net_worth=worth, **fee, **common)


def _single_trade(tx, fiat: str, valuer: _Valuer) -> Trade:
    common = dict(date=valuer.local(tx.transaction_date), label="", wallet=_wallet_key(tx), ref=tx.hash or str(tx.pk))
    asset = tx.cryptocurrency.symbol
    if tx.transaction_type == TransactionType.BUY:
        paid = tx.total_cost_usd if tx.total_cost_usd is not None else tx.usd_value
        if paid is None:
            paid = valuer.value(asset, tx.amount, tx.transaction_date, "purchase price")
        return Trade(sent_asset=fiat, sent_amount=paid, received_asset=asset, received_amount=tx.amount,
                     **_fee_of(tx, valuer, priced=tx.source == "chain" and asset != "ETH"), **common)
    if tx.transaction_type == TransactionType.SELL:
        proceeds = tx.usd_value
        if proceeds is None:
            proceeds = valuer.value(asset, tx.amount, tx.transaction_date, "sale proceeds")
        return Trade(sent_asset=asset, sent_amount=tx.amount, received_asset=fiat, received_amount=proceeds,
                     **_fee_of(tx, valuer, priced=tx.source == "chain" and asset != "ETH"), **common)
    return _one_sided_trade(tx, fiat, valuer, fee={}, common=common)


def _own_transfer_trade(halves: list, valuer: _Valuer) -> Trade:
    """Both rows of a transfer between two of the organization's wallets, as one own transfer."""
    out = next((tx for tx in halves if tx.direction == "out"), halves[0])
    asset = out.cryptocurrency.symbol
    return Trade(date=valuer.local(out.transaction_date), sent_asset=asset, sent_amount=out.amount,
                 received_asset=asset, received_amount=out.amount, wallet=out.from_address,
                 to_wallet=out.to_address, label="transfer", ref=out.hash, **_fee_of(out, valuer, priced=True))

