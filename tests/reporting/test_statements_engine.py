"""The pure statements engine (reporting/statements.py) on hand-worked books, with the arithmetic in
comments: balance sheet at fair value with the equation exact, income statement, cash flow by the
indirect method tied to the cash accounts, comparison columns, unpriced crypto at cost."""

import datetime as dt
from decimal import Decimal as D

import pytest

from reporting.statements import (
    Account,
    Holding,
    Period,
    Snapshot,
    StatementError,
    balance_sheet,
    cash_flow,
    income_statement,
    previous_period,
    same_day_a_year_before,
    statement_as_json,
)

# The default chart's accounts used here (codes and keys as in ledger.services.DEFAULT_CHART).
CHART = [
    Account("1000", "Assets", "asset", "", "assets"),
    Account("1100", "Cash and bank", "asset", "1000", "cash_and_bank"),
    Account("1110", "Cash", "asset", "1100", "cash"),
    Account("1120", "Bank", "asset", "1100", "bank"),
    Account("1200", "Crypto assets", "asset", "1000", "crypto_assets"),
    Account("1200-ETH", "Crypto asset ETH", "asset", "1200", "crypto:ETH"),
    Account("1200-BTC", "Crypto asset BTC", "asset", "1200", "crypto:BTC"),
    Account("1300", "Accounts receivable", "asset", "1000", "receivables"),
    Account("2000", "Liabilities", "liability", "", "liabilities"),
    Account("2100", "Accounts payable", "liability", "2000", "payables"),
    Account("2200", "Payroll liabilities", "liability", "2000", "payroll_liabilities"),
    Account("2500", "Bank loan", "liability", "2000", None),
    Account("3000", "Equity", "equity", "", "equity_root"),
    Account("3100", "Owner's capital", "equity", "3000", "equity"),
    Account("3200", "Retained earnings", "equity", "3000", "retained_earnings"),
    Account("4000", "Revenue", "revenue", "", "revenue_root"),
    Account("4100", "Sales revenue", "revenue", "4000", "revenue"),
    Account("4200", "Crypto income", "revenue", "4000", "crypto_income"),
    Account("4300", "Realised gains", "revenue", "4000", "realised_gains"),
    Account("5000", "Expenses", "expense", "", "expenses"),
    Account("5200", "Salaries", "expense", "5000", "salaries"),
    Account("5300", "Gas fees", "expense", "5000", "gas_fees"),
]
CRYPTO = {"1200", "1200-ETH", "1200-BTC"}


def dr(code, amount, asset="", quantity=None):
    return (code, D(amount), D(0), asset, None if quantity is None else D(quantity))


def cr(code, amount, asset="", quantity=None):
    return (code, D(0), D(amount), asset, None if quantity is None else D(quantity))


# (day, lines): the hand-worked books.
ENTRIES = [
    (dt.date(2025, 12, 15), [dr("1120", "10000"), cr("3100", "10000")]),                  # owner puts in 10000
    (dt.date(2026, 1, 5), [dr("1200-ETH", "4000", "ETH", "2"), cr("1120", "4000")]),     # buy 2 ETH for 4000
    (dt.date(2026, 1, 10), [dr("1300", "1500"), cr("4100", "1500")]),                    # invoice 1500
    (dt.date(2026, 1, 20), [dr("1120", "2600"), cr("1200-ETH", "2000", "ETH", "1"),      # sell 1 ETH (cost 2000)
                            cr("4300", "600")]),                                          # for 2600: gain 600
    (dt.date(2026, 1, 25), [dr("1200-ETH", "250", "ETH", "0.1"), cr("4200", "250")]),    # staking 0.1 ETH at 250
    (dt.date(2026, 1, 28), [dr("5300", "20"), cr("1200-ETH", "20", "ETH", "0.01")]),     # gas 0.01 ETH, cost 20
    (dt.date(2026, 1, 30), [dr("5200", "800"), cr("2200", "800")]),                      # salaries owed 800
    (dt.date(2026, 1, 31), [dr("1120", "1000"), cr("1300", "1000")]),                    # customer pays 1000
]


def books_at(entries, day, *, crypto=frozenset(CRYPTO)):
    """Reference reading of plain entries (what reporting.selectors.statement_books computes):
    totals, units per (crypto account, asset), and P&L nets on entries that move crypto."""
    totals, units, settled = {}, {}, {}
    for date, lines in entries:
        if date > day:
            continue
        touches = any(line[0] in crypto for line in lines)
        for code, debit, credit, asset, quantity in lines:
            old = totals.get(code, (D(0), D(0)))
            totals[code] = (old[0] + debit, old[1] + credit)
            if asset and code in crypto:
                units[(code, asset)] = units.get((code, asset), D(0)) + (quantity if debit else -quantity)
            if touches:
                settled[code] = settled.get(code, D(0)) + debit - credit
    return totals, units, settled


