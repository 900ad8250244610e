"""Reads for the double-entry ledger: chart of accounts, balances, journal entries, trial balance.

Whose books. Every organization keeps its own books: its chart of accounts, its entries and their
numbering (JE-<year>-<n> per organization and year), its lock date (`Organization.lock_date`).
Nothing here ever reads across organizations:
- the reads for a person (`*_for(actor, ...)`) are scoped with `Model.objects.for_actor(actor)`: the
  actor's organization only, so another organization's account or entry id is simply not found (404,
  never 403: no existence oracle);
- the reads for system work and for the reporting app (balances, line totals, trial balance, account
  lists, statement inputs) take a required keyword `organization_id=` and read that organization's
  books only (`for_organization`).

Who may do what (the rules are core.permissions; services check them with their `actor`):
- view the chart with balances, the entries, the trial balance: `can_view_books` (accountants,
  managers, admins). A plain USER gets 403 on all of it, their own drafts included;
- create, edit and delete draft entries and accounts: `can_work_books` (accountants included);
- post and reverse entries, set a source key: `can_post_entries` (managers and admins);
- set the lock date: `can_set_lock_date` (admins).
The automatic journals act as the inactive system user (`core.permissions.is_system_actor`) for the
organization whose transactions they book.

Balances come from booked entries only (status posted or reversed: a reversed entry stays in the
books and its reversal cancels it); drafts never count.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext

from bson import Decimal128, ObjectId
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

from accounts.models import AuditLogEntry
from core import permissions
from core.errors import ErrorCode, NotFound
from core.models import Organization
from core.organizations import organization_day_end
from ledger.double_entry import EXACT, ZERO, account_tree, balances_rolled_up, signed
from ledger.models import (
    BOOKED_STATUSES,
    LOCK_DATE_AUDIT_ACTION,
    BookingProblem,
    FinancialAccount,
    JournalAttachment,
    JournalEntry,
)


def as_object_id(organization_id) -> ObjectId:
    """An organization id as stored in raw documents (the raw aggregations and counters match on it)."""
    return organization_id if isinstance(organization_id, ObjectId) else ObjectId(str(organization_id))


def _require_organization(organization_id) -> None:
    if organization_id is None:
        raise ValueError("the books of which organization? organization_id is required")


BOOKS_SETTINGS = ("time_zone", "lock_date", "reporting_fiat")


def organization_books(organization_id) -> Organization | None:
    """What the books' services need of their organization in one read: its calendar (time zone),
    its lock date and its reporting fiat (a partial Organization; None when it does not exist)."""
    _require_organization(organization_id)
    return Organization.objects.filter(pk=organization_id).only(*BOOKS_SETTINGS).first()


def _calendar_of(organization_id, calendar):
    """`calendar`: the organization (or its partial read) when the caller has it; else read here."""
    if calendar is not None:
        return calendar
    return organization_books(organization_id)


# --- chart of accounts -------------------------------------------------------------------------------

def _accounts_filtered(queryset, *, account_type=None, is_active=None, parent_account=None):
    if account_type:
        queryset = queryset.filter(account_type=account_type)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    if parent_account is not None:
        queryset = queryset.filter(parent_account=parent_account)
    return queryset.order_by("account_code")


def account_list(*, organization_id, account_type: str | None = None, is_active: bool | None = None,
                 parent_account: str | None = None) -> QuerySet[FinancialAccount]:
    """The chart of accounts of one organization."""
    _require_organization(organization_id)
    return _accounts_filtered(FinancialAccount.objects.for_organization(organization_id), account_type=account_type,
                              is_active=is_active, parent_account=parent_account)


def account_list_for(actor, *, account_type: str | None = None, is_active: bool | None = None,
                     parent_account: str | None = None) -> QuerySet[FinancialAccount]:
    """The chart of the actor's organization; nothing for someone who may not view the books."""
    queryset = FinancialAccount.objects.for_actor(actor)
    if not permissions.can_view_books(actor):
        queryset = queryset.none()
    return _accounts_filtered(queryset, account_type=account_type, is_active=is_active,
                              parent_account=parent_account)


def account_parent_map(*, organization_id) -> dict[str, str]:
    """Every account code of the organization -> its parent code (one query)."""
    _require_organization(organization_id)
    return {a.account_code: a.parent_account
            for a in FinancialAccount.objects.for_organization(organization_id).only("account_code", "parent_account")}


def _collection(model, using: str = DEFAULT_DB_ALIAS):
    """The raw collection, for the aggregations the ORM cannot express; private to the ledger."""
    connection = connections[using]
    connection.ensure_connection()
    return connection.database[model._meta.db_table], connection.session  # session: inside atomic()


def end_of_day(day: dt.date, organization) -> dt.datetime:
    """The first instant after `day` on `organization`'s calendar (core.organizations)."""
    return organization_day_end(organization, day)


def _booked_match(*, organization_id) -> dict:
    """The $match of one organization's booked entries (it leads with the organization: the
    collection's index and shard key)."""
    _require_organization(organization_id)
    return {"organization_id": as_object_id(organization_id), "status": {"$in": list(BOOKED_STATUSES)}}


