"""The portfolio and the books give one answer (issue 18, item 6): for every demo person who sees the
books, the portfolio's cost basis, unrealised and realised P&L are the books' (trial balance, balance
sheet) and the cost-basis report's for the same day; an employee's portfolio is the cost-basis engine
over just their own rows (worked by hand below from the demo's history)."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_USERS
from accounts.models import User
from core import permissions
from core.money import quantize_fiat
from ledger.models import BOOKED_STATUSES, FinancialAccount, JournalEntry
from ledger.selectors import end_of_day, trial_balance
from reporting.portfolio import portfolio_data_for, portfolio_value_for
from reporting.selectors import balance_sheet_for, tax_summary_for
from wallets import demo
from wallets.models import Transaction, TransactionType, Wallet

pytestmark = pytest.mark.django_db
D = Decimal


def cents(amount) -> Decimal:
    return quantize_fiat(amount)


def books_of(organization, as_of):
    """(cost of the crypto held, realised gains less losses, cost booked by hand) in the
    organization's books up to `as_of`. The last: crypto booked by entries that come from no
    transaction (a hand-made journal: cost without units), which no portfolio can show."""
    keys = dict(FinancialAccount.objects.for_organization(organization.pk).values_list("account_code", "system_key"))
    crypto = {code for code, key in keys.items() if (key or "").startswith("crypto:")}
    cost = realised = D(0)
    for row in trial_balance(organization_id=organization.pk, as_of=as_of)["rows"]:
        net = row["debit_total"] - row["credit_total"]
        if row["account_code"] in crypto:
            cost += net
        elif keys.get(row["account_code"]) in ("realised_gains", "realised_losses"):
            realised -= net
    by_hand = D(0)
    for entry in (JournalEntry.objects.for_organization(organization.pk)
                  .filter(status__in=BOOKED_STATUSES, source_transaction__isnull=True, date__lt=end_of_day(as_of, organization))):
        by_hand += sum(((line.debit_amount or 0) - (line.credit_amount or 0) for line in entry.line_items
                        if line.account_code in crypto), D(0))
    return cost, realised, by_hand


def by_hand(user) -> tuple[Decimal, Decimal, Decimal]:
    """FIFO over one demo person's rows, from the demo's own constants: (quantity, cost, realised).
    The opening transfer from the treasury (a deposit without a value) is valued at the stored
    price of its day, the newest demo price."""
    wallet = Wallet.objects.get(user=user)
    funding = Transaction.objects.get(wallet=wallet, transaction_type=TransactionType.TRANSFER)
    newest_price = demo.HISTORY[-1][3]
    amount = demo.FUNDING_ETH[user.username]
    rows = [(funding.transaction_date, TransactionType.INCOME, amount, amount * newest_price)]
    history = {t.external_id: t.transaction_date for t in Transaction.objects.filter(wallet=wallet, source="demo")}
    rows += [(history[f"demo:{user.username}:{n}"], kind, amount, cents(amount * price))  # the demo stores cents
             for n, (_, kind, amount, price, _) in enumerate(demo.HISTORY)]
    lots, realised = [], D(0)
    for _, kind, amount, value in sorted(rows, key=lambda row: row[0]):
        if kind in (TransactionType.BUY, TransactionType.INCOME):
            lots.append([amount, value])
            continue
        left, cost = amount, D(0)  # a sale or a spend (an expense is a disposal at its value)
        while left:
            lot = lots[0]
            used = min(left, lot[0])
            part = lot[1] * used / lot[0]
            cost, left = cost + part, left - used
            lot[0], lot[1] = lot[0] - used, lot[1] - part
            if not lot[0]:
                lots.pop(0)
        realised += value - cost
    return sum((lot[0] for lot in lots), D(0)), sum((lot[1] for lot in lots), D(0)), realised


def test_the_portfolio_and_the_books_agree_for_the_demo_users(eth_node):
    call_command("load_demo", stdout=StringIO())
    checked_books, checked_own = set(), set()
    for spec in DEMO_USERS:
        user = User.objects.get(username=spec["username"])
        data = portfolio_data_for(user)
        as_of = data.today
        value = portfolio_value_for(user, data=data, as_of=as_of)
        assert value["pending"] == [] and value["in_transit"] == [] and value["unpriced"] == []
        cost = sum((row["total_invested"] for row in value["positions"]), D(0))
        if permissions.can_view_books(user):
            organization = user.organization
            books_cost, books_realised, by_hand_cost = books_of(organization, as_of)
            assert cents(cost) == cents(books_cost - by_hand_cost), spec["username"]
            assert cents(value["realized_gain_loss"]) == cents(books_realised), spec["username"]
            sheet = balance_sheet_for(organization, as_of=as_of, compare_dates=[])
            # The balance sheet values the units held (the same as the portfolio's) at the day's price,
            # less the books' cost: fair value - cost is the portfolio's unrealised P&L.
            assert cents(value["unrealized_gain_loss"]) == cents(sheet.totals["fair_value_adjustment"][0]
                                                                 + by_hand_cost), spec["username"]
            summary = tax_summary_for(organization, start=dt.date(2000, 1, 1), end=as_of)
            assert summary.method == value["cost_basis_method"]
            assert cents(value["realized_gain_loss"]) == cents(summary.total_gains - summary.total_losses)
            checked_books.add(spec["username"])
        else:
            quantity, hand_cost, realised = by_hand(user)
            (eth,) = value["positions"]
            assert eth["quantity"] == quantity, spec["username"]
            assert cents(eth["total_invested"]) == cents(hand_cost), spec["username"]
            assert cents(value["realized_gain_loss"]) == cents(realised), spec["username"]
            checked_own.add(spec["username"])
    assert checked_books == {"admin", "manager", "accountant", "client"}
    assert checked_own == {"employee1", "employee2"}
