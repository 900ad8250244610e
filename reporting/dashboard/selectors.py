"""The dashboard's figures: what a finance lead opens first. `/api/dashboard/`, the back-office
dashboard page and the `/ws/admin/dashboard-stats/` feed all read `dashboard_for(actor)`.

One read of what the actor may see (`reporting.portfolio.portfolio_data_for`: every transaction of the
organization for books roles, else their own), and the P&L from the cost-basis engine through the
same functions as `/api/portfolio/` and the books (`portfolio_value_for`, `portfolio_performance_for`),
so the dashboard never has a figure of its own making:
- value now and its change over 24h / 7d / 30d (`value_change`: end value less start value, money put in
  included; `pnl`: the same less the money put in or taken out, as the portfolio's performance);
- realised P&L of the year to date (the engine's disposals dated since 1 January, the organization's
  calendar; the UK method's tax year from 6 April) and unrealised P&L now (the portfolio's);
- crypto balances (the priced holdings) and the cash and bank balance of the books (books roles only:
  the ledger's "Cash and bank" accounts, posted entries);
- the period's transactions (month to date): count and value by type;
- items awaiting someone: unclassified transactions, draft journal entries (books roles), employees
  waiting for verification (managers: their team; admins: the organization), booking problems, and what
  the apps above reporting register (reporting.dashboard.hooks: invoices, payroll);
- recent activity: the newest transactions and journal entries the actor may see.

The figures are cached per user for `DASHBOARD_CACHE_SECONDS` (the socket sends them every 10-30 s to
every open page); `dashboard_cache_clear` (the system's clear-cache endpoint) drops them for one
organization or for all.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Sum
from django.urls import reverse
from django.utils import timezone

from accounts.employees import employees_visible_to
from accounts.models import Role
from core import permissions
from core.llm import LlmUnavailable, chat_completion, llm_configured, parse_json_object
from core.money import ZERO
from core.windows import newest_first_rows
from ledger.models import EntryStatus, JournalEntry
from ledger.selectors import booking_problem_count, journal_entry_list_for, line_totals_by_account
from ledger.services.chart import accounts_of
from ledger.cost_basis import IN_TRANSIT
from reporting.dashboard.hooks import AwaitingItem, awaiting_items_from_providers
from reporting.dashboard.insights import Fee, Insight, InsightInput, Outflow, insights_compute
from reporting.portfolio import (PortfolioData, portfolio_data_for, portfolio_memo_clear, portfolio_performance_for,
                                 portfolio_value_for)
from wallets.models import PriceQuote, Transaction, TransactionStatus
from wallets.selectors import transaction_queryset_for, wallet_list_for

CHANGE_WINDOWS = ("24h", "7d", "30d", "ytd")
RECENT_ITEMS = 10
AWAITING_COUNT_CAP = 1000  # "1000+" transactions to classify: a capped count, never a scan of the history
CASH_PARENT_KEY = "cash_and_bank"
DEFAULT_CACHE_SECONDS = 15


def cache_seconds() -> int:
    return int(getattr(settings, "DASHBOARD_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))


# --- cache -------------------------------------------------------------------------------------------
# A generation number per organization (and one for the whole installation) is part of every key:
# clearing bumps it, so every entry of the old generation is unreachable at once, on every process.
_GENERATION_ALL = "dashboard:generation"


def _generation_key(organization_id) -> str:
    return f"dashboard:generation:{organization_id}"


def _generation(key: str) -> int:
    value = cache.get(key)
    return int(value) if value is not None else 0


def _cache_key(actor) -> str:
    organization_id = actor.organization_id
    return (f"dashboard:figures:{_generation(_GENERATION_ALL)}:{organization_id}:"
            f"{_generation(_generation_key(organization_id))}:{actor.pk}")


def dashboard_cache_clear(*, organization_id=None) -> dict:
    """Drop the cached figures of one organization (None: of every organization), and this process's
    remembered history reads (reporting.portfolio: keyed by their inputs, so only memory is freed)."""
    portfolio_memo_clear()
    key = _GENERATION_ALL if organization_id is None else _generation_key(organization_id)
    try:
        cache.incr(key)
    except ValueError:  # not there yet
        cache.set(key, 1, timeout=None)
    return {"cache": "dashboard", "organization_id": None if organization_id is None else str(organization_id)}


# --- figures -----------------------------------------------------------------------------------------
def dashboard_data_for(actor) -> PortfolioData:
    """The portfolio's read: the engine runs once per read and `as_of` (PortfolioData.costed), shared
    by value, realised P&L and insights."""
    return portfolio_data_for(actor)


def year_start(organization, today: dt.date, method: str) -> dt.date:
    """The first day of the tax year containing `today` (calendar year; UK method: 6 April)."""
    if method == "uk":
        start = dt.date(today.year, 4, 6)
        return start if today >= start else dt.date(today.year - 1, 4, 6)
    return dt.date(today.year, 1, 1)


def realised_since(data: PortfolioData, start: dt.date) -> Decimal:
    """Gains less losses of the engine's disposals dated on or after `start`, assets whose cost is known."""
    result, problems = data.costed()
    uncosted = {asset for problem in problems for asset in problem["assets"]}
    return sum((d.gain for d in result.disposals if d.date_disposed >= start and d.asset not in uncosted), ZERO)


