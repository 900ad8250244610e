"""Cost-basis engine: capital gains of a crypto history. Pure Python, fed plain data; imports nothing
from Django or the project.

Use
---
    from ledger.cost_basis import Trade, compute, disposals_in, totals_by_year, disposal_csv_rows

    result = compute(trades, method="fifo", fiat="USD", lot_scope="all")   # the WHOLE history
    in_2024 = disposals_in(result, date(2024, 1, 1), date(2024, 12, 31))    # then filter by period
    rows = disposal_csv_rows(in_2024)            # or disposal_csv_rows(result) for everything
    totals = totals_csv_rows(totals_by_year(in_2024, method="fifo"))

Always compute over the whole history and filter afterwards: lots bought before a period are what
it sells, and the UK 30-day rule looks up to 30 days past the period's end.

Input: `Trade` (one Koinly-universal-like row)
    date (aware datetime), sent_asset/sent_amount, received_asset/received_amount,
    fee_asset/fee_amount, fee_value (fiat value of the fee), net_worth (fiat fair value of the
    trade), label, wallet, to_wallet, ref. Amounts are Decimal (int accepted; float, NaN and
    negative refused with TradeError); a crypto amount must be positive, a fiat leg or a fee may
    be zero (a token sold for nothing). Asset codes are compared exactly, except that the fiat code
    is compared case-insensitively. Calendar dates (same day, anniversaries, tax years) are the
    datetime's own local date: pass datetimes in the user's tax time zone (Europe/London for uk).
    Trades are sorted by date, stably: equal timestamps keep input order.

What a trade is
    sent fiat + received crypto ........ buy: a lot costing fiat paid + the fee's fiat value.
    sent crypto + received fiat ........ sell: proceeds = fiat received - the fee's fiat value.
    crypto for crypto .................. swap: a disposal of the sent asset, proceeds = net_worth -
                                          fee's fiat value; a lot of the received asset costing
                                          net_worth (net_worth required).
    received only, label income/reward/airdrop/mining/staking
                                         income: a lot at net_worth, listed in Result.income.
    received only, no label or "gift" .. acquisition at net_worth (not income).
    sent only, label cost/payment ...... spend: a disposal at net_worth - the fee's fiat value.
    sent only, label gift/lost ......... leaves at cost; no gain/loss row (Result.removals).
    to_wallet set (or label transfer) .. own transfer: no event. With to_wallet it is one row
                                          (wallet -> to_wallet; sent and received amounts, when both
                                          given, must be equal - put a network fee in fee_*). A
                                          one-sided row labelled transfer without to_wallet is half
                                          of a pair: the sending half puts its lots "in transit",
                                          the receiving half takes them from there (earliest sent
                                          first) into its wallet; lots never received are reported
                                          as open lots of wallet "in transit" (uk: they stay in the
                                          one pool); a receiving half with nothing in transit is a
                                          TradeError.
    fiat in or out only ................ no capital event. Any other label on a one-sided row, a
                                          send with no label, fiat for fiat: TradeError.

Fees (rules 2 and 4), decided so that nothing is counted twice
    The fee's fiat value is fee_amount for a fiat fee; for a crypto fee it is fee_value when given,
    else the trade's own rate for that asset (the trade's fiat value - fiat leg for a buy/sell,
    net_worth otherwise - divided by the amount of the fee asset in the trade, times fee_amount);
    a crypto fee in an asset not in the trade needs fee_value.
    That value is added to a buy's lot cost or taken off a sell/swap/spend's proceeds, AND a crypto
    fee's units are disposed of separately (kind "fee") with proceeds = that same value. The fiat
    value of the fee is therefore counted once on each side: as consideration given for the fee
    units (realising their own gain or loss against their cost) and as a cost of the trade the fee
    paid for. Example: buy 1 BTC for $100 paying 0.01 ETH (worth $5, cost $3): BTC lot costs $105,
    and a fee disposal of 0.01 ETH, proceeds $5, cost $3, gain $2 - in total exactly what the
    $100 and the ETH were worth. Fee amounts are in addition to sent_amount; the fee leg is settled
    after the trade's main legs, so a fee in the received asset can be paid from what arrived.
    Fees on income, acquisitions and own transfers do not change the lot cost or the income value;
    a crypto fee there is still a fee disposal, a fiat fee there is not a capital item.

Methods and lot scope
    fifo / lifo (by acquisition order) / hifo (highest cost per unit, ties earliest): specific lots,
    each disposal lists the lots it used (Disposal.lots, LotMatch.lot_id = Lot.lot_id).
    acb: one average-cost pool per asset (per scope). uk: HMRC same day, then 30 days after
    (earliest first), then the section 104 pool; all of a day's disposals (including gifts, which
    take their share of the matched cost) are one disposal, so uk writes one row per asset per day
    (refs joined with ";", kinds and wallets joined with "+").
    lot_scope "all" pools lots across wallets (open lots have wallet ""); "wallet" keeps them per
    wallet and own transfers move lots, keeping their dates and costs. uk requires "all".

Terms (rule 5)
    long if disposed after the first calendar anniversary of acquisition (29 February's anniversary
    is 28 February), else short; "various" when one disposal uses lots of both kinds. A pool (acb,
    uk section 104) has no lot dates: its date_acquired is "various" and its term comes from the
    acquisitions that fed the pool since it was last empty - long if even the latest of them is
    long, short if even the earliest is short, else various. uk same-day and 30-day matches are
    short and name their acquisition date when a row uses only one.

Precision (rule 7)
    Arithmetic runs in a local 50-digit decimal context (the caller's context is untouched).
    Nothing is rounded in a Result; fiat is rounded half-even to cents only when printed.

Errors
    InsufficientHoldings(asset, date, shortfall) when more leaves than is held (per wallet with
    lot_scope "wallet"); TradeError for malformed trades and calls (the message names the trade
    index and ref).

Output
    Result(disposals, income, open_lots, fiat, method, lot_scope, removals);
    totals_by_year(disposals, method=) -> YearTotal(year, proceeds, cost_basis, gains, losses, net)
    (calendar years; uk: tax year from 6 April, named by the year it starts in);
    disposal_csv_rows(result or disposals) / totals_csv_rows(totals): lists of strings, header first.
"""

from .engine import PRECISION, compute
from .model import (
    IN_TRANSIT,
    INCOME_LABELS,
    LOT_SCOPES,
    METHODS,
    VARIOUS,
    Disposal,
    IncomeEvent,
    InsufficientHoldings,
    Lot,
    LotMatch,
    Removal,
    Result,
    Trade,
    TradeError,
    YearTotal,
)
from .report import (
    DISPOSAL_CSV_HEADER,
    TOTALS_CSV_HEADER,
    disposal_csv_rows,
    disposals_in,
    format_fiat,
    format_quantity,
    income_in,
    tax_year,
    totals_by_year,
    totals_csv_rows,
)
from .terms import anniversary

__all__ = [
    "DISPOSAL_CSV_HEADER", "IN_TRANSIT", "INCOME_LABELS", "LOT_SCOPES", "METHODS", "PRECISION",
    "TOTALS_CSV_HEADER", "VARIOUS", "Disposal", "IncomeEvent", "InsufficientHoldings", "Lot", "LotMatch",
    "Removal", "Result", "Trade", "TradeError", "YearTotal", "anniversary", "compute", "disposal_csv_rows",
    "disposals_in", "format_fiat", "format_quantity", "income_in", "tax_year", "totals_by_year",
    "totals_csv_rows",
]
