"""/api/accounts/ (chart of accounts) and /api/journal-entries/: thin routers that parse, call the
ledger's services and selectors, and serialise. Who may do what: ledger/selectors.py (the rules are
core.permissions). Every endpoint reads and writes the caller's organization's books only: a caller
who may not view the books gets 403 whatever the id; an id of another organization's account or
entry is 404."""


import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from core import permissions
from core.errors import ErrorCode, InvalidInput
from core.jsonapi.auth import api_auth, client_ip
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import LimitOffsetNoCount, NewestFirstWindow
from core.jsonapi.schemas import MessageOut, StrictSchema
from core.jsonapi.types import Amount, FiatAmount, ObjectIdStr
from ledger import selectors, services
from ledger.models import AccountType, EntryStatus, JournalEntry
from wallets.models import Transaction

accounts_router = Router(tags=["chart of accounts"])
journal_entries_router = Router(tags=["journal entries"])

# The choices enums as the schema's Literal types (the OpenAPI lists the values).
AccountTypeIn = Literal[tuple(AccountType.values)]
EntryStatusIn = Literal[tuple(EntryStatus.values)]


# --- /api/accounts/ ----------------------------------------------------------------------------------

class AccountOut(Schema):
    id: ObjectIdStr
    account_code: str
    account_name: str
    account_type: str
    parent_account: str
    description: str
    is_active: bool
    currency: str
    system_key: str | None
    level: int = Field(description="depth in the account tree (0: top level)")
    balance: FiatAmount = Field(description="own balance from posted entries, on the account's normal side")
    rolled_up_balance: FiatAmount = Field(description="own balance plus every descendant's")
    created_at: dt.datetime
    updated_at: dt.datetime


class AccountDetailOut(AccountOut):
    debit_total: FiatAmount
    credit_total: FiatAmount
    as_of: dt.date | None
    children: list[str]


class AccountIn(StrictSchema):
    account_code: str = Field(min_length=1, max_length=32)
    account_name: str = Field(min_length=1, max_length=200)
    account_type: AccountTypeIn
    parent_account: str = Field("", max_length=32, description="the parent's account code")
    description: str = Field("", max_length=2000)
    is_active: bool = True
    currency: str = Field("", max_length=3, description="default: the reporting currency")


class AccountUpdateIn(StrictSchema):
    account_name: str | None = Field(None, min_length=1, max_length=200)
    account_type: AccountTypeIn | None = None
    parent_account: str | None = Field(None, max_length=32, description='"" makes it a top-level account')
    description: str | None = Field(None, max_length=2000)
    is_active: bool | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)


def _account_out(account, balances: dict) -> dict:
    info = balances[account.account_code]
    return {**{name: getattr(account, name) for name in (
        "id", "account_code", "account_name", "account_type", "parent_account", "description", "is_active",
        "currency", "system_key", "created_at", "updated_at")},
        **{name: info[name] for name in ("level", "balance", "rolled_up_balance", "debit_total", "credit_total")}}


def _require_books(request) -> None:
    permissions.require(permissions.can_view_books(request.user),
                        "The books are for accountants, managers and admins of the organization.")


def _account_detail(account, as_of=None) -> dict:
    organization_id = account.organization_id
    balances = selectors.account_balances([account], organization_id=organization_id, as_of=as_of)
    return {**_account_out(account, balances), "as_of": as_of,
            "children": selectors.account_children_codes(account.account_code, organization_id=organization_id)}


def _account(request, account_id):
    _require_books(request)
    return get_object_or_404(selectors.account_list_for(request.user), account_id)


class AccountsPagination(LimitOffsetNoCount):
    """The page's balances in three reads whatever its size (see selectors.account_balances)."""

    def paginate_queryset(self, queryset, pagination, request, **params):
        page = super().paginate_queryset(queryset, pagination, request, **params)
        balances = selectors.account_balances(page["items"], organization_id=request.user.organization_id)
        page["items"] = [_account_out(account, balances) for account in page["items"]]
        return page


@accounts_router.get("/", response=list[AccountOut], auth=api_auth,
                     summary="List chart of accounts (those who may view the books)")
@paginate(AccountsPagination)
def account_list(request, account_type: AccountTypeIn | None = None, is_active: bool | None = None,
                 parent_account: str | None = None):
    _require_books(request)
    return selectors.account_list_for(request.user, account_type=account_type, is_active=is_active,
                                      parent_account=parent_account)


@accounts_router.post("/", response={201: AccountDetailOut}, auth=api_auth,
                      summary="Create financial account (accountants, managers, admins)")
def account_create(request, payload: AccountIn):
    account = services.account_create(actor=request.user, **payload.dict())
    return Status(201, _account_detail(account))