def snapshot(entries, day, prices):
    totals, units, _ = books_at(entries, day)
    return Snapshot(day, totals, [Holding(code, asset, quantity, prices(asset, day))
                                  for (code, asset), quantity in sorted(units.items())])


def period(entries, start, end, prices, accounts=CHART):
    opening_day = start - dt.timedelta(days=1)
    pnl = {a.code for a in accounts if a.account_type in ("revenue", "expense")}
    before, after = books_at(entries, opening_day)[2], books_at(entries, end)[2]
    settled = {code: after.get(code, D(0)) - before.get(code, D(0)) for code in set(before) | set(after)}
    return Period(start, end, snapshot(entries, opening_day, prices), snapshot(entries, end, prices),
                  {code: amount for code, amount in settled.items() if amount and code in pnl})


def eth_3000(asset, day):
    return {"ETH": D("3000")}.get(asset) if day >= dt.date(2026, 1, 1) else None


def test_balance_sheet_at_fair_value_with_a_comparison_column():
    sheet = balance_sheet(CHART, [snapshot(ENTRIES, dt.date(2026, 1, 31), eth_3000),
                                  snapshot(ENTRIES, dt.date(2025, 12, 31), eth_3000)], currency="USD")
    # Bank 10000 - 4000 + 2600 + 1000 = 9600. ETH: 2 - 1 + 0.1 - 0.01 = 1.09 units x 3000 = 3270
    # (cost 4000 - 2000 + 250 - 20 = 2230). Receivable 1500 - 1000 = 500. Assets 13370.
    assert sheet.line("account:1120").amounts == [D("9600"), D("10000")]
    assert sheet.line("account:1100").amounts == [D("9600"), D("10000")]  # rolled up to its parent
    assert sheet.line("account:1200-ETH").amounts == [D("3270.00"), D(0)]
    assert sheet.line("account:1200").level == 1 and sheet.line("account:1200-ETH").level == 2
    assert sheet.totals["total_assets"] == [D("13370"), D("10000")]
    # Liabilities: salaries owed 800. Equity: capital 10000 + current earnings (revenue 1500 + 600 + 250
    # - expenses 20 + 800 = 1530) + fair-value adjustment (3270 - 2230 = 1040) = 12570.
    assert sheet.totals["total_liabilities"] == [D("800"), D(0)]
    assert sheet.line("current_earnings").amounts == [D("1530"), D(0)]
    assert sheet.line("fair_value_adjustment").amounts == [D("1040"), D(0)]
    assert sheet.line("fair_value_adjustment").label == "Unrealised gains on crypto (fair value)"
    assert sheet.totals["total_equity"] == [D("12570"), D("10000")]
    assert sheet.totals["total_liabilities_and_equity"] == sheet.totals["total_assets"]
    assert [c.as_of for c in sheet.columns] == [dt.date(2026, 1, 31), dt.date(2025, 12, 31)]
    assert sheet.unpriced == [[], []]
    assert "account:1200-BTC" not in {line.key for line in sheet.section("assets").lines}  # zero everywhere


def test_an_asset_without_a_price_stays_at_cost_and_is_listed():
    entries = [*ENTRIES, (dt.date(2026, 1, 31), [dr("1200-BTC", "500", "BTC", "0.01"), cr("1120", "500")])]
    sheet = balance_sheet(CHART, [snapshot(entries, dt.date(2026, 1, 31), eth_3000)], currency="USD")
    # BTC has no price: 500 at cost; ETH at fair value as before; bank 9600 - 500 = 9100.
    assert sheet.line("account:1200-BTC").amounts == [D("500")]
    assert sheet.line("account:1200").amounts == [D("3770.00")]  # 3270 + 500
    assert sheet.unpriced == [["BTC"]]
    assert sheet.totals["fair_value_adjustment"] == [D("1040")]  # only ETH's
    assert sheet.totals["total_assets"] == sheet.totals["total_liabilities_and_equity"] == [D("13370")]


def test_crypto_booked_without_units_stays_at_cost():
    entries = [(dt.date(2026, 1, 2), [dr("1120", "100"), cr("3100", "100")]),
               (dt.date(2026, 1, 3), [dr("1200-ETH", "60"), cr("1120", "60")])]  # no units on the line
    sheet = balance_sheet(CHART, [snapshot(entries, dt.date(2026, 1, 31), eth_3000)], currency="USD")
    assert sheet.line("account:1200-ETH").amounts == [D("60")]
    assert sheet.unpriced == [["1200-ETH (no units recorded)"]]


