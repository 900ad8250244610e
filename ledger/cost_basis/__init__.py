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
                                         income: a lot costing net_worth + the fee's fiat value
                                          (rule 10.4), listed in Result.income at net_worth.
    received only, no label or "gift" .. acquisition: a lot costing net_worth + the fee's fiat value
                                          (not income).
    sent only, label cost/payment ...... spend: a disposal at net_worth - the fee's fiat value.
    sent only, label gift .............. by the method's jurisdiction (rule 10.1): uk and acb: a
                                          disposal (kind "gift") at net_worth - the fee's fiat value,
                                          net_worth required; fifo/lifo/hifo: leaves at cost, no row
                                          (Result.removals).
    sent only, label lost .............. leaves at cost, no row, every method (rule 10.2;
                                          Result.removals).
    fee only (nothing sent or received)  rule 10.5: a crypto fee is a disposal of the fee units (kind
                                          "fee") at net_worth (required; fee_value accepted instead,
                                          both given must agree); a fiat fee changes no holdings
                                          and is listed in Result.expenses. Any label.
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

Capital rules (issue 10: rules 10.1-10.5), their sources and which method follows which jurisdiction
    fifo, lifo, hifo follow US rules; acb follows Canada's adjusted cost base; uk follows HMRC's
    Cryptoassets Manual (CRYPTO22200 onwards: same day, 30 days, section 104 pool).
    10.1 Gifts (sent). uk: a gift (to anyone but a spouse or civil partner, which the engine does not
       model) is a disposal at market value - HMRC CRYPTO22100 (TCGA92 s17, market value rule).
       acb: a deemed disposition at fair market value (Income Tax Act s69(1)(b)). Both: proceeds =
       net_worth (a gift without net_worth is a TradeError naming the trade and its ref) minus the
       fee's fiat value (a fee is its disposal cost), and it gets a disposal row of kind "gift";
       under uk it is part of the day's single disposal and takes part in the same-day and 30-day
       rules like any disposal. fifo/lifo/hifo (US): a gift is no disposal for the giver; the units
       leave at cost in the method's order, listed in Result.removals (net_worth only prices a
       crypto fee), no row.
    10.2 Lost (lost or destroyed keys) is never a disposal - HMRC CRYPTO22400; the same for every
       method: the units leave at cost (lots in the method's order; the pool's average cost for acb
       and uk), Result.removals, no row. Under uk they are NOT matched by the same-day or 30-day
       rules: they leave the section 104 pool (after the day's own acquisitions and disposals are
       dealt with). A later negligible-value claim (TCGA92 s24(2), CRYPTO22400) is a separate act
       the engine does not model: record it as a disposal (e.g. a sale for 0) when made.
    10.3 A fee on a disposal is an incidental cost of disposal (TCGA92 s38(1)(c)): taken off the
       proceeds of a sell, swap, spend (cost/payment) and, under uk/acb, a gift - a fiat fee too.
    10.4 A fee on an acquisition is an incidental cost of acquisition (TCGA92 s38(1)(c)), every
       method: added to the lot cost of a buy, an income row and a plain receive (no label or
       "gift"). The income listed in Result.income stays the fair value received (net_worth): the
       fee is a cost of acquiring the asset, not less income. A swap's fee lowers the proceeds of
       what was given (10.3), not the cost of what was received, so it is counted once.
    10.5 Fee-only rows (gas of a failed or approval transaction) are valid: see the table above.
    Fiat fees: every fiat fee is counted exactly once - in a lot cost (10.4), off proceeds (10.3), or,
    when it is no part of any capital computation (fee-only rows, own transfers, fiat movements,
    lost, gifts under fifo/lifo/hifo), in Result.expenses for the caller to book as an expense.