def line_totals_by_account(*, organization_id, as_of: dt.date | None = None, currency: str | None = None,
                           codes: list[str] | None = None, calendar=None) -> dict[str, tuple[Decimal, Decimal]]:
    """account code -> (total debits, total credits) of the organization's booked entries dated on or
    before `as_of` (a day of the organization's calendar; `calendar`: the organization when the caller
    has read it). One aggregation; Decimal128 sums are exact."""
    match = _booked_match(organization_id=organization_id)
    if as_of is not None:
        match["date"] = {"$lt": end_of_day(as_of, _calendar_of(organization_id, calendar))}
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


def _decimal(value) -> Decimal:
    return value.to_decimal() if hasattr(value, "to_decimal") else Decimal(value or 0)


def line_totals_on_days(*, organization_id, days: list[dt.date], currency: str,
                        crypto_codes: list[str], calendar=None) -> dict[dt.date, dict]:
    """For each day, over the organization's booked entries in `currency`: `totals` (code ->
    (debits, credits) up to the end of that day), `units` ((code, asset) -> units held, on the
    `crypto_codes` accounts) and `settled` (code -> debits - credits on entries that also move one of
    the `crypto_codes` accounts). One aggregation whatever the number of days (the statements'
    columns). Days are the organization's calendar days (`calendar`: the organization when the
    caller has read it)."""
    crypto_codes = sorted(crypto_codes)
    days = sorted(set(days))
    calendar = _calendar_of(organization_id, calendar)
    cutoffs = [end_of_day(day, calendar) for day in days]
    zero = Decimal128("0")
    group: dict = {"_id": {"code": "$line_items.account_code", "asset": "$line_items.asset",
                           "crypto": "$touches_crypto"}}
    for index, cutoff in enumerate(cutoffs):
        inside = {"$lt": ["$date", cutoff]}
        units = {"$ifNull": ["$line_items.quantity", zero]}
        group[f"d{index}"] = {"$sum": {"$cond": [inside, "$line_items.debit_amount", zero]}}
        group[f"c{index}"] = {"$sum": {"$cond": [inside, "$line_items.credit_amount", zero]}}
        # Units in on a debit, out on a credit.
        group[f"u{index}"] = {"$sum": {"$cond": [inside, {"$cond": [{"$gt": ["$line_items.debit_amount", zero]},
                                                                     units, {"$subtract": [zero, units]}]}, zero]}}
    pipeline = [
        {"$match": {**_booked_match(organization_id=organization_id), "currency": currency,
                    "date": {"$lt": cutoffs[-1]}}},
        {"$addFields": {"touches_crypto": {"$gt": [{"$size": {"$filter": {
            "input": "$line_items", "as": "line", "cond": {"$in": ["$$line.account_code", crypto_codes]}}}}, 0]}}},
        {"$unwind": "$line_items"},
        {"$group": group},
    ]
    collection, session = _collection(JournalEntry)
    crypto = set(crypto_codes)
    books = {day: {"totals": {}, "units": {}, "settled": {}} for day in days}
    for row in collection.aggregate(pipeline, session=session):
        code, asset, touches = row["_id"]["code"], row["_id"].get("asset") or "", row["_id"].get("crypto")
        for index, day in enumerate(days):
            debit, credit = _decimal(row[f"d{index}"]), _decimal(row[f"c{index}"])
            if not debit and not credit:
                continue
            book = books[day]
            old_debit, old_credit = book["totals"].get(code, (Decimal(0), Decimal(0)))
            book["totals"][code] = (old_debit + debit, old_credit + credit)
            if asset and code in crypto:
                book["units"][(code, asset)] = book["units"].get((code, asset), Decimal(0)) + _decimal(row[f"u{index}"])
            if touches:
                book["settled"][code] = book["settled"].get(code, Decimal(0)) + debit - credit
    return books


def account_balances(accounts, *, organization_id, as_of: dt.date | None = None, calendar=None) -> dict[str, dict]:
    """For each of `accounts` (all of `organization_id`): own debit/credit totals, balance and
    rolled-up balance (own plus every descendant), both on the account's normal side. Three reads
    whatever the number of accounts."""
    accounts = list(accounts)
    foreign = [a.account_code for a in accounts if str(a.organization_id) != str(organization_id)]
    if foreign:
        raise ValueError(f"accounts of another organization: {foreign}")
    parent_of = account_parent_map(organization_id=organization_id)
    totals = line_totals_by_account(organization_id=organization_id, as_of=as_of, calendar=calendar)
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


def account_children_codes(code: str, *, organization_id) -> list[str]:
    return [a.account_code for a in account_list(organization_id=organization_id, parent_account=code)
            .only("account_code")]


def account_is_used(code: str, *, organization_id, booked_only: bool) -> bool:
    _require_organization(organization_id)
    queryset = JournalEntry.objects.for_organization(organization_id).filter(line_items__account_code=code)
    if booked_only:
        queryset = queryset.filter(status__in=BOOKED_STATUSES)
    return queryset.exists()