def test_income_statement_with_the_previous_period_and_the_fair_value_line():
    january = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    december = previous_period(*january)
    assert december == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))  # 31 days before
    statement = income_statement(CHART, [period(ENTRIES, *january, eth_3000), period(ENTRIES, *december, eth_3000)],
                                 currency="USD")
    assert statement.line("account:4100").amounts == [D("1500"), D(0)]
    assert statement.line("account:4000").amounts == [D("2350"), D(0)]  # 1500 + 250 + 600 rolled up
    assert statement.totals["total_expenses"] == [D("820"), D(0)]       # 800 + 20
    assert statement.totals["net_income"] == [D("1530"), D(0)]
    # Unrealised fair value: 0 at the end of December, 1040 at the end of January.
    assert statement.totals["fair_value_change"] == [D("1040"), D(0)]
    assert statement.totals["result_including_fair_value"] == [D("2570"), D(0)]
    without = income_statement(CHART, [period(ENTRIES, *january, eth_3000)], currency="USD", include_fair_value=False)
    assert "fair_value_change" not in without.totals and [s.key for s in without.sections] == ["revenue", "expenses"]


def test_cash_flow_indirect_ties_to_the_cash_accounts():
    january = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    flow = cash_flow(CHART, [period(ENTRIES, *january, eth_3000),
                             period(ENTRIES, dt.date(2025, 12, 1), dt.date(2025, 12, 31), eth_3000)], currency="USD")
    operating = {line.key: line.amounts[0] for line in flow.section("operating").lines}
    # Net income 1530; out of operating, results settled in crypto: gain 600, staking 250 (credits),
    # gas 20 (debit) -> -600 - 250 + 20. Working capital: receivable up 500 (-500), salaries owed up 800 (+800).
    assert operating == {"net_income": D("1530"), "settled:4200": D("-250"), "settled:4300": D("-600"),
                         "settled:5300": D("20"), "account:1300": D("-500"), "account:2200": D("800")}
    assert flow.totals["net_cash_operating"] == [D("1000"), D(0)]      # the customer's 1000
    # Investing: ETH at cost +2230 (-2230) plus the crypto-settled results 830 = -1400 (bought 4000, sold 2600).
    assert flow.line("account:1200-ETH").amounts[0] == D("-2230")
    assert flow.line("crypto_results").amounts[0] == D("830")
    assert flow.totals["net_cash_investing"] == [D("-1400"), D(0)]
    assert flow.totals["net_cash_financing"] == [D(0), D("10000")]     # December: the owner's capital
    assert flow.totals["net_change_in_cash"] == [D("-400"), D("10000")]
    assert flow.totals["cash_at_start"] == [D("10000"), D(0)] and flow.totals["cash_at_end"] == [D("9600"), D("10000")]


def test_loans_are_financing_and_other_liabilities_operating():
    entries = [(dt.date(2026, 2, 1), [dr("1120", "5000"), cr("2500", "5000")]),   # bank loan received
               (dt.date(2026, 2, 2), [dr("5200", "300"), cr("2100", "300")])]     # a bill, not yet paid
    flow = cash_flow(CHART, [period(entries, dt.date(2026, 2, 1), dt.date(2026, 2, 28), eth_3000)], currency="USD")
    assert flow.line("account:2500").amounts == [D("5000")] and flow.line("account:2500") in \
        flow.section("financing").lines
    assert flow.section("operating").lines[-1].key == "account:2100"
    assert flow.totals["net_cash_operating"] == [D(0)]  # -300 net income + 300 payable
    assert flow.totals["net_change_in_cash"] == [D("5000")]


def test_the_engine_refuses_unbalanced_books_and_unknown_accounts():
    lopsided = Snapshot(dt.date(2026, 1, 1), {"1110": (D("100"), D(0))})
    with pytest.raises(StatementError) as caught:
        balance_sheet(CHART, [lopsided], currency="USD")
    assert caught.value.code == "unbalanced_books"
    with pytest.raises(StatementError) as caught:
        balance_sheet(CHART, [Snapshot(dt.date(2026, 1, 1), {"9999": (D(1), D(1))})], currency="USD")
    assert caught.value.code == "unknown_account"


def test_the_json_form_keeps_exact_strings():
    sheet = balance_sheet(CHART, [snapshot(ENTRIES, dt.date(2026, 1, 31), lambda a, d: D("3000.123456789"))],
                          currency="USD")
    data = statement_as_json(sheet)
    eth = next(line for s in data["sections"] for line in s["lines"] if line["key"] == "account:1200-ETH")
    assert eth["amounts"] == ["3270.13456790001"]  # 1.09 x 3000.123456789 = 3000.123456789 + 270.01111111101
    assert data["columns"][0]["as_of"] == "2026-01-31" and data["kind"] == "BALANCE_SHEET"
    assert same_day_a_year_before(dt.date(2028, 2, 29)) == dt.date(2027, 2, 28)