def cash_balance_for(actor) -> Decimal | None:
    """The books' cash and bank balance (posted entries, the reporting fiat); None for anyone who may
    not view the books."""
    if not permissions.can_view_books(actor) or actor.organization_id is None:
        return None
    accounts = accounts_of(actor.organization_id)
    parent = accounts.filter(system_key=CASH_PARENT_KEY).only("account_code").first()
    if parent is None:
        return ZERO
    codes = [parent.account_code] + [code for code in accounts.filter(
        parent_account=parent.account_code).values_list("account_code", flat=True)]
    totals = line_totals_by_account(organization_id=actor.organization_id, codes=codes,
                                    currency=actor.organization.reporting_fiat.upper())
    return sum((debit - credit for debit, credit in totals.values()), ZERO)


def period_transactions_for(actor, *, start: dt.datetime) -> dict:
    # Plain top-level conditions (an `$in`, not an exclude's `$nor`) and no sort: the shape the
    # server answers from the (organization, transaction_date) index.
    counted = [status for status in TransactionStatus.values if status != TransactionStatus.FAILED]
    rows = (transaction_queryset_for(actor).filter(transaction_date__gte=start, status__in=counted).order_by()
            .values("transaction_type").annotate(count=Count("id"), total=Sum("usd_value")))
    by_type = {row["transaction_type"]: {"count": row["count"], "total_value": row["total"] or ZERO}
               for row in rows}
    return {"start": start, "count": sum(v["count"] for v in by_type.values()),
            "total_value": sum((v["total_value"] for v in by_type.values()), ZERO), "by_type": by_type}


def _capped_count(queryset) -> tuple[int, bool]:
    """(count, more): at most AWAITING_COUNT_CAP + 1 ids read (an index-served window), never a count
    over a history."""
    cap = AWAITING_COUNT_CAP
    found = len(queryset.order_by().values_list("pk", flat=True)[:cap + 1])
    return min(found, cap), found > cap


def awaiting_for(actor) -> list[AwaitingItem]:
    unclassified, more = _capped_count(transaction_queryset_for(actor).filter(is_classified=False))
    items = [AwaitingItem("transactions_unclassified", "Transactions to classify", unclassified,
                          "/admin/wallets/transaction/?is_classified__exact=0", more=more)]
    if permissions.can_view_books(actor):
        items.append(AwaitingItem("journal_entries_draft", "Draft journal entries",
                                  journal_entry_list_for(actor, status=EntryStatus.DRAFT).count(),
                                  "/admin/ledger/journalentry/?status__exact=draft"))
        items.append(AwaitingItem("booking_problems", "Transactions the journals could not book",
                                  booking_problem_count(organization_id=actor.organization_id),
                                  reverse("ledger-review")))
    if permissions.can_manage_team(actor):
        items.append(AwaitingItem("employees_unverified", "Employees awaiting verification",
                                  employees_visible_to(actor).filter(role=Role.USER, is_active=True,
                                                                     is_verified_by_manager=False).count(),
                                  reverse("backoffice-verification-queue")))
    return items + awaiting_items_from_providers(actor)


