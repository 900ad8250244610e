"""Properties of the statements: for random balanced books over random days with random prices (some
missing), the balance sheet equation holds at any day and the cash flow's net change equals the cash
accounts' own change. On the pure engine (fast, many examples), then on the real database through
the ledger's services and reporting's selectors (few examples), where the selectors' reading of the
books must also match a plain reading of the same entries."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reporting.statements import balance_sheet, cash_flow, income_statement
from tests.reporting.test_statements_engine import CHART, books_at, period, snapshot

LEAVES = ("1110", "1120", "1200-ETH", "1200-BTC", "1300", "2100", "2200", "2500", "3100", "3200", "4100", "4200",
          "4300", "5200", "5300", "1200")  # "1200": a parent posted to by hand, without units
CRYPTO_ASSET = {"1200-ETH": "ETH", "1200-BTC": "BTC"}
CASH = ("1110", "1120")
START = dt.date(2025, 12, 1)

cents = st.integers(min_value=1, max_value=10_000_000).map(lambda n: D(n).scaleb(-2))
units = st.integers(min_value=1, max_value=10**9).map(lambda n: D(n).scaleb(-8))


@st.composite
def entry(draw):
    """(day, lines): 1-3 debit/credit pairs merged into one balanced entry; crypto lines carry units."""
    day = START + dt.timedelta(days=draw(st.integers(0, 90)))
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        amount = draw(cents)
        for side in ("debit", "credit"):
            code = draw(st.sampled_from(LEAVES))
            asset = CRYPTO_ASSET.get(code, "")
            quantity = draw(units) if asset else None
            lines.append((code, amount if side == "debit" else D(0), amount if side == "credit" else D(0),
                          asset, quantity))
    return day, lines


@st.composite
def price_table(draw):
    table = {}
    for asset in ("ETH", "BTC"):
        for offset in draw(st.lists(st.integers(0, 90), max_size=4)):
            table[(asset, START + dt.timedelta(days=offset))] = D(draw(st.integers(1, 10**7))).scaleb(-2)
    return table


def prices_from(table):
    def price(asset, day):
        known = [d for (a, d) in table if a == asset and d <= day]
        return table[(asset, max(known))] if known else None  # carried forward, like the price book
    return price


def cash_at(entries, day):
    totals = books_at(entries, day)[0]
    return sum((totals.get(c, (D(0), D(0)))[0] - totals.get(c, (D(0), D(0)))[1] for c in CASH), D(0))


books = st.lists(entry(), max_size=12)
days = st.integers(0, 100).map(lambda n: START - dt.timedelta(days=5) + dt.timedelta(days=n))


@settings(max_examples=200, deadline=None)
@given(entries=books, table=price_table(), day=days, first=days, length=st.integers(0, 60))
def test_equation_and_cash_identity_hold_for_any_books(entries, table, day, first, length):
    prices = prices_from(table)
    sheet = balance_sheet(CHART, [snapshot(entries, day, prices)], currency="USD")
    assert sheet.totals["total_assets"] == sheet.totals["total_liabilities_and_equity"]
    event(f"unpriced: {bool(sheet.unpriced[0])}")
    last = first + dt.timedelta(days=length)
    flow = cash_flow(CHART, [period(entries, first, last, prices)], currency="USD")
    # Independently of the engine: the cash accounts' change read straight from the entries.
    change = cash_at(entries, last) - cash_at(entries, first - dt.timedelta(days=1))
    assert flow.totals["net_change_in_cash"] == [change]
    sections = sum((flow.totals[k][0] for k in ("net_cash_operating", "net_cash_investing", "net_cash_financing")),
                   D(0))
    assert sections == change
    statement = income_statement(CHART, [period(entries, first, last, prices)], currency="USD")
    assert flow.totals["net_income"] == statement.totals["net_income"]
    # The fair-value change over a period is the difference of the balance sheets' adjustments.
    edges = balance_sheet(CHART, [snapshot(entries, first - dt.timedelta(days=1), prices),
                                  snapshot(entries, last, prices)], currency="USD")
    assert statement.totals["fair_value_change"] == [edges.totals["fair_value_adjustment"][1]
                                                     - edges.totals["fair_value_adjustment"][0]]


# --- the same on the database ------------------------------------------------------------------------

@pytest.fixture
def ledger_books(db, make_user, organization):
    from accounts.models import Role
    from ledger.services import account_create, chart_of_accounts_ensure_default, crypto_asset_account_get_or_create

    chart_of_accounts_ensure_default(organization_id=organization.pk)
    for symbol in ("ETH", "BTC"):
        crypto_asset_account_get_or_create(symbol=symbol, organization_id=organization.pk)
    account_create(actor=None, account_code="2500", account_name="Bank loan", account_type="liability",
                   parent_account="2000", organization_id=organization.pk)
    return make_user(role=Role.MANAGER)


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(entry(), max_size=6), table=price_table(), first=days, length=st.integers(0, 60))
def test_on_the_database_the_selectors_read_what_the_entries_say(ledger_books, entries, table, first, length):
    from ledger.models import JournalCounter, JournalEntry
    from ledger.services import journal_entry_create
    from reporting import selectors
    from wallets.models import PriceQuote

    for model in (JournalEntry, JournalCounter, PriceQuote):
        connection.database[model._meta.db_table].delete_many({})
    for day, lines in entries:
        journal_entry_create(created_by=ledger_books, date=day, description="p", post=True, line_items=[
            {"account_code": code, "debit_amount": debit, "credit_amount": credit, "asset": asset,
             "quantity": quantity} for code, debit, credit, asset, quantity in lines])
    PriceQuote.objects.bulk_create([PriceQuote(symbol=asset, fiat="USD", day=day, price=price, source="manual")
                                    for (asset, day), price in table.items()])
    last = first + dt.timedelta(days=length)
    prices = prices_from(table)
    books_of = ledger_books.organization
    sheet = selectors.balance_sheet_for(books_of, as_of=last, compare_dates=[first])
    expected = balance_sheet(CHART, [snapshot(entries, last, prices), snapshot(entries, first, prices)],
                             currency="USD")
    assert sheet.totals == expected.totals and sheet.unpriced == expected.unpriced
    flow = selectors.cash_flow_for(books_of, start=first, end=last, compare_periods=[])
    assert flow.totals == cash_flow(CHART, [period(entries, first, last, prices)], currency="USD").totals
    change = cash_at(entries, last) - cash_at(entries, first - dt.timedelta(days=1))
    assert flow.totals["net_change_in_cash"] == [change]
