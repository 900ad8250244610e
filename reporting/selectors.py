"""Reads for tax reports, financial statements, dashboard and exports. Everything here reads one
organization's data (core.tenancy): its transactions, its books, its stored reports.

`tax_summary_for(organization, ...)` runs the engine over the organization's trades, which
`ledger.tax_trades.tax_trades_for(organization)` rebuilds from its stored transactions (the same
mapping the automatic journals read; its rules are written there).

The cost-basis method and lot scope default to the organization's settings
(`Organization.cost_basis_method`, `.cost_basis_lot_scope`): one set of books, one method.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ledger.cost_basis import (
    ComputeRun,
    Disposal,
    IncomeEvent,
    Result,
    YearTotal,
    compute,
    disposals_in,
    income_in,
    totals_by_year,
)
from ledger.models import AccountType
from ledger.selectors import account_list, line_totals_on_days
from ledger.tax_trades import TaxInput, TradeSplitAcrossWindows, TradeStream, tax_trades_for
from reporting.models import FinancialStatement, TaxReport
from reporting.statements import (
    Account, Chart, Holding, Period, Snapshot, balance_sheet, cash_flow, income_statement,
)
from wallets.selectors import price_book_for


@dataclass
class TaxSummary:
    """A tax report's figures for one period, computed over the organization's whole history.
    `user_label` is the name printed as the taxpayer."""

    user_label: str
    method: str
    lot_scope: str
    fiat: str
    start: dt.date
    end: dt.date
    result: Result
    disposals: list[Disposal]
    income: list[IncomeEvent]
    totals: list[YearTotal]
    warnings: list[str]

    @property
    def short_term(self) -> list[Disposal]:
        return [d for d in self.disposals if d.term == "short"]

    @property
    def long_term(self) -> list[Disposal]:
        return [d for d in self.disposals if d.term == "long"]

    @property
    def various_term(self) -> list[Disposal]:
        return [d for d in self.disposals if d.term not in ("short", "long")]

    @property
    def total_gains(self) -> Decimal:
        return sum((d.gain for d in self.disposals if d.gain > 0), Decimal(0))

    @property
    def total_losses(self) -> Decimal:
        return -sum((d.gain for d in self.disposals if d.gain < 0), Decimal(0))

    @property
    def total_income(self) -> Decimal:
        return sum((event.value for event in self.income), Decimal(0))


def tax_summary_for(organization, *, method: str | None = None, start: dt.date, end: dt.date,
                    lot_scope: str | None = None, tax_input: TaxInput | None = None,
                    label: str | None = None) -> TaxSummary:
    """Disposals, income and yearly totals of `organization` between `start` and `end` (inclusive),
    matched over the whole history (`tax_input`: the organization's trades, when already read).
    `label`: the taxpayer's name printed on the files (default: the organization's name). Raises the
    engine's TradeError / InsufficientHoldings on bad data."""
    method = method or organization.cost_basis_method
    lot_scope = lot_scope or ("all" if method == "uk" else organization.cost_basis_lot_scope)
    if tax_input is None:
        try:
            result, fiat, warnings = _computed_streaming(organization, method=method, lot_scope=lot_scope)
        except TradeSplitAcrossWindows:  # a trade edited apart: the history is read whole
            tax_input = tax_trades_for(organization)
    if tax_input is not None:
        result = compute(tax_input.trades, method=method, fiat=tax_input.fiat, lot_scope=lot_scope)
        fiat, warnings = tax_input.fiat, tax_input.warnings
    disposals = disposals_in(result, start, end)
    return TaxSummary(
        user_label=label or organization.name, method=method, lot_scope=lot_scope, fiat=fiat, start=start,
        end=end,
        result=result, disposals=disposals, income=income_in(result, start, end),
        totals=totals_by_year(disposals, method=method), warnings=warnings,
    )


def _computed_streaming(organization, *, method: str, lot_scope: str) -> tuple[Result, str, list[str]]:
    """The engine over the whole history, fed in date order as it is read (ledger.tax_trades.TradeStream):
    memory holds the report's rows and the open lots, not the history (issue 17). A trade whose rows
    were edited to different dates cannot be streamed: TradeSplitAcrossWindows."""
    stream = TradeStream(organization)
    run = ComputeRun(method=method, fiat=stream.fiat, lot_scope=lot_scope)
    for trade in stream:
        run.add(trade)
    return run.finish(), stream.fiat, stream.warnings