@accounts_router.get("/{oid:account_id}/", response=AccountDetailOut, auth=api_auth,
                     summary="Get account details, with its balance (optionally as of a day)")
def account_detail(request, account_id: str, as_of: dt.date | None = None):
    return _account_detail(_account(request, account_id), as_of)


@accounts_router.put("/{oid:account_id}/", response=AccountDetailOut, auth=api_auth, summary="Update account")
def account_update(request, account_id: str, payload: AccountUpdateIn):
    account = _account(request, account_id)
    return _account_detail(services.account_update(actor=request.user, account=account, **payload.dict()))


@accounts_router.delete("/{oid:account_id}/", response=MessageOut, auth=api_auth,
                        summary="Delete an unused account (one with postings is deactivated instead)")
def account_delete(request, account_id: str):
    services.account_delete(actor=request.user, account=_account(request, account_id))
    return {"message": "Deleted."}


# --- /api/journal-entries/ ---------------------------------------------------------------------------

class LineOut(Schema):
    account_code: str
    description: str
    debit_amount: FiatAmount
    credit_amount: FiatAmount
    asset: str
    quantity: Amount | None


class EntryOut(Schema):
    id: ObjectIdStr
    entry_id: str | None = Field(description="JE-<year>-<number>, given at posting")
    date: dt.datetime
    description: str
    reference: str
    transaction_hash: str
    source_transaction_id: ObjectIdStr | None
    source_key: str | None
    total_debit: FiatAmount
    total_credit: FiatAmount
    currency: str
    status: str
    line_items: list[LineOut]
    created_by: str
    created_by_id: ObjectIdStr
    created_at: dt.datetime
    updated_at: dt.datetime
    posted_by: str | None
    posted_at: dt.datetime | None
    reversed_by: str | None
    reversed_at: dt.datetime | None
    reversal_of_id: ObjectIdStr | None
    reversal_entry_id: ObjectIdStr | None

    @staticmethod
    def resolve_created_by(obj):
        return obj.created_by.username

    @staticmethod
    def resolve_posted_by(obj):
        return obj.posted_by.username if obj.posted_by_id else None

    @staticmethod
    def resolve_reversed_by(obj):
        return obj.reversed_by.username if obj.reversed_by_id else None


class LineIn(StrictSchema):
    account_code: str = Field(min_length=1, max_length=32)
    description: str = Field("", max_length=500)
    debit_amount: Decimal | None = Field(None, max_digits=34)
    credit_amount: Decimal | None = Field(None, max_digits=34)
    asset: str = Field("", max_length=20, description="crypto asset lines: the asset symbol")
    quantity: Decimal | None = Field(None, gt=0, max_digits=34, description="crypto asset lines: units moved")


class EntryIn(StrictSchema):
    date: dt.datetime | dt.date
    description: str = Field(min_length=1, max_length=2000)
    reference: str = Field("", max_length=100)
    transaction_hash: str = Field("", max_length=66)
    currency: str = Field("", max_length=3, description="default: the reporting currency")
    line_items: list[LineIn] = Field(max_length=500)


class EntryCreateIn(EntryIn):
    source_transaction_id: ObjectIdStr | None = None
    source_key: str | None = Field(None, min_length=1, max_length=200)


class ReverseIn(StrictSchema):
    date: dt.datetime | dt.date | None = Field(None, description="default: now (never before the entry)")
    description: str = Field("", max_length=2000)


class TrialBalanceRowOut(Schema):
    account_code: str
    account_name: str
    account_type: str
    debit_total: FiatAmount
    credit_total: FiatAmount
    debit_balance: FiatAmount
    credit_balance: FiatAmount


class TrialBalanceOut(Schema):
    as_of: dt.date | None
    currency: str
    rows: list[TrialBalanceRowOut]
    total_debit: FiatAmount
    total_credit: FiatAmount
    total_debit_balance: FiatAmount
    total_credit_balance: FiatAmount
    is_balanced: bool


class LockDateOut(Schema):
    lock_date: dt.date | None
    updated_by: str | None
    updated_at: dt.datetime | None


class LockDateIn(StrictSchema):
    lock_date: dt.date | None


def _entry(request, entry_id):
    _require_books(request)
    return get_object_or_404(selectors.journal_entry_list_for(request.user), entry_id)


def _lines(payload: EntryIn) -> list[dict]:
    return [line.dict() for line in payload.line_items]


def _source_transaction(request, transaction_id):
    if transaction_id is None:
        return None
    # Any transaction of the caller's organization (those who work the books see them all).
    transaction = Transaction.objects.for_actor(request.user).filter(pk=transaction_id).first()
    if transaction is None:
        raise InvalidInput(ErrorCode.UNKNOWN_TRANSACTION, "No such transaction.", {"source_transaction_id": str(transaction_id)})
    return transaction


