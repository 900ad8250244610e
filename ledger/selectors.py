"""Reads for the double-entry ledger: chart of accounts, balances, journal entries, trial balance.

Who sees what. The books are the business's, not a user's:
- staff (role MANAGER or ADMIN, or a superuser) read and write every account and every entry, and
  post and reverse entries;
- a plain USER reads the chart of accounts (with balances), reads only the entries they created,
  may create, edit and delete their own drafts, and cannot post or reverse (403);
- only an ADMIN (or a superuser) sets the lock date.
Another user's entry is answered like a missing one (404), never as 403.

The trial balance (API and page) is a report for staff only.

Balances come from booked entries only (status posted or reversed: a reversed entry stays in the
books and its reversal cancels it); drafts never count.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role
from ledger.double_entry import EXACT, ZERO, account_tree, balances_rolled_up, signed
from ledger.models import BOOKED_STATUSES, FinancialAccount, JournalEntry, LedgerSettings

STAFF_ROLES = (Role.MANAGER, Role.ADMIN)


def ledger_is_staff(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (user.is_superuser or user.role in STAFF_ROLES)


def ledger_can_post(user) -> bool:
    return ledger_is_staff(user)


def ledger_can_set_lock_date(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (user.is_superuser or user.role == Role.ADMIN)


# --- chart of accounts -------------------------------------------------------------------------------

def account_list(*, account_type: str | None = None, is_active: bool | None = None,
                 parent_account: str | None = None) -> QuerySet[FinancialAccount]:
    queryset = FinancialAccount.objects.all()
    if account_type:
        queryset = queryset.filter(account_type=account_type)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    if parent_account is not None:
        queryset = queryset.filter(parent_account=parent_account)
    return queryset.order_by("account_code")


def account_parent_map() -> dict[str, str]:
    """Every account code -> its parent code (one query)."""
    return {a.account_code: a.parent_account
            for a in FinancialAccount.objects.only("account_code", "parent_account")}


def _collection(model):
    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    return connection.database[model._meta.db_table], connection.session  # session: inside atomic()


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after `day` in the server's time zone."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def line_totals_by_account(*, as_of: dt.date | None = None, currency: str | None = None,
                           codes: list[str] | None = None) -> dict[str, tuple[Decimal, Decimal]]:
    """account code -> (total debits, total credits) of booked entries dated on or before `as_of`.
    One aggregation; Decimal128 sums are exact."""
    match: dict = {"status": {"$in": list(BOOKED_STATUSES)}}
    if as_of is not None:
        match["date"] = {"$lt": end_of_day(as_of)}
    if currency:
        match["currency"] = currency
    pipeline: list[dict] = [{"$match": match}, {"$unwind": "$line_items"}]
    if codes is not None:
        pipeline.append({"$match": {"line_items.account_code": {"$in": list(codes)}}})
    pipeline.append({"$group": {"_id": "$line_items.account_code",
                                "debit": {"$sum": "$line_items.debit_amount"},
                                "credit": {"$sum": "$line_items.credit_amount"}}})
    collection, session = _collection(JournalEntry)
    return {row["_id"]: (row["debit"].to_decimal(), row["credit"].to_decimal())
            for row in collection.aggregate(pipeline, session=session)}


def account_balances(accounts, *, as_of: dt.date | None = None) -> dict[str, dict]:
    """For each of `accounts`: own debit/credit totals, balance and rolled-up balance (own plus every
    descendant), both on the account's normal side. Three reads whatever the number of accounts."""
    parent_of = account_parent_map()
    totals = line_totals_by_account(as_of=as_of)
    with localcontext(EXACT):
        net = {code: debit - credit for code, (debit, credit) in totals.items()}
    rolled = balances_rolled_up(parent_of, net)
    tree = account_tree(parent_of)
    result = {}
    with localcontext(EXACT):
        _balances_into(result, accounts, totals, rolled, tree)
    return result