def recent_activity_for(actor, *, limit: int = RECENT_ITEMS) -> list[dict]:
    """The newest transactions and journal entries (by their dates), each read as a bounded window
    over the time index (core.windows): the same few rows' cost at 100k rows as at 1k."""
    transactions = newest_first_rows(
        transaction_queryset_for(actor).prefetch_related("cryptocurrency").order_by("-transaction_date", "-id"),
        date_field=Transaction.time_index_field, scope=Transaction.time_index_scope,
        owner_id=actor.organization_id, limit=limit)[:limit]
    activity = [{"kind": "transaction", "id": tx.pk, "at": tx.transaction_date,
                 "summary": f"{tx.transaction_type} {tx.amount.normalize():f} {tx.cryptocurrency.symbol}",
                 "value": tx.usd_value, "status": tx.status}
                for tx in transactions]
    if permissions.can_view_books(actor):
        entries = newest_first_rows(
            journal_entry_list_for(actor).only("id", "date", "entry_id", "description", "status"),
            date_field=JournalEntry.time_index_field, scope=JournalEntry.time_index_scope,
            owner_id=actor.organization_id, limit=limit)[:limit]
        activity += [{"kind": "journal_entry", "id": entry.pk, "at": entry.date,
                      "summary": f"{entry.entry_id or 'Draft'}: {entry.description}"[:200], "value": None,
                      "status": entry.status}
                     for entry in entries]
    activity.sort(key=lambda item: item["at"], reverse=True)
    return activity[:limit]


def _window(windows: list[dict], name: str) -> dict:
    window = next(w for w in windows if w["period"] == name)
    start, end = window.get("start_value"), window.get("end_value")
    return {"period": name, "start_value": start, "end_value": end,
            "value_change": end - start if start is not None and end is not None else None,
            "net_flows": window.get("net_flows"), "pnl": window.get("pnl"), "roi_percent": window.get("roi_percent"),
            "unpriced": window.get("unpriced", [])}


def dashboard_compute(actor, *, now: dt.datetime | None = None, data: PortfolioData | None = None) -> dict:
    now = now or timezone.now()
    data = data or dashboard_data_for(actor)
    value = portfolio_value_for(actor, data=data)
    performance = portfolio_performance_for(actor, now=now, data=data)
    today = now.astimezone(data.zone).date()
    ytd_start = year_start(data.organization, today, data.method)
    month_start = dt.datetime.combine(today.replace(day=1), dt.time(), tzinfo=data.zone)
    crypto = [{"asset": row["asset"], "quantity": row["quantity"], "value": row["current_value"]}
              for row in sorted(value["positions"], key=lambda r: -(r["current_value"] or ZERO))]
    return {
        "fiat": data.fiat,
        "as_of": now,
        "portfolio": {
            "total_value": value["total_value"],
            "changes": [_window(performance["windows"], name) for name in CHANGE_WINDOWS],
        },
        "pnl": {
            "year_start": ytd_start,
            "realized_ytd": realised_since(data, ytd_start),
            "unrealized": value["unrealized_gain_loss"],
            "cost_basis_method": data.method,
            "problems": len(value["problems"]),
        },
        "balances": {"cash": cash_balance_for(actor), "crypto_total": value["total_value"], "crypto": crypto,
                     "unpriced": value["unpriced"]},
        "transactions": period_transactions_for(actor, start=month_start),
        "awaiting": [item.__dict__ for item in awaiting_for(actor)],
        "recent_activity": recent_activity_for(actor),
    }