@journal_entries_router.get("/", response=list[EntryOut], auth=api_auth,
                            summary="List journal entries (those who may view the books)")
@paginate(NewestFirstWindow, date_field="date", scope=JournalEntry.time_index_scope)
def entry_list(request, status: EntryStatusIn | None = None,
               date_from: dt.date | None = None, date_to: dt.date | None = None,
               account_code: str | None = None, transaction_hash: str | None = None):
    _require_books(request)
    return selectors.journal_entry_list_for(request.user, status=status, date_from=date_from, date_to=date_to,
                                            account_code=account_code, transaction_hash=transaction_hash)


@journal_entries_router.post("/", response={201: EntryOut}, auth=api_auth,
                             summary="Create journal entry (a draft; accountants, managers, admins)")
def entry_create(request, payload: EntryCreateIn):
    permissions.require(permissions.can_work_books(request.user),
                        "Only those who work the books create journal entries.")
    if payload.source_key:
        # Source keys belong to the automatic journals: someone taking one would block them.
        permissions.require(permissions.can_post_entries(request.user), "Only managers and admins set a source key.")
    entry = services.journal_entry_create(
        created_by=request.user, date=payload.date, description=payload.description, line_items=_lines(payload),
        reference=payload.reference, transaction_hash=payload.transaction_hash, currency=payload.currency or None,
        source_transaction=_source_transaction(request, payload.source_transaction_id),
        source_key=payload.source_key)
    return Status(201, _entry(request, entry.pk))


@journal_entries_router.get("/trial-balance/", response=TrialBalanceOut, auth=api_auth,
                            summary="Trial balance of posted entries up to a day (those who may view the books)")
def trial_balance(request, as_of: dt.date | None = None, currency: str | None = None):
    _require_books(request)
    organization_id = request.user.organization_id
    return selectors.trial_balance(organization_id=organization_id, as_of=as_of,
                                   currency=services.currency_clean(currency) if currency else None)


def _lock_date_out(organization_id) -> dict:
    change = selectors.lock_date_last_change(organization_id=organization_id)
    return {"lock_date": selectors.lock_date_get(organization_id=organization_id),
            "updated_at": change.created_at if change is not None else None,
            "updated_by": (change.actor_username or None) if change is not None else None}


@journal_entries_router.get("/lock-date/", response=LockDateOut, auth=api_auth,
                            summary="The organization's lock date (those who may view the books)")
def lock_date_get(request):
    _require_books(request)
    return _lock_date_out(request.user.organization_id)


@journal_entries_router.put("/lock-date/", response=LockDateOut, auth=api_auth,
                            summary="Set the organization's lock date (admins): no entry on or before it is "
                                    "created, posted or reversed")
def lock_date_set(request, payload: LockDateIn):
    organization = services.ledger_lock_date_set(actor=request.user, lock_date=payload.lock_date,
                                                 ip=client_ip(request))
    return _lock_date_out(organization.pk)


@journal_entries_router.get("/{oid:entry_id}/", response=EntryOut, auth=api_auth, summary="Get journal entry details")
def entry_detail(request, entry_id: str):
    return _entry(request, entry_id)


@journal_entries_router.put("/{oid:entry_id}/", response=EntryOut, auth=api_auth,
                            summary="Update journal entry (drafts only)")
def entry_update(request, entry_id: str, payload: EntryIn):
    entry = services.journal_entry_update(
        entry=_entry(request, entry_id), actor=request.user, date=payload.date, description=payload.description,
        line_items=_lines(payload), reference=payload.reference, transaction_hash=payload.transaction_hash,
        currency=payload.currency or None)
    return _entry(request, entry.pk)


@journal_entries_router.delete("/{oid:entry_id}/", response=MessageOut, auth=api_auth,
                               summary="Delete journal entry (drafts only)")
def entry_delete(request, entry_id: str):
    services.journal_entry_delete(entry=_entry(request, entry_id), actor=request.user)
    return {"message": "Deleted."}


@journal_entries_router.post("/{oid:entry_id}/post/", response=EntryOut, auth=api_auth,
                             summary="Post journal entry (managers and admins): numbered and immutable")
def entry_post(request, entry_id: str):
    entry = services.journal_entry_post(entry=_entry(request, entry_id), actor=request.user)
    return _entry(request, entry.pk)


@journal_entries_router.post("/{oid:entry_id}/reverse/", response={201: EntryOut}, auth=api_auth,
                             summary="Reverse journal entry (managers and admins): returns the reversing entry")
def entry_reverse(request, entry_id: str, payload: ReverseIn = None):
    reversal = services.journal_entry_reverse(entry=_entry(request, entry_id), actor=request.user,
                                              date=payload.date if payload else None,
                                              description=payload.description if payload else "")
    return Status(201, _entry(request, reversal.pk))

