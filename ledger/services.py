"""Writes for the double-entry ledger: `<entity>_<action>(*, ...)`, validated and transactional.
Errors are ApiErrors with a stable code; who may do what is in ledger/selectors.py's docstring, and
every service checks it itself with its `actor` (core.permissions). A person acts on the books of
their own organization (another organization's account or entry answers 404); automatic work acts as
the system user (core.permissions.is_system_actor) and names the organization (`organization_id=`).

Entry numbers. `entry_id` (JE-<year>-<000123>) is given at posting, from a counter document per
organization and year incremented in the same MongoDB transaction as the entry's status change: a
post that fails rolls its number back, so the numbers of an organization's year are exactly 1..N.
Two posts at once in one organization both write its counter; the server aborts one with a
WriteConflict and that one is retried. Organizations never share a counter.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal

import pymongo
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections
from django.utils import timezone

from core import permissions
from core.jsonapi.errors import ApiError
from core.models import Organization
from core.realtime import Audience, organization_group, publish
from core.transactions import in_transaction
from ledger import selectors
from ledger.double_entry import EntryRuleError, lines_reversed, lines_validate, parent_cycle
from ledger.models import (
    AccountType,
    EntryStatus,
    FinancialAccount,
    JournalCounter,
    JournalEntry,
    JournalLine,
)

logger = logging.getLogger(__name__)

ACCOUNT_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
TRANSACTION_HASH_RE = re.compile(r"^0x[0-9a-f]{64}$")

# (system key, code, name, type, parent code, description): the default chart. The automatic
# journals find their accounts by system key (chart_account_get).
DEFAULT_CHART = (
    ("assets", "1000", "Assets", AccountType.ASSET, "", "Everything the business owns."),
    ("cash_and_bank", "1100", "Cash and bank", AccountType.ASSET, "1000", ""),
    ("cash", "1110", "Cash", AccountType.ASSET, "1100", "Fiat cash on hand."),
    ("bank", "1120", "Bank", AccountType.ASSET, "1100", "Fiat bank accounts."),
    ("crypto_assets", "1200", "Crypto assets", AccountType.ASSET, "1000",
     "One child account per asset, carried at cost."),
    ("receivables", "1300", "Accounts receivable", AccountType.ASSET, "1000", "Invoices not yet paid."),
    ("liabilities", "2000", "Liabilities", AccountType.LIABILITY, "", "Everything the business owes."),
    ("payables", "2100", "Accounts payable", AccountType.LIABILITY, "2000", "Bills not yet paid."),
    ("payroll_liabilities", "2200", "Payroll liabilities", AccountType.LIABILITY, "2000",
     "Salaries and withholdings owed."),
    ("tax_payable", "2300", "Tax payable", AccountType.LIABILITY, "2000", ""),
    ("equity_root", "3000", "Equity", AccountType.EQUITY, "", ""),
    ("equity", "3100", "Owner's capital", AccountType.EQUITY, "3000", "Capital put in by the owners."),
    ("retained_earnings", "3200", "Retained earnings", AccountType.EQUITY, "3000", ""),
    ("revenue_root", "4000", "Revenue", AccountType.REVENUE, "", ""),
    ("revenue", "4100", "Sales revenue", AccountType.REVENUE, "4000", ""),
    ("crypto_income", "4200", "Crypto income", AccountType.REVENUE, "4000", "Staking, rewards, airdrops."),
    ("realised_gains", "4300", "Realised gains", AccountType.REVENUE, "4000", "Gains on disposals of crypto."),
    ("expenses", "5000", "Expenses", AccountType.EXPENSE, "", "Operating expenses."),
    ("general_expenses", "5100", "General expenses", AccountType.EXPENSE, "5000", ""),
    ("salaries", "5200", "Salaries", AccountType.EXPENSE, "5000", ""),
    ("gas_fees", "5300", "Gas fees", AccountType.EXPENSE, "5000", "Network fees paid on chain."),
    ("realised_losses", "5400", "Realised losses", AccountType.EXPENSE, "5000", "Losses on disposals of crypto."),
)
CRYPTO_ACCOUNT_PARENT_KEY = "crypto_assets"


def _books_of(actor, rule, organization_id=None, *, refused: str, system_allowed: bool = True):
    """The organization whose books `actor` acts on, after the rules: a person needs `rule` (403
    otherwise) and acts on their own organization only (another one's object: 404); the system user
    (or None, the system) acts for the organization the work names."""
    if actor is None or permissions.is_system_actor(actor):
        if not system_allowed:
            raise ApiError(403, "permission_denied", refused)
        if organization_id is None:
            raise ValueError("automatic work on the books names its organization (organization_id=)")
        return organization_id
    if not rule(actor):
        raise ApiError(403, "permission_denied", refused)
    if organization_id is not None and not permissions.in_organization(actor, organization_id):
        raise ApiError(404, "not_found", "Not found.")
    return actor.organization_id


def _rule_error(exc: EntryRuleError) -> ApiError:
    return ApiError(422, exc.code, exc.message, exc.details)


# --- chart of accounts -------------------------------------------------------------------------------

def _clean_code(code: str, field: str = "account_code") -> str:
    code = (code or "").strip()
    if not ACCOUNT_CODE_RE.match(code):
        raise ApiError(422, "invalid_account_code",
                       "An account code has 1-32 letters, digits, '.', '-' or '_' and starts with a letter or digit.",
                       {"field": field})
    return code


def currency_clean(currency: str | None, *, default: str | None = None) -> str:
    """A 3-letter ISO code; empty: `default` (the organization's reporting fiat)."""
    currency = (currency or default or settings.REPORTING_FIAT).strip().upper()
    if not CURRENCY_RE.match(currency):
        raise ApiError(422, "invalid_currency", "A currency is a 3-letter ISO code such as USD.")
    return currency


def _reporting_fiat(organization_id, using: str = DEFAULT_DB_ALIAS) -> str:
    found = Organization.objects.using(using).filter(pk=organization_id).only("reporting_fiat").first()
    return found.reporting_fiat if found is not None else settings.REPORTING_FIAT


def _accounts(organization_id, using: str = DEFAULT_DB_ALIAS):
    return FinancialAccount.objects.using(using).for_organization(organization_id)


def _check_parent(*, organization_id, parent_code: str, account_type: str, currency: str) -> None:
    parent = _accounts(organization_id).filter(account_code=parent_code).first()
    if parent is None:
        raise ApiError(422, "unknown_parent", f"There is no account {parent_code}.", {"parent_account": parent_code})
    if parent.account_type != account_type:
        raise ApiError(422, "parent_type_mismatch",
                       f"A {account_type} account cannot sit under the {parent.account_type} account {parent_code}.",
                       {"parent_account": parent_code, "parent_type": parent.account_type})
    if parent.currency != currency:
        raise ApiError(422, "parent_currency_mismatch", "A child account has its parent's currency.",
                       {"parent_account": parent_code, "parent_currency": parent.currency})


def account_create(*, actor, account_code: str, account_name: str, account_type: str, parent_account: str = "",
                   description: str = "", is_active: bool = True, currency: str | None = None,
                   system_key: str | None = None, organization_id=None) -> FinancialAccount:
    """An account in the actor's organization (accountants, managers, admins); the system (actor None
    or the system user) names the organization."""
    organization_id = _books_of(actor, permissions.can_work_books, organization_id,
                                refused="Only those who work the books change the chart of accounts.")
    code = _clean_code(account_code)
    name = (account_name or "").strip()
    if not name or len(name) > 200:
        raise ApiError(422, "invalid_account_name", "An account needs a name of 1-200 characters.")
    if account_type not in AccountType.values:
        raise ApiError(422, "invalid_account_type", f"The account type is one of {AccountType.values}.")
    currency = currency_clean(currency, default=None if currency else _reporting_fiat(organization_id))
    parent_account = (parent_account or "").strip()
    if parent_account:
        parent_account = _clean_code(parent_account, "parent_account")
        _check_parent(organization_id=organization_id, parent_code=parent_account, account_type=account_type,
                      currency=currency)
    account = FinancialAccount(organization_id=organization_id, account_code=code, account_name=name,
                               account_type=account_type, parent_account=parent_account,
                               description=(description or "").strip(), is_active=is_active, currency=currency,
                               system_key=system_key)
    try:
        account.save()
    except IntegrityError:
        raise ApiError(409, "account_code_taken", f"An account with code {code} already exists.",
                       {"account_code": code}) from None
    return account


def account_update(*, actor, account: FinancialAccount, account_name: str | None = None,
                   account_type: str | None = None, parent_account: str | None = None,
                   description: str | None = None, is_active: bool | None = None,
                   currency: str | None = None) -> FinancialAccount:
    """Change an account. Its code is fixed (entry lines refer to it). A type or currency change is
    refused once entries use the account; a new parent must exist, match, and not close a cycle."""
    organization_id = _books_of(actor, permissions.can_work_books, account.organization_id,
                                refused="Only those who work the books change the chart of accounts.")
    code = account.account_code
    new_type = account.account_type if account_type is None else account_type
    new_currency = account.currency if currency is None else currency_clean(currency)
    if new_type not in AccountType.values:
        raise ApiError(422, "invalid_account_type", f"The account type is one of {AccountType.values}.")
    if (new_type != account.account_type or new_currency != account.currency) and \
            selectors.account_is_used(code, organization_id=organization_id, booked_only=False):
        raise ApiError(409, "account_in_use", "Entries use this account: its type and currency are fixed.",
                       {"account_code": code})
    if new_type != account.account_type or new_currency != account.currency:
        mismatched = _accounts(organization_id).filter(parent_account=code).exclude(
            account_type=new_type, currency=new_currency).exists()
        if mismatched:
            raise ApiError(409, "account_has_children", "Child accounts have their parent's type and currency.",
                           {"account_code": code})
    new_parent = account.parent_account if parent_account is None else parent_account.strip()
    if new_parent:
        new_parent = _clean_code(new_parent, "parent_account")
        if new_parent == code:
            raise ApiError(409, "parent_cycle", "An account cannot be its own parent.", {"cycle": [code, code]})
        _check_parent(organization_id=organization_id, parent_code=new_parent, account_type=new_type,
                      currency=new_currency)
    if account_name is not None:
        account_name = account_name.strip()
        if not account_name or len(account_name) > 200:
            raise ApiError(422, "invalid_account_name", "An account needs a name of 1-200 characters.")
        account.account_name = account_name
    if description is not None:
        account.description = description.strip()
    if is_active is not None:
        account.is_active = is_active
    moved = new_parent != account.parent_account
    account.account_type, account.currency, account.parent_account = new_type, new_currency, new_parent
    if not moved:
        account.save()
        return account
    _counter_ensure_key(organization_id, CHART_TREE_KEY)

    def move():
        # Every re-parenting bumps one document of the organization first: two racing moves (A under
        # B, B under A) conflict, the loser is retried and then sees the winner's parent in its cycle check.
        _bump_counter(organization_id, CHART_TREE_KEY)
        parents = selectors.account_parent_map(organization_id=organization_id)
        cycle = parent_cycle(code, new_parent, parents) if new_parent else None
        if cycle:
            raise ApiError(409, "parent_cycle", f"{new_parent} is below {code}: that parent would make a cycle.",
                           {"cycle": cycle})
        account.save()
        return account

    return in_transaction(move)


def account_delete(*, actor, account: FinancialAccount) -> None:
    """Only an unused leaf goes; an account with postings is deactivated instead."""
    organization_id = _books_of(actor, permissions.can_work_books, account.organization_id,
                                refused="Only those who work the books change the chart of accounts.")
    code = account.account_code
    if selectors.account_is_used(code, organization_id=organization_id, booked_only=True):
        raise ApiError(409, "account_has_postings",
                       "This account has posted entries; deactivate it instead (is_active=false).",
                       {"account_code": code})
    if selectors.account_is_used(code, organization_id=organization_id, booked_only=False):
        raise ApiError(409, "account_in_draft_entries", "Draft entries use this account; change or delete them first.",
                       {"account_code": code})
    if _accounts(organization_id).filter(parent_account=code).exists():
        raise ApiError(409, "account_has_children", "This account has child accounts; move or delete them first.",
                       {"account_code": code,
                        "children": selectors.account_children_codes(code, organization_id=organization_id)})
    account.delete()


DEFAULT_CHART_KEYS = tuple(row[0] for row in DEFAULT_CHART)


def chart_of_accounts_ensure_default(*, organization_id, currency: str | None = None,
                                     using: str = DEFAULT_DB_ALIAS) -> int:
    """Create the accounts of the default chart the organization is missing (in `currency`, default
    its reporting fiat). Idempotent: a second run creates nothing and never overwrites an account
    edited by hand (an existing account with a default code is adopted). Crypto asset accounts are
    not made here but on first use (crypto_asset_account_get_or_create). Returns how many accounts
    it created."""
    if organization_id is None:
        raise ValueError("the default chart of which organization? organization_id is required")
    existing = {a.account_code: a for a in _accounts(organization_id, using)}
    keys_taken = {a.system_key for a in existing.values() if a.system_key}
    currency = currency or _reporting_fiat(organization_id, using)
    missing = []
    for key, code, name, account_type, parent, description in DEFAULT_CHART:
        if key in keys_taken:
            continue
        account = existing.get(code)
        if account is not None:
            if not account.system_key:
                _accounts(organization_id, using).filter(pk=account.pk, system_key=None).update(system_key=key)
            continue
        missing.append(FinancialAccount(organization_id=organization_id, account_code=code, account_name=name,
                                        account_type=account_type, parent_account=parent, description=description,
                                        system_key=key, currency=currency))
    if not missing:
        return 0
    connection = connections[using]
    if not existing or connection.in_atomic_block_mongo:
        # A new organization (or inside its creator's transaction): one insert for the whole chart.
        try:
            FinancialAccount.objects.using(using).bulk_create(missing)
            return len(missing)
        except IntegrityError:
            if connection.in_atomic_block_mongo:
                raise
            return chart_of_accounts_ensure_default(organization_id=organization_id, currency=currency, using=using)
    created = 0
    for account in missing:
        try:
            account.save(using=using)
        except IntegrityError:
            continue  # another process made it a moment ago
        created += 1
    return created


def chart_of_accounts_ensure_all(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """The default chart for every organization that lacks part of it (post_migrate). One read of
    the default accounts, then only the incomplete organizations are completed."""
    complete: dict = {}
    for account in FinancialAccount.objects.using(using).filter(system_key__in=DEFAULT_CHART_KEYS).only(
            "organization_id", "system_key"):
        complete.setdefault(account.organization_id, set()).add(account.system_key)
    created = 0
    for organization in Organization.objects.using(using).only("pk", "reporting_fiat").order_by("pk"):
        if len(complete.get(organization.pk, ())) == len(DEFAULT_CHART_KEYS):
            continue
        created += chart_of_accounts_ensure_default(organization_id=organization.pk,
                                                    currency=organization.reporting_fiat, using=using)
    return created


def chart_account_get(*, key: str, organization_id) -> FinancialAccount:
    """An account of the organization's default chart by its role: "cash", "equity", "expenses",
    "crypto_income", "realised_gains", "realised_losses", "gas_fees", "salaries", ... (the chart is
    completed if the account is missing)."""
    if key not in DEFAULT_CHART_KEYS:
        raise ValueError(f"unknown chart account {key!r}")
    if organization_id is None:
        raise ValueError("the chart of which organization? organization_id is required")
    account = _accounts(organization_id).filter(system_key=key).first()
    if account is None:
        chart_of_accounts_ensure_default(organization_id=organization_id)
        account = _accounts(organization_id).get(system_key=key)
    return account


def crypto_asset_account_get_or_create(*, symbol: str, organization_id) -> FinancialAccount:
    """The organization's crypto asset account of an asset ("1200-ETH" under Crypto assets), made on
    first use."""
    return _crypto_asset_account(symbol=symbol, organization_id=organization_id)[0]


def _crypto_asset_account(*, symbol: str, organization_id, using: str = DEFAULT_DB_ALIAS) -> tuple[FinancialAccount, int]:
    if organization_id is None:
        raise ValueError("the chart of which organization? organization_id is required")
    symbol = (symbol or "").strip().upper()
    if not symbol or not ACCOUNT_CODE_RE.match(symbol) or len(symbol) > 20:
        raise ApiError(422, "invalid_symbol", "Not an asset symbol.")
    key = f"crypto:{symbol}"
    accounts = _accounts(organization_id, using)
    account = accounts.filter(system_key=key).first()
    if account is not None:
        return account, 0
    parent = accounts.filter(system_key=CRYPTO_ACCOUNT_PARENT_KEY).first()
    if parent is None:
        chart_of_accounts_ensure_default(organization_id=organization_id, using=using)
        parent = _accounts(organization_id, using).get(system_key=CRYPTO_ACCOUNT_PARENT_KEY)
    account = FinancialAccount(organization_id=organization_id, account_code=f"{parent.account_code}-{symbol}",
                               account_name=f"Crypto asset {symbol}", account_type=AccountType.ASSET,
                               parent_account=parent.account_code, description=f"{symbol} held, at cost.",
                               system_key=key, currency=parent.currency)
    try:
        account.save(using=using)
    except IntegrityError:
        # A racing call made it, or someone took the code by hand: the key decides which it was.
        found = _accounts(organization_id, using).filter(system_key=key).first()
        if found is None:
            raise ApiError(409, "account_code_taken",
                           f"Account code {account.account_code} is taken by an account that is not {symbol}'s.") from None
        return found, 0
    return account, 1


# --- lock date ---------------------------------------------------------------------------------------

def ledger_lock_date_set(*, actor, lock_date: dt.date | None, organization_id=None,
                         ip: str | None = None) -> Organization:
    """Close the books of the actor's organization up to `lock_date` (None reopens them). Admins
    only (core.permissions.can_set_lock_date); another organization is not found (404). Every change
    is in the audit log. Returns the organization."""
    from accounts.audit import audit_record

    organization_id = _books_of(actor, permissions.can_set_lock_date, organization_id,
                                refused="Only admins set the lock date.", system_allowed=False)
    organization = Organization.objects.get(pk=organization_id)
    previous = organization.lock_date
    if previous != lock_date:
        Organization.objects.filter(pk=organization_id).update(lock_date=lock_date, updated_at=timezone.now())
        organization.lock_date = lock_date
        audit_record(action="ledger_lock_date_set", actor=actor, target=organization, ip=ip,
                     previous=previous.isoformat() if previous else None,
                     lock_date=lock_date.isoformat() if lock_date else None)
    return organization


def _check_lock_date(lock_date: dt.date | None, day: dt.date, what: str) -> None:
    if lock_date is not None and day <= lock_date:
        raise ApiError(409, "period_locked", f"The books are locked up to {lock_date.isoformat()}: cannot {what} "
                       f"an entry dated {day.isoformat()}.", {"lock_date": lock_date.isoformat(),
                                                               "date": day.isoformat()})


# --- journal entries ---------------------------------------------------------------------------------

def _entry_datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, dt.date):
        return timezone.make_aware(dt.datetime.combine(value, dt.time.min))
    raise ApiError(422, "invalid_date", "An entry needs a date.")


def _entry_day(moment: dt.datetime) -> dt.date:
    return timezone.localdate(moment)


def _validated_lines(line_items, *, organization_id, currency: str,
                     accounts: dict[str, FinancialAccount] | None = None) -> tuple[list[JournalLine], Decimal, Decimal]:
    """The rules of ledger.double_entry, plus: every account exists in the organization's chart, is
    active and is in the entry's currency (`accounts`: the chart already read, by code, for a batch)."""
    try:
        lines, total_debit, total_credit = lines_validate(line_items)
    except EntryRuleError as exc:
        raise _rule_error(exc) from None
    codes = sorted({line["account_code"] for line in lines})
    if accounts is None:
        accounts = {a.account_code: a for a in _accounts(organization_id).filter(account_code__in=codes)}
    unknown = [code for code in codes if code not in accounts]
    if unknown:
        raise ApiError(422, "unknown_account", f"No such account: {', '.join(unknown)}.", {"account_codes": unknown})
    inactive = [code for code in codes if not accounts[code].is_active]
    if inactive:
        raise ApiError(422, "inactive_account", f"Inactive account: {', '.join(inactive)}.",
                       {"account_codes": inactive})
    foreign = [code for code in codes if accounts[code].currency != currency]
    if foreign:
        raise ApiError(422, "currency_mismatch", f"Account in another currency than {currency}: {', '.join(foreign)}.",
                       {"account_codes": foreign})
    return [JournalLine(**line) for line in lines], total_debit, total_credit


def _clean_header(*, date, description: str, reference: str, transaction_hash: str, currency: str | None,
                  default_currency: str):
    moment = _entry_datetime(date)
    description = (description or "").strip()
    if not description:
        raise ApiError(422, "invalid_description", "An entry needs a description.")
    transaction_hash = (transaction_hash or "").strip().lower()
    if transaction_hash and not TRANSACTION_HASH_RE.match(transaction_hash):
        raise ApiError(422, "invalid_transaction_hash", "A transaction hash is 0x and 64 hexadecimal characters.")
    return (moment, description, (reference or "").strip()[:100], transaction_hash,
            currency_clean(currency, default=default_currency))


def _check_source_transaction(source_transaction, organization_id) -> None:
    """An entry links only a transaction of its own organization."""
    if source_transaction is None:
        return
    owner = getattr(source_transaction, "organization_id", None)
    if owner is not None and str(owner) != str(organization_id):
        raise ApiError(422, "unknown_transaction", "No such transaction.",
                       {"source_transaction_id": str(source_transaction.pk)})


# Counter documents: "<organization id>:JE-<year>" numbers the organization's entries of a year;
# "<organization id>:chart-tree" serialises changes to its account tree (see account_update).
CHART_TREE_KEY = "chart-tree"


def counter_key(organization_id, name: str) -> str:
    return f"{organization_id}:{name}"


def _year_key(year: int) -> str:
    return f"JE-{year}"


def _next_entry_number(organization_id, year: int) -> str:
    """Take the organization's next number of `year`; must run inside the posting transaction."""
    return f"{_year_key(year)}-{_bump_counter(organization_id, _year_key(year)):06d}"


def _counter_ensure(organization_id, year: int) -> None:
    # Created before the transaction: two first posts of a year inserting the same counter inside
    # transactions would fail with a duplicate key instead of a retryable conflict.
    _counter_ensure_key(organization_id, _year_key(year))


def _counter_ensure_key(organization_id, name: str) -> None:
    JournalCounter.objects.get_or_create(organization_id=organization_id, key=counter_key(organization_id, name))


def _bump_counter(organization_id, name: str, by: int = 1) -> int:
    """Increment one of the organization's counters inside the current transaction; returns the new value."""
    connection = connections[DEFAULT_DB_ALIAS]
    counter = connection.database[JournalCounter._meta.db_table].find_one_and_update(
        {"organization_id": selectors._oid(organization_id), "key": counter_key(organization_id, name)},
        {"$inc": {"last_number": by}}, return_document=pymongo.ReturnDocument.AFTER, session=connection.session)
    return counter["last_number"]


def _publish_entry_event(event_type: str, entry: JournalEntry) -> None:
    # Only those who may read the entry over HTTP: the organization's book keepers.
    publish(organization_group(entry.organization_id, Audience.BOOKS), event_type, {
        "id": entry.pk, "entry_id": entry.entry_id, "status": entry.status, "date": entry.date,
        "description": entry.description[:200], "total": entry.total_debit, "currency": entry.currency})


def journal_entry_create(*, created_by, date, description: str, line_items, reference: str = "",
                         transaction_hash: str = "", currency: str | None = None, source_transaction=None,
                         source_key: str | None = None, post: bool = False, organization_id=None) -> JournalEntry:
    """A draft entry in the creator's organization (those who work the books), or with `post=True` a
    posted one (those who post, or the system for the organization it names) created and numbered in
    one transaction. A `source_key` already used in the organization answers 409 duplicate_source_key,
    so an automatic journal per event is made once."""
    if post:
        organization_id = _books_of(created_by, permissions.can_post_entries, organization_id,
                                    refused="Only managers and admins post entries.")
    else:
        organization_id = _books_of(created_by, permissions.can_work_books, organization_id,
                                    refused="Only those who work the books create journal entries.")
    moment, description, reference, transaction_hash, currency = _clean_header(
        date=date, description=description, reference=reference, transaction_hash=transaction_hash,
        currency=currency, default_currency=None if currency else _reporting_fiat(organization_id))
    lines, total_debit, total_credit = _validated_lines(line_items, organization_id=organization_id,
                                                        currency=currency)
    _check_lock_date(selectors.lock_date_get(organization_id=organization_id), _entry_day(moment), "create")
    _check_source_transaction(source_transaction, organization_id)
    source_key = (source_key or "").strip()[:200] or None
    entry = JournalEntry(organization_id=organization_id, date=moment, description=description,
                         reference=reference, transaction_hash=transaction_hash, currency=currency,
                         line_items=lines, total_debit=total_debit, total_credit=total_credit,
                         created_by=created_by, source_transaction=source_transaction, source_key=source_key)
    try:
        if not post:
            entry.save()
            return entry
        year = _entry_day(moment).year
        _counter_ensure(organization_id, year)

        def create_posted():
            entry.pk = None
            entry.entry_id = _next_entry_number(organization_id, year)
            entry.status, entry.posted_by, entry.posted_at = EntryStatus.POSTED, created_by, timezone.now()
            entry.save(force_insert=True)
            _publish_entry_event("ledger.entry_posted", entry)
            return entry

        return in_transaction(create_posted)
    except IntegrityError:
        if source_key and JournalEntry.objects.for_organization(organization_id).filter(source_key=source_key).exists():
            raise ApiError(409, "duplicate_source_key", "An entry for this source already exists.",
                           {"source_key": source_key}) from None
        raise


def journal_entries_post_batch(*, created_by, entries: list[dict], organization_id=None) -> list[JournalEntry]:
    """Create and post many entries of one organization in one transaction (the automatic journals):
    each entry is validated like journal_entry_create's (dicts of its keyword arguments), then every
    year's numbers are taken in one increment and the entries inserted together, so the numbers stay
    consecutive and gap-free. Any problem (a rule, the lock date, a source key already used) writes
    nothing."""
    organization_id = _books_of(created_by, permissions.can_post_entries, organization_id,
                                refused="Only managers and admins post entries.")
    if not entries:
        return []
    codes = {line["account_code"] for spec in entries for line in spec["line_items"]}
    accounts = {a.account_code: a for a in _accounts(organization_id).filter(account_code__in=sorted(codes))}
    lock_date = selectors.lock_date_get(organization_id=organization_id)
    fiat = _reporting_fiat(organization_id)
    built: list[JournalEntry] = []
    for spec in entries:
        moment, description, reference, transaction_hash, currency = _clean_header(
            date=spec["date"], description=spec["description"], reference=spec.get("reference", ""),
            transaction_hash=spec.get("transaction_hash", ""), currency=spec.get("currency"), default_currency=fiat)
        lines, total_debit, total_credit = _validated_lines(spec["line_items"], organization_id=organization_id,
                                                            currency=currency, accounts=accounts)
        _check_lock_date(lock_date, _entry_day(moment), "create")
        _check_source_transaction(spec.get("source_transaction"), organization_id)
        built.append(JournalEntry(
            organization_id=organization_id, date=moment, description=description, reference=reference,
            transaction_hash=transaction_hash, currency=currency, line_items=lines, total_debit=total_debit,
            total_credit=total_credit, created_by=created_by, source_transaction=spec.get("source_transaction"),
            source_key=(spec.get("source_key") or "").strip()[:200] or None, status=EntryStatus.POSTED,
            posted_by=created_by))
    by_year: dict[int, list[JournalEntry]] = {}
    for entry in sorted(built, key=lambda e: e.date):
        by_year.setdefault(_entry_day(entry.date).year, []).append(entry)
    for year in by_year:
        _counter_ensure(organization_id, year)

    def create_posted():
        now = timezone.now()
        for year, group in by_year.items():
            last = _bump_counter(organization_id, _year_key(year), len(group))
            for number, entry in enumerate(group, start=last - len(group) + 1):
                entry.pk, entry.entry_id, entry.posted_at = None, f"{_year_key(year)}-{number:06d}", now
        JournalEntry.objects.bulk_create(built)
        return built

    try:
        created = in_transaction(create_posted)
    except DatabaseError:  # IntegrityError included: a duplicate key fails the bulk insert
        keys = [entry.source_key for entry in built if entry.source_key]
        if keys and JournalEntry.objects.for_organization(organization_id).filter(source_key__in=keys).exists():
            raise ApiError(409, "duplicate_source_key", "An entry for one of these sources already exists.") from None
        raise
    publish(organization_group(organization_id, Audience.BOOKS), "ledger.entries_posted",
            {"count": len(created), "first": created[0].entry_id, "last": created[-1].entry_id})
    return created


def _not_draft_error(entry: JournalEntry) -> ApiError:
    current = JournalEntry.objects.for_organization(entry.organization_id).filter(pk=entry.pk).only(
        "status", "entry_id").first()
    if current is None:
        return ApiError(404, "not_found", "Not found.")
    return ApiError(409, "entry_not_draft", f"The entry is {current.status}: only drafts change.",
                    {"status": current.status, "entry_id": current.entry_id})


def _check_may_edit(entry: JournalEntry, actor) -> None:
    """Drafts are worked by those who work the books (403), in their own organization (404)."""
    _books_of(actor, permissions.can_work_books, entry.organization_id,
              refused="Only those who work the books change journal entries.", system_allowed=False)
    if not permissions.can_edit_entry(actor, entry):
        raise ApiError(404, "not_found", "Not found.")


def journal_entry_update(*, entry: JournalEntry, actor, date, description: str, line_items, reference: str = "",
                         transaction_hash: str = "", currency: str | None = None) -> JournalEntry:
    """Replace a draft's content. A conditional write (status still draft) so a post that lands
    first wins and this answers 409."""
    _check_may_edit(entry, actor)
    if entry.status != EntryStatus.DRAFT:
        raise _not_draft_error(entry)
    organization_id = entry.organization_id
    moment, description, reference, transaction_hash, currency = _clean_header(
        date=date, description=description, reference=reference, transaction_hash=transaction_hash,
        currency=currency, default_currency=None if currency else _reporting_fiat(organization_id))
    lines, total_debit, total_credit = _validated_lines(line_items, organization_id=organization_id,
                                                        currency=currency)
    _check_lock_date(selectors.lock_date_get(organization_id=organization_id), _entry_day(moment), "date")
    now = timezone.now()
    changed = JournalEntry.objects.for_organization(organization_id).filter(
        pk=entry.pk, status=EntryStatus.DRAFT).update(
        date=moment, description=description, reference=reference, transaction_hash=transaction_hash,
        currency=currency, line_items=lines, total_debit=total_debit, total_credit=total_credit, updated_at=now)
    if not changed:
        raise _not_draft_error(entry)
    entry.refresh_from_db()
    return entry


def journal_entry_delete(*, entry: JournalEntry, actor) -> None:
    _check_may_edit(entry, actor)
    deleted, _ = JournalEntry.objects.for_organization(entry.organization_id).filter(
        pk=entry.pk, status=EntryStatus.DRAFT).delete()
    if not deleted:
        raise _not_draft_error(entry)


def journal_entry_post(*, entry: JournalEntry, actor) -> JournalEntry:
    """Post a draft: checked again (accounts may have been deactivated since), numbered, immutable."""
    organization_id = _books_of(actor, permissions.can_post_entries, entry.organization_id,
                                refused="Only managers and admins post entries.")
    if entry.status != EntryStatus.DRAFT:
        raise _not_draft_error(entry)
    _validated_lines([line_as_dict(line) for line in entry.line_items], organization_id=organization_id,
                     currency=entry.currency)
    day = _entry_day(entry.date)
    _check_lock_date(selectors.lock_date_get(organization_id=organization_id), day, "post")
    _counter_ensure(organization_id, day.year)

    def post():
        entry_id = _next_entry_number(organization_id, day.year)
        now = timezone.now()
        changed = JournalEntry.objects.for_organization(organization_id).filter(
            pk=entry.pk, status=EntryStatus.DRAFT).update(
            status=EntryStatus.POSTED, entry_id=entry_id, posted_by=actor, posted_at=now, updated_at=now)
        if not changed:
            raise _not_draft_error(entry)  # rolls the number back with the transaction
        entry.status, entry.entry_id, entry.posted_by, entry.posted_at = EntryStatus.POSTED, entry_id, actor, now
        _publish_entry_event("ledger.entry_posted", entry)
        return entry

    in_transaction(post)
    logger.info("journal entry posted id=%s entry_id=%s organization=%s by=%s", entry.pk, entry.entry_id,
                organization_id, actor.pk)
    return entry


def line_as_dict(line: JournalLine) -> dict:
    return {"account_code": line.account_code, "description": line.description,
            "debit_amount": line.debit_amount, "credit_amount": line.credit_amount, "asset": line.asset,
            "quantity": line.quantity}


def journal_entry_reverse(*, entry: JournalEntry, actor, date=None, description: str = "") -> JournalEntry:
    """Cancel a posted entry: a new posted entry with every line's sides swapped, linked both ways,
    and the original marked reversed, all in one transaction. Returns the reversing entry."""
    organization_id = _books_of(actor, permissions.can_post_entries, entry.organization_id,
                                refused="Only managers and admins reverse entries.")
    if entry.status == EntryStatus.DRAFT:
        raise ApiError(409, "entry_not_posted", "A draft is not in the books: edit or delete it instead.")
    if entry.status == EntryStatus.REVERSED:
        raise ApiError(409, "entry_already_reversed", f"{entry.entry_id} is already reversed.",
                       {"entry_id": entry.entry_id})
    if entry.reversal_of_id is not None:
        raise ApiError(409, "entry_is_reversal", f"{entry.entry_id} is itself a reversal; post a new entry instead.")
    moment = max(timezone.now(), entry.date) if date is None else _entry_datetime(date)
    if moment < entry.date:
        raise ApiError(422, "invalid_date", "A reversal cannot be dated before the entry it reverses.")
    lock_date = selectors.lock_date_get(organization_id=organization_id)
    _check_lock_date(lock_date, _entry_day(entry.date), "reverse")
    _check_lock_date(lock_date, _entry_day(moment), "date a reversal as")
    day = _entry_day(moment)
    _counter_ensure(organization_id, day.year)
    lines = [JournalLine(**line) for line in lines_reversed([line_as_dict(line) for line in entry.line_items])]
    text = (description or "").strip() or f"Reversal of {entry.entry_id}: {entry.description}"[:1000]

    def reverse():
        now = timezone.now()
        reversal = JournalEntry(
            organization_id=organization_id, entry_id=_next_entry_number(organization_id, day.year), date=moment,
            description=text, reference=entry.reference, transaction_hash=entry.transaction_hash,
            currency=entry.currency, line_items=lines, total_debit=entry.total_credit,
            total_credit=entry.total_debit, status=EntryStatus.POSTED, created_by=actor, posted_by=actor,
            posted_at=now, reversal_of=entry, source_transaction_id=entry.source_transaction_id)
        reversal.save(force_insert=True)
        changed = JournalEntry.objects.for_organization(organization_id).filter(
            pk=entry.pk, status=EntryStatus.POSTED).update(
            status=EntryStatus.REVERSED, reversed_by=actor, reversed_at=now, reversal_entry=reversal, updated_at=now)
        if not changed:
            raise ApiError(409, "entry_already_reversed", "The entry was reversed a moment ago.")
        entry.status, entry.reversed_by, entry.reversed_at, entry.reversal_entry = \
            EntryStatus.REVERSED, actor, now, reversal
        _publish_entry_event("ledger.entry_reversed", entry)
        return reversal

    try:
        reversal = in_transaction(reverse)
    except IntegrityError:
        # The unique reversal_of: a reversal committed by someone else between our check and our write.
        raise ApiError(409, "entry_already_reversed", "The entry was reversed a moment ago.") from None
    logger.info("journal entry reversed id=%s by=%s reversal=%s", entry.pk, actor.pk, reversal.entry_id)
    return reversal