Fees (rules 2 and 4; 10.3 and 10.4), decided so that nothing is counted twice
    The fee's fiat value is fee_amount for a fiat fee; for a crypto fee it is fee_value when given,
    else the trade's own rate for that asset (the trade's fiat value - fiat leg for a buy/sell,
    net_worth otherwise - divided by the amount of the fee asset in the trade, times fee_amount);
    a crypto fee in an asset not in the trade needs fee_value (a fee-only row: net_worth).
    That value is added to an acquisition's lot cost (10.4) or taken off a disposal's proceeds (10.3),
    AND a crypto fee's units are disposed of separately (kind "fee") with proceeds = that same
    value. The fiat value of the fee is therefore counted once on each side: as consideration given
    for the fee units (realising their own gain or loss against their cost) and as a cost of the
    trade the fee paid for. Example: buy 1 BTC for $100 paying 0.01 ETH (worth $5, cost $3): BTC
    lot costs $105, and a fee disposal of 0.01 ETH, proceeds $5, cost $3, gain $2 - in total exactly
    what the $100 and the ETH were worth. Fee amounts are in addition to sent_amount; the fee leg is
    settled after the trade's main legs, so a fee in the received asset can be paid from what
    arrived. Fees on own transfers, lost and US gifts do not change any cost: a crypto fee there is
    still a fee disposal, a fiat fee there is an expense (Result.expenses), not a capital item.

Methods and lot scope
    fifo / lifo (by acquisition order) / hifo (highest cost per unit, ties earliest): specific lots,
    each disposal lists the lots it used (Disposal.lots, LotMatch.lot_id = Lot.lot_id).
    acb: one average-cost pool per asset (per scope). uk: HMRC same day, then 30 days after
    (earliest first), then the section 104 pool; all of a day's disposals (sales, swaps, spends,
    gifts, fees) are one disposal, so uk writes one row per asset per day (refs joined with ";",
    kinds and wallets joined with "+"). Losses are not disposals and leave the pool (10.2).
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
    index and ref). `compute_skipping(trades, ...)` -> (Result, {index: reason}) computes whatever
    can be costed and says why the rest cannot (rule in tolerant.py): the books and the portfolio
    use it so one bad row never stops the rest.

Streaming
    `run = ComputeRun(method=, fiat=, lot_scope=)`, then `run.add(trade)` for each trade in date order
    and `run.finish()` -> the same Result as `compute` over those trades, without holding them (a
    whole history too large for memory). A trade is validated when it arrives; one out of date order
    is a ValueError.

Output
    Result(disposals, income, open_lots, fiat, method, lot_scope, removals, expenses):
    income = IncomeEvent (value = fair value, without the fee); removals = Removal (lost; gifts
    under fifo/lifo/hifo); expenses = Expense(amount, date, label, ref, wallet), the fiat fees that
    are no capital item (see "Capital rules"), filtered by period with expenses_in;
    totals_by_year(disposals, method=) -> YearTotal(year, proceeds, cost_basis, gains, losses, net)
    (calendar years; uk: tax year from 6 April, named by the year it starts in);
    disposal_csv_rows(result or disposals) / totals_csv_rows(totals): lists of strings, header first.
"""

from .engine import PRECISION, ComputeRun, compute
from .model import (
    IN_TRANSIT,
    INCOME_LABELS,
    LOT_SCOPES,
    METHODS,
    VARIOUS,
    Disposal,
    Expense,
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
    expenses_in,
    format_fiat,
    format_quantity,
    income_in,
    tax_year,
    totals_by_year,
    totals_csv_rows,
)
from .terms import anniversary
from .tolerant import compute_skipping

__all__ = [
    "ComputeRun", "DISPOSAL_CSV_HEADER", "IN_TRANSIT", "INCOME_LABELS", "LOT_SCOPES", "METHODS", "PRECISION",
    "TOTALS_CSV_HEADER", "VARIOUS", "Disposal", "Expense", "IncomeEvent", "InsufficientHoldings", "Lot", "LotMatch",
    "Removal", "Result", "Trade", "TradeError", "YearTotal", "anniversary", "compute", "compute_skipping",
    "disposal_csv_rows",
    "disposals_in", "expenses_in", "format_fiat", "format_quantity", "income_in", "tax_year", "totals_by_year",
    "totals_csv_rows",
]
