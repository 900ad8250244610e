"""Turn one validated Trade into the movements it causes (see the package docstring for the rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .model import (
    GIFT_DISPOSAL_METHODS,
    GIFT_LABELS,
    INCOME_LABELS,
    NO_GAIN_LABELS,
    RECEIVED_GIFT_LABELS,
    SPEND_LABELS,
    TRANSFER_LABELS,
    Trade,
    TradeError,
)


@dataclass(frozen=True)
class Acquire:
    asset: str
    wallet: str
    quantity: Decimal
    cost: Decimal  # the lot's cost: fair value or fiat paid, plus the fee (rules 4, 10.4)
    income_label: str = ""  # set: also an IncomeEvent worth `value`
    value: Decimal | None = None  # fair value without the fee (the income); None: same as `cost`


@dataclass(frozen=True)
class Dispose:
    asset: str
    wallet: str
    quantity: Decimal
    proceeds: Decimal
    kind: str  # sell / swap / spend / gift / fee


@dataclass(frozen=True)
class Leave:
    """Lost (or a gift under fifo/lifo/hifo): leaves at cost, no gain row."""

    asset: str
    wallet: str
    quantity: Decimal
    label: str


@dataclass(frozen=True)
class Move:
    """Own transfer in one row (wallet -> to_wallet): lots keep their dates and costs."""

    asset: str
    from_wallet: str
    to_wallet: str
    quantity: Decimal


@dataclass(frozen=True)
class TransitOut:
    """One-sided own transfer, sending half: the lots wait in transit for the receiving row."""

    asset: str
    wallet: str
    quantity: Decimal


@dataclass(frozen=True)
class TransitIn:
    asset: str
    wallet: str
    quantity: Decimal


@dataclass(frozen=True)
class FeeExpense:
    """A fiat fee that is no part of any cost or proceeds (fee-only row, own transfer, fiat movement,
    a send that is no disposal): listed in Result.expenses, no capital event."""

    amount: Decimal
    wallet: str
    label: str


def _describe(trade: Trade, index: int) -> str:
    ref = f" ref={trade.ref!r}" if trade.ref else ""
    return f"trade #{index}{ref}"


def _amount(trade: Trade, index: int, name: str) -> Decimal | None:
    value = getattr(trade, name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TradeError(f"{_describe(trade, index)}: {name} must be a Decimal, got {type(value).__name__}")
    value = Decimal(value)
    if not value.is_finite():
        raise TradeError(f"{_describe(trade, index)}: {name} is not a finite number ({value})")
    if value < 0:
        raise TradeError(f"{_describe(trade, index)}: {name} is negative ({value})")
    return value


def _side(trade: Trade, index: int, asset_field: str, amount_field: str, fiat: str) -> tuple[str, Decimal | None]:
    asset = (getattr(trade, asset_field) or "").strip()
    amount = _amount(trade, index, amount_field)
    if asset and amount is None:
        raise TradeError(f"{_describe(trade, index)}: {asset_field} {asset!r} has no {amount_field}")
    if asset and not amount and asset.upper() != fiat.upper() and amount_field != "fee_amount":
        # zero fiat is fine (a token sold for nothing), and so is a zero fee
        raise TradeError(f"{_describe(trade, index)}: {asset_field} {asset!r} needs a positive {amount_field}")
    if not asset and amount:
        raise TradeError(f"{_describe(trade, index)}: {amount_field} {amount} has no {asset_field}")
    return asset, (amount if asset else None)


def check_date(trade: Trade, index: int) -> None:
    when = trade.date
    if not isinstance(when, datetime) or when.tzinfo is None or when.utcoffset() is None:
        raise TradeError(f"{_describe(trade, index)}: date must be a timezone-aware datetime, got {when!r}")


def operations(trade: Trade, index: int, fiat: str, method: str = "fifo") -> tuple[list, str]:
    """Validate `trade` and return (movements in order, its label lower-cased).

    `method` matters for gifts only: under uk and acb a sent gift is a disposal at market value
    (Dispose kind "gift"), under fifo/lifo/hifo (the default) it leaves at cost (Leave)."""
    check_date(trade, index)
    where = _describe(trade, index)
    sent_asset, sent = _side(trade, index, "sent_asset", "sent_amount", fiat)
    received_asset, received = _side(trade, index, "received_asset", "received_amount", fiat)
    fee_asset, fee = _side(trade, index, "fee_asset", "fee_amount", fiat)
    fee_value = _amount(trade, index, "fee_value")
    net_worth = _amount(trade, index, "net_worth")
    label = (trade.label or "").strip().lower()
    wallet = trade.wallet or ""
    to_wallet = trade.to_wallet or ""
    fiat_upper = fiat.upper()

    def is_fiat(asset: str) -> bool:
        return asset.upper() == fiat_upper

    def need_net_worth(what: str) -> Decimal:
        if net_worth is None:
            raise TradeError(f"{where}: {what} needs net_worth (its fair value in {fiat})")
        return net_worth

    # The trade's fiat value and the amount of each asset in it: the rate for a crypto fee (rule 4).
    trade_value: Decimal | None = None
    ops: list = []

    fee_only = not sent_asset and not received_asset
    gift_is_disposal = method in GIFT_DISPOSAL_METHODS and label in GIFT_LABELS
    if fee_only:
        # Rule 10.5: gas of a failed or approval transaction. A crypto fee is a disposal of the fee units
        # at the row's net worth (fee_value is accepted too; if both are given they must agree).
        if not fee:
            raise TradeError(f"{where}: nothing sent, received or paid")
        if not is_fiat(fee_asset):
            if net_worth is not None and fee_value is not None and net_worth != fee_value:
                raise TradeError(f"{where}: a fee-only row has net_worth {net_worth} but fee_value {fee_value}; "
                                 "give one fiat value of the fee")
            trade_value = net_worth if net_worth is not None else fee_value
            if trade_value is None:
                raise TradeError(f"{where}: a fee-only row of {fee} {fee_asset} needs net_worth "
                                 f"(the fee's fair value in {fiat})")
    elif to_wallet or label in TRANSFER_LABELS:
        assets = {a for a in (sent_asset, received_asset) if a}
        if len(assets) != 1:
            raise TradeError(f"{where}: an own transfer moves exactly one asset, got {sorted(assets) or 'none'}")
        asset = assets.pop()
        if sent is not None and received is not None and sent != received:
            raise TradeError(
                f"{where}: own transfer sends {sent} but receives {received} {asset}; "
                "put the network fee in fee_asset/fee_amount"
            )
        quantity = sent if sent is not None else received
        trade_value = net_worth
        if not is_fiat(asset):  # fiat moving between own accounts is no capital event
            if to_wallet or (sent is not None and received is not None):
                ops.append(Move(asset, wallet, to_wallet or wallet, quantity))
            elif sent is not None:
                ops.append(TransitOut(asset, wallet, quantity))
            else:
                ops.append(TransitIn(asset, wallet, quantity))
    elif sent_asset and received_asset:
        if is_fiat(sent_asset) and is_fiat(received_asset):
            raise TradeError(f"{where}: fiat for fiat ({fiat}) is not a trade this engine prices")
        if sent_asset == received_asset:
            raise TradeError(f"{where}: sends and receives the same asset {sent_asset}; label it transfer")
        if is_fiat(sent_asset):  # buy
            trade_value = sent
        elif is_fiat(received_asset):  # sell
            trade_value = received
        else:  # swap
            trade_value = need_net_worth("a swap")
    elif received_asset:
        if not is_fiat(received_asset):
            if label in INCOME_LABELS or label in RECEIVED_GIFT_LABELS or label == "":
                trade_value = need_net_worth("an acquisition without a fiat leg")
            else:
                raise TradeError(
                    f"{where}: unknown label {trade.label!r} for a receive "
                    f"(use one of {sorted(INCOME_LABELS | RECEIVED_GIFT_LABELS | TRANSFER_LABELS)} or none)"
                )
    elif sent_asset:
        if not is_fiat(sent_asset):
            if label in SPEND_LABELS:
                trade_value = need_net_worth("a cost/payment send")
            elif gift_is_disposal:
                trade_value = need_net_worth(f"a gift under method {method!r} (a disposal at market value)")
            elif label in NO_GAIN_LABELS:
                trade_value = net_worth
            else:
                raise TradeError(
                    f"{where}: a send needs a label: one of {sorted(SPEND_LABELS | NO_GAIN_LABELS | TRANSFER_LABELS)}"
                    " (or a to_wallet for an own transfer)"
                )

    # Fiat value of the fee (rule 4): a fiat fee is its amount; a crypto fee is fee_value when given,
    # else priced at the trade's own rate for that asset.
    fee_fiat = Decimal(0)
    if fee:
        if is_fiat(fee_asset):
            fee_fiat = fee
        elif fee_only:
            fee_fiat = trade_value
        elif fee_value is not None:
            fee_fiat = fee_value
        elif trade_value is not None and fee_asset == sent_asset and sent:
            fee_fiat = trade_value * fee / sent
        elif trade_value is not None and fee_asset == received_asset and received:
            fee_fiat = trade_value * fee / received
        else:
            raise TradeError(f"{where}: fee of {fee} {fee_asset} needs fee_value (its fiat value)")

    fee_in_capital = False  # the fee's value went into a lot cost or came off proceeds (rules 2, 4, 10.1, 10.3, 10.4)
    if not (fee_only or to_wallet or label in TRANSFER_LABELS):
        if sent_asset and received_asset:
            fee_in_capital = True
            if is_fiat(sent_asset):
                ops.append(Acquire(received_asset, wallet, received, sent + fee_fiat))
            elif is_fiat(received_asset):
                ops.append(Dispose(sent_asset, wallet, sent, received - fee_fiat, "sell"))
            else:
                ops.append(Dispose(sent_asset, wallet, sent, trade_value - fee_fiat, "swap"))
                ops.append(Acquire(received_asset, wallet, received, trade_value))
        elif received_asset and not is_fiat(received_asset):
            # Rule 10.4: the fee is an incidental cost of acquisition (TCGA92 s38(1)(c)), for income too;
            # the income itself stays the fair value received.
            fee_in_capital = True
            income = label if label in INCOME_LABELS else ""
            ops.append(Acquire(received_asset, wallet, received, trade_value + fee_fiat, income, trade_value))
        elif sent_asset and not is_fiat(sent_asset):
            if label in SPEND_LABELS:
                fee_in_capital = True
                ops.append(Dispose(sent_asset, wallet, sent, trade_value - fee_fiat, "spend"))
            elif gift_is_disposal:  # rule 10.1: uk / acb
                fee_in_capital = True
                ops.append(Dispose(sent_asset, wallet, sent, trade_value - fee_fiat, "gift"))
            else:  # lost (every method), a gift under fifo/lifo/hifo
                ops.append(Leave(sent_asset, wallet, sent, label))

    if fee and not is_fiat(fee_asset):
        # The fee units themselves are disposed of at their fair value, from the paying wallet.
        ops.append(Dispose(fee_asset, wallet, fee, fee_fiat, "fee"))
    elif fee and not fee_in_capital:
        ops.append(FeeExpense(fee, wallet, label))
    return ops, label