STATEMENT_MAX_COMPARISONS = 4


def statement_chart(organization) -> list:
    """The organization's chart as the statements engine reads it."""
    return [Account(a.account_code, a.account_name, a.account_type, a.parent_account, a.system_key)
            for a in account_list(organization_id=organization.pk).only(
                "account_code", "account_name", "account_type", "parent_account", "system_key")]


def statement_books(organization, days: list[dt.date], *, accounts: list, currency: str) -> dict[dt.date, dict]:
    """For each day, over the organization's booked entries: `totals` (code -> (debits, credits) up
    to the end of that day), `units` ((code, asset) -> units held on crypto asset accounts) and
    `settled` (code -> debits - credits on entries that also move a crypto asset account). One
    aggregation, in the ledger (ledger.selectors.line_totals_on_days). Days are the organization's
    calendar days (its time zone)."""
    return line_totals_on_days(organization_id=organization.pk, days=days, currency=currency,
                               crypto_codes=sorted(Chart(accounts).crypto), calendar=organization)


def _statement_snapshots(organization, days: list[dt.date], *, currency: str):
    """(chart, {day: Snapshot}, {day: settled}) with the crypto units valued at each day's price."""
    accounts = statement_chart(organization)
    books = statement_books(organization, days, accounts=accounts, currency=currency)
    assets = {asset for book in books.values() for (_, asset) in book["units"]}
    prices = price_book_for(assets, until=max(days), fiat=currency, organization=organization) if assets else None
    snapshots = {}
    for day, book in books.items():
        holdings = [Holding(code, asset, quantity, prices.on(asset, day))
                    for (code, asset), quantity in sorted(book["units"].items())]
        snapshots[day] = Snapshot(day, book["totals"], holdings)
    return accounts, snapshots, {day: book["settled"] for day, book in books.items()}


def balance_sheet_for(organization, *, as_of: dt.date, compare_dates: list[dt.date], currency: str | None = None):
    """The organization's balance sheet; `currency` defaults to its reporting fiat."""
    currency = currency or organization.reporting_fiat
    days = [as_of, *compare_dates]
    accounts, snapshots, _ = _statement_snapshots(organization, days, currency=currency)
    return balance_sheet(accounts, [snapshots[day] for day in days], currency=currency)


def _periods(organization, periods: list[tuple[dt.date, dt.date]], *, currency: str):
    days = [day for start, end in periods for day in (start - dt.timedelta(days=1), end)]
    accounts, snapshots, settled = _statement_snapshots(organization, days, currency=currency)
    result = []
    for start, end in periods:
        opening, closing = start - dt.timedelta(days=1), end
        codes = set(settled[opening]) | set(settled[closing])
        moved = {code: settled[closing].get(code, Decimal(0)) - settled[opening].get(code, Decimal(0))
                 for code in codes}
        pnl = {a.code for a in accounts if a.account_type in (AccountType.REVENUE, AccountType.EXPENSE)}
        result.append(Period(start, end, snapshots[opening], snapshots[closing],
                             {code: amount for code, amount in moved.items() if amount and code in pnl}))
    return accounts, result


def income_statement_for(organization, *, start: dt.date, end: dt.date,
                         compare_periods: list[tuple[dt.date, dt.date]], include_fair_value: bool = True,
                         currency: str | None = None):
    currency = currency or organization.reporting_fiat
    accounts, periods = _periods(organization, [(start, end), *compare_periods], currency=currency)
    return income_statement(accounts, periods, currency=currency, include_fair_value=include_fair_value)


def cash_flow_for(organization, *, start: dt.date, end: dt.date, compare_periods: list[tuple[dt.date, dt.date]],
                  currency: str | None = None):
    currency = currency or organization.reporting_fiat
    accounts, periods = _periods(organization, [(start, end), *compare_periods], currency=currency)
    return cash_flow(accounts, periods, currency=currency)


def financial_statement_list(actor, *, kind: str | None = None):
    """The stored statements of the actor's organization (core.tenancy), newest first."""
    queryset = FinancialStatement.objects.for_actor(actor)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.prefetch_related("created_by").order_by("-created_at", "-id")  # no join (README)


def tax_report_list(actor):
    """The tax reports of the actor's organization (core.tenancy), newest first."""
    return TaxReport.objects.for_actor(actor).order_by("-created_at", "-id")