def _balances_into(result, accounts, totals, rolled, tree) -> None:
    for account in accounts:
        debit, credit = totals.get(account.account_code, (ZERO, ZERO))
        node = tree.get(account.account_code)
        result[account.account_code] = {
            "debit_total": debit,
            "credit_total": credit,
            "balance": signed(debit - credit, debit_normal=account.is_debit_normal),
            "rolled_up_balance": signed(rolled.get(account.account_code, debit - credit),
                                        debit_normal=account.is_debit_normal),
            "level": node.level if node else 0,
            "path": node.path if node else (account.account_code,),
        }


def account_children_codes(code: str) -> list[str]:
    return list(FinancialAccount.objects.filter(parent_account=code).order_by("account_code")
                .values_list("account_code", flat=True))


def account_is_used(code: str, *, booked_only: bool) -> bool:
    queryset = JournalEntry.objects.filter(line_items__account_code=code)
    if booked_only:
        queryset = queryset.filter(status__in=BOOKED_STATUSES)
    return queryset.exists()


# --- journal entries ---------------------------------------------------------------------------------

def journal_entry_list_for(user, *, status: str | None = None, date_from: dt.date | None = None,
                           date_to: dt.date | None = None, account_code: str | None = None,
                           transaction_hash: str | None = None) -> QuerySet[JournalEntry]:
    """Entries `user` may see (see the module docstring), newest first; dates are inclusive days."""
    queryset = JournalEntry.objects.all()
    if not ledger_is_staff(user):
        queryset = queryset.filter(created_by=user)
    if status:
        queryset = queryset.filter(status=status)
    if date_from:
        queryset = queryset.filter(date__gte=end_of_day(date_from - dt.timedelta(days=1)))
    if date_to:
        queryset = queryset.filter(date__lt=end_of_day(date_to))
    if account_code:
        queryset = queryset.filter(line_items__account_code=account_code)
    if transaction_hash:
        queryset = queryset.filter(transaction_hash=transaction_hash.lower())
    return queryset.select_related("created_by", "posted_by", "reversed_by").order_by("-date", "-created_at", "-id")


def journal_entry_get_for(user, entry_id) -> JournalEntry | None:
    return journal_entry_list_for(user).filter(pk=entry_id).first()


def trial_balance(*, as_of: dt.date | None = None, currency: str | None = None) -> dict:
    """Debit and credit totals per account of booked entries up to `as_of` (inclusive), each account's
    balance on its debit or credit side, and the grand totals: they are equal in balanced books."""
    currency = currency or settings.REPORTING_FIAT
    totals = line_totals_by_account(as_of=as_of, currency=currency)
    with localcontext(EXACT):  # sums of 34-digit amounts are never rounded
        return _trial_balance(totals, as_of=as_of, currency=currency)


def _trial_balance(totals, *, as_of, currency) -> dict:
    accounts = {a.account_code: a for a in FinancialAccount.objects.filter(account_code__in=list(totals))}
    rows = []
    total_debit = total_credit = ZERO
    for code in sorted(totals):
        debit, credit = totals[code]
        account = accounts.get(code)
        net = debit - credit
        rows.append({
            "account_code": code,
            "account_name": account.account_name if account else "(deleted account)",
            "account_type": account.account_type if account else "",
            "debit_total": debit,
            "credit_total": credit,
            "debit_balance": net if net > 0 else ZERO,
            "credit_balance": -net if net < 0 else ZERO,
        })
        total_debit += debit
        total_credit += credit
    balance_debits = sum((row["debit_balance"] for row in rows), ZERO)
    balance_credits = sum((row["credit_balance"] for row in rows), ZERO)
    return {
        "as_of": as_of,
        "currency": currency,
        "rows": rows,
        "total_debit": total_debit,
        "total_credit": total_credit,
        "total_debit_balance": balance_debits,
        "total_credit_balance": balance_credits,
        "is_balanced": total_debit == total_credit and balance_debits == balance_credits,
    }


# --- settings ----------------------------------------------------------------------------------------

def ledger_settings_get() -> LedgerSettings:
    found = LedgerSettings.objects.filter(key="default").first()
    return found if found is not None else LedgerSettings(key="default")


def lock_date_get() -> dt.date | None:
    return ledger_settings_get().lock_date
