"""The chart of accounts: create, change and delete an organization's accounts (those who work the
books; the system for the organization it names). An account's code is fixed once it exists (entry
lines refer to it); its parent has its type and currency, and the tree has no cycle."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError

from core import permissions
from core.errors import Conflict, ErrorCode, InvalidInput
from core.models import Organization
from core.transactions import in_transaction
from ledger import selectors
from ledger.double_entry import parent_cycle
from ledger.models import AccountType, FinancialAccount
from ledger.services.numbering import CHART_TREE_KEY, bump_counter, counter_ensure_key

ACCOUNT_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
CHART_REFUSED = "Only those who work the books change the chart of accounts."


def clean_code(code: str, field: str = "account_code") -> str:
    code = (code or "").strip()
    if not ACCOUNT_CODE_RE.match(code):
        raise InvalidInput(ErrorCode.INVALID_ACCOUNT_CODE,
                           "An account code has 1-32 letters, digits, '.', '-' or '_' and starts with a letter or digit.",
                           {"field": field})
    return code


def currency_clean(currency: str | None, *, default: str | None = None) -> str:
    """A 3-letter ISO code; empty: `default` (the organization's reporting fiat)."""
    currency = (currency or default or settings.REPORTING_FIAT).strip().upper()
    if not CURRENCY_RE.match(currency):
        raise InvalidInput(ErrorCode.INVALID_CURRENCY, "A currency is a 3-letter ISO code such as USD.")
    return currency


def reporting_fiat_of(organization_id, using: str = DEFAULT_DB_ALIAS) -> str:
    found = Organization.objects.using(using).filter(pk=organization_id).only("reporting_fiat").first()
    return found.reporting_fiat if found is not None else settings.REPORTING_FIAT


def accounts_of(organization_id, using: str = DEFAULT_DB_ALIAS):
    return FinancialAccount.objects.using(using).for_organization(organization_id)


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput(ErrorCode.INVALID_ACCOUNT_NAME, "An account needs a name of 1-200 characters.")
    return name


def _check_type(account_type: str) -> None:
    if account_type not in AccountType.values:
        raise InvalidInput(ErrorCode.INVALID_ACCOUNT_TYPE, f"The account type is one of {AccountType.values}.")


def _check_parent(*, organization_id, parent_code: str, account_type: str, currency: str) -> None:
    parent = accounts_of(organization_id).filter(account_code=parent_code).first()
    if parent is None:
        raise InvalidInput(ErrorCode.UNKNOWN_PARENT, f"There is no account {parent_code}.",
                           {"parent_account": parent_code})
    if parent.account_type != account_type:
        raise InvalidInput(ErrorCode.PARENT_TYPE_MISMATCH,
                           f"A {account_type} account cannot sit under the {parent.account_type} account {parent_code}.",
                           {"parent_account": parent_code, "parent_type": parent.account_type})
    if parent.currency != currency:
        raise InvalidInput(ErrorCode.PARENT_CURRENCY_MISMATCH, "A child account has its parent's currency.",
                           {"parent_account": parent_code, "parent_currency": parent.currency})


def account_create(*, actor, account_code: str, account_name: str, account_type: str, parent_account: str = "",
                   description: str = "", is_active: bool = True, currency: str | None = None,
                   system_key: str | None = None, organization_id=None) -> FinancialAccount:
    """An account in the actor's organization (accountants, managers, admins); the system (actor None
    or the system user) names the organization."""
    organization_id = permissions.acting_organization_id(actor, permissions.can_work_books, organization_id,
                                                         refused=CHART_REFUSED)
    code = clean_code(account_code)
    name = _clean_name(account_name)
    _check_type(account_type)
    currency = currency_clean(currency, default=None if currency else reporting_fiat_of(organization_id))
    parent_account = (parent_account or "").strip()
    if parent_account:
        parent_account = clean_code(parent_account, "parent_account")
        _check_parent(organization_id=organization_id, parent_code=parent_account, account_type=account_type,
                      currency=currency)
    account = FinancialAccount(organization_id=organization_id, account_code=code, account_name=name,
                               account_type=account_type, parent_account=parent_account,
                               description=(description or "").strip(), is_active=is_active, currency=currency,
                               system_key=system_key)
    try:
        account.save()
    except IntegrityError:
        raise Conflict(ErrorCode.ACCOUNT_CODE_TAKEN, f"An account with code {code} already exists.",
                       {"account_code": code}) from None
    return account


def account_update(*, actor, account: FinancialAccount, account_name: str | None = None,
                   account_type: str | None = None, parent_account: str | None = None,
                   description: str | None = None, is_active: bool | None = None,
                   currency: str | None = None) -> FinancialAccount:
    """Change an account. Its code is fixed (entry lines refer to it). A type or currency change is
    refused once entries use the account; a new parent must exist, match, and not close a cycle."""
    organization_id = permissions.acting_organization_id(actor, permissions.can_work_books, account.organization_id,
                                                         refused=CHART_REFUSED)
    code = account.account_code
    new_type = account.account_type if account_type is None else account_type
    new_currency = account.currency if currency is None else currency_clean(currency)
    _check_type(new_type)
    if (new_type != account.account_type or new_currency != account.currency) and \
            selectors.account_is_used(code, organization_id=organization_id, booked_only=False):
        raise Conflict(ErrorCode.ACCOUNT_IN_USE, "Entries use this account: its type and currency are fixed.",
                       {"account_code": code})
    if new_type != account.account_type or new_currency != account.currency:
        mismatched = accounts_of(organization_id).filter(parent_account=code).exclude(
            account_type=new_type, currency=new_currency).exists()
        if mismatched:
            raise Conflict(ErrorCode.ACCOUNT_HAS_CHILDREN, "Child accounts have their parent's type and currency.",
                           {"account_code": code})
    new_parent = account.parent_account if parent_account is None else parent_account.strip()
    if new_parent:
        new_parent = clean_code(new_parent, "parent_account")
        if new_parent == code:
            raise Conflict(ErrorCode.PARENT_CYCLE, "An account cannot be its own parent.", {"cycle": [code, code]})
        _check_parent(organization_id=organization_id, parent_code=new_parent, account_type=new_type,
                      currency=new_currency)
    if account_name is not None:
        account.account_name = _clean_name(account_name)
    if description is not None:
        account.description = description.strip()
    if is_active is not None:
        account.is_active = is_active
    moved = new_parent != account.parent_account
    account.account_type, account.currency, account.parent_account = new_type, new_currency, new_parent
    if not moved:
        account.save()
        return account
    counter_ensure_key(organization_id, CHART_TREE_KEY)

    def move():
        # Every re-parenting bumps one document of the organization first: two racing moves (A under
        # B, B under A) conflict, the loser is retried and then sees the winner's parent in its cycle check.
        bump_counter(organization_id, CHART_TREE_KEY)
        parents = selectors.account_parent_map(organization_id=organization_id)
        cycle = parent_cycle(code, new_parent, parents) if new_parent else None
        if cycle:
            raise Conflict(ErrorCode.PARENT_CYCLE, f"{new_parent} is below {code}: that parent would make a cycle.",
                           {"cycle": cycle})
        account.save()
        return account

    return in_transaction(move)


def account_delete(*, actor, account: FinancialAccount) -> None:
    """Only an unused leaf goes; an account with postings is deactivated instead."""
    organization_id = permissions.acting_organization_id(actor, permissions.can_work_books, account.organization_id,
                                                         refused=CHART_REFUSED)
    code = account.account_code
    if selectors.account_is_used(code, organization_id=organization_id, booked_only=True):
        raise Conflict(ErrorCode.ACCOUNT_HAS_POSTINGS,
                       "This account has posted entries; deactivate it instead (is_active=false).",
                       {"account_code": code})
    if selectors.account_is_used(code, organization_id=organization_id, booked_only=False):
        raise Conflict(ErrorCode.ACCOUNT_IN_DRAFT_ENTRIES,
                       "Draft entries use this account; change or delete them first.", {"account_code": code})
    if accounts_of(organization_id).filter(parent_account=code).exists():
        raise Conflict(ErrorCode.ACCOUNT_HAS_CHILDREN, "This account has child accounts; move or delete them first.",
                       {"account_code": code,
                        "children": selectors.account_children_codes(code, organization_id=organization_id)})
    account.delete()