# --- journal entries ---------------------------------------------------------------------------------

def _entries_filtered(queryset, *, status=None, date_from=None, date_to=None, account_code=None,
                      transaction_hash=None, calendar=None):
    if status:
        queryset = queryset.filter(status=status)
    if date_from:
        queryset = queryset.filter(date__gte=end_of_day(date_from - dt.timedelta(days=1), calendar))
    if date_to:
        queryset = queryset.filter(date__lt=end_of_day(date_to, calendar))
    if account_code:
        queryset = queryset.filter(line_items__account_code=account_code)
    if transaction_hash:
        queryset = queryset.filter(transaction_hash=transaction_hash.lower())
    # prefetch, not select_related: the backend's $lookup runs before the $match, joining every entry
    # of the collection (bench/README.md). Newest first by date then id: the paged window's order.
    return queryset.prefetch_related("created_by", "posted_by", "reversed_by").order_by("-date", "-id")


def journal_entry_list_for(actor, *, status: str | None = None, date_from: dt.date | None = None,
                           date_to: dt.date | None = None, account_code: str | None = None,
                           transaction_hash: str | None = None) -> QuerySet[JournalEntry]:
    """The entries of the actor's organization (nothing for someone who may not view the books)."""
    queryset = JournalEntry.objects.for_actor(actor)
    if not permissions.can_view_books(actor):
        queryset = queryset.none()
    calendar = None
    if (date_from or date_to) and actor.organization_id is not None:
        calendar = organization_books(actor.organization_id)  # the days are the organization's
    return _entries_filtered(queryset, status=status, date_from=date_from, date_to=date_to,
                             account_code=account_code, transaction_hash=transaction_hash, calendar=calendar)


def trial_balance(*, organization_id, as_of: dt.date | None = None, currency: str | None = None) -> dict:
    """Debit and credit totals per account of the organization's booked entries up to `as_of`
    (inclusive) in `currency` (default: its reporting fiat), each account's balance on its debit or
    credit side, and the grand totals: they are equal in balanced books. `as_of` is a day of the
    organization's calendar."""
    calendar = None
    if as_of is not None or not currency:
        calendar = organization_books(organization_id)
        if calendar is None:
            raise Organization.DoesNotExist(f"no organization {organization_id}")
    currency = currency or calendar.reporting_fiat
    totals = line_totals_by_account(organization_id=organization_id, as_of=as_of, currency=currency,
                                    calendar=calendar)
    with localcontext(EXACT):  # sums of 34-digit amounts are never rounded
        return _trial_balance(totals, organization_id=organization_id, as_of=as_of, currency=currency)


def _trial_balance(totals, *, organization_id, as_of, currency) -> dict:
    accounts = {a.account_code: a for a in FinancialAccount.objects.for_organization(organization_id)
                .filter(account_code__in=list(totals))}
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


# --- lock date ---------------------------------------------------------------------------------------

def lock_date_get(*, organization_id) -> dt.date | None:
    """The organization's lock date: no entry dated on or before it is created, posted or reversed."""
    found = organization_books(organization_id)
    return found.lock_date if found is not None else None


def lock_date_last_change(*, organization_id):
    """The audit record of the organization's last lock date change (who and when), or None."""
    return (AuditLogEntry.objects.filter(action=LOCK_DATE_AUDIT_ACTION, target_id=str(organization_id))
            .order_by("-created_at").first())


# --- booking problems --------------------------------------------------------------------------------

BOOKING_PROBLEMS_SHOWN = 500


def booking_problem_list_for(actor):
    """The trades the automatic journals of the actor's organization could not book, oldest problem
    first, with their transaction (nothing for someone who may not view the books)."""
    queryset = BookingProblem.objects.for_actor(actor)
    if not permissions.can_view_books(actor):
        queryset = queryset.none()
    # prefetch, not select_related: the backend's $lookup comes before the $match (bench/README.md)
    return queryset.prefetch_related("transaction", "transaction__cryptocurrency", "transaction__wallet").order_by(
        "first_seen", "trade_key")


def booking_problem_count(*, organization_id) -> int:
    _require_organization(organization_id)
    return BookingProblem.objects.for_organization(organization_id).count()


# --- attachments of journal entries (written by ledger.services.attachments) --------------------------
def journal_attachment_list_for(actor, entry: JournalEntry) -> QuerySet[JournalAttachment]:
    """The attachments of an entry of the actor's organization (nothing for who may not view the books)."""
    queryset = JournalAttachment.objects.for_actor(actor).filter(entry_id=entry.pk)
    if not permissions.can_view_books(actor):
        return queryset.none()
    return queryset.order_by("created_at", "id")


def journal_attachment_get_for(actor, attachment_id) -> JournalAttachment:
    """One attachment the actor may read: of their organization's books (another organization's, or
    someone who may not view the books: 404, no existence oracle)."""
    attachment = None
    if permissions.can_view_books(actor):
        attachment = JournalAttachment.objects.for_actor(actor).filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    return attachment