def dashboard_for(actor, *, fresh: bool = False) -> dict:
    """The figures (module docstring), cached per user for `DASHBOARD_CACHE_SECONDS` unless `fresh`."""
    if actor.organization_id is None:
        return dashboard_compute(actor)
    key = _cache_key(actor)
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    figures = dashboard_compute(actor)
    cache.set(key, figures, timeout=cache_seconds())
    return figures


# --- insights ----------------------------------------------------------------------------------------
def _fee_value(trade, fiat: str, book) -> Decimal | None:
    if not trade.fee_amount or not trade.fee_asset:
        return None
    if trade.fee_asset.upper() == fiat.upper():
        return trade.fee_amount
    price = book.on(trade.fee_asset, trade.date.date())
    return trade.fee_amount * price if price is not None else None


def insight_input_for(actor, *, now: dt.datetime | None = None, data: PortfolioData | None = None) -> InsightInput:
    """The plain data the insight rules read (reporting.dashboard.insights), from the same read and
    engine run as the dashboard."""
    now = now or timezone.now()
    data = data or dashboard_data_for(actor)
    value = portfolio_value_for(actor, data=data)
    result, _ = data.costed()
    book = data.book()
    held = [row["asset"] for row in value["positions"]]
    outflows = []
    for move in data.movements:
        if move["kind"] != "OUT":
            continue
        worth = move["value"]
        if worth is None:
            price = book.on(move["asset"], move["day"])
            worth = move["quantity"] * price if price is not None else None
        if worth is not None:
            outflows.append(Outflow(move["wallet"], move["date"], worth))
    fees = [Fee(trade.date, fee) for trade in data.trades
            if (fee := _fee_value(trade, data.fiat, book)) is not None and fee > 0]
    price_times: dict[str, dt.datetime | None] = {asset: None for asset in held}
    if held:
        quotes = (PriceQuote.objects.for_organization(actor.organization_id)
                  .filter(symbol__in=held, fiat=data.fiat).values("symbol").annotate(newest=Max("fetched_at")))
        price_times.update({row["symbol"]: row["newest"] for row in quotes})
    unmonitored = list(wallet_list_for(actor).filter(is_active=True, monitoring_enabled=False)
                       .exclude(address="").values_list("name", flat=True))
    return InsightInput(
        fiat=data.fiat, now=now, today=now.astimezone(data.zone).date(),
        holdings={row["asset"]: row["current_value"] for row in value["positions"] if row["current_value"] is not None},
        outflows=outflows, fees=fees, open_lots=[lot for lot in result.open_lots if lot.wallet != IN_TRANSIT],
        prices={asset: price for asset in held if (price := book.current(asset)) is not None},
        held_assets=held, price_times=price_times, unmonitored_wallets=unmonitored)


INSIGHT_PHRASING_PROMPT = (
    "You rewrite short findings of a crypto accounting dashboard for a finance lead. Keep every number "
    "exactly as given. Answer a JSON object mapping each finding's kind to one or two plain sentences.")


def _phrased(insights: list[Insight]) -> tuple[list[dict], str]:
    """The rule's sentences, reworded by the optional language model when LLM_BASE_URL is set (the
    numbers stay in `figures`); on any failure the rule's own sentences."""
    rows = [{**insight.__dict__} for insight in insights]
    if not insights or not llm_configured():
        return rows, "rules"
    try:
        answer = chat_completion(system=INSIGHT_PHRASING_PROMPT, json_answer=True, max_tokens=600,
                                 user="\n".join(f"{i.kind}: {i.message}" for i in insights))
        phrased = parse_json_object(answer.text)
    except LlmUnavailable:
        return rows, "rules"
    for row in rows:
        text = phrased.get(row["kind"])
        if isinstance(text, str) and text.strip():
            row["message"] = text.strip()[:1000]
    return rows, f"rules+llm:{answer.model}"


def insights_for(actor, *, now: dt.datetime | None = None) -> dict:
    data = insight_input_for(actor, now=now)
    insights, phrasing = _phrased(insights_compute(data))
    return {"fiat": data.fiat, "as_of": data.now, "phrasing": phrasing, "insights": insights}
