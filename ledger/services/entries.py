"""Journal entries: drafts (created, changed and deleted by those who work the books), posting (a
manager's approval: numbered, immutable), reversal, and the automatic journals' batches (the system
for the organization it names). Every entry obeys the rules of ledger.double_entry, uses active
accounts of its organization's chart in its currency, and stays out of the period closed by the lock
date. Days are the organization's calendar days (core.organizations): a date-only entry date is the
start of that day in the organization's time zone, and an entry's day (its lock-date check, its
number's year) is read in that zone. Each service reads its organization's calendar, lock date and
reporting fiat in one query (ledger.selectors.organization_books)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal

from django.db import DatabaseError, IntegrityError
from django.utils import timezone

from core import permissions
from core.errors import Conflict, DomainError, ErrorCode, InvalidInput, NotFound
from core.organizations import organization_day, organization_moment
from core.realtime import Audience, organization_group, publish
from core.transactions import in_transaction
from ledger import selectors
from ledger.double_entry import EntryRuleError, lines_reversed, lines_validate
from ledger.models import EntryStatus, FinancialAccount, JournalEntry, JournalLine
from ledger.services.chart import accounts_of, currency_clean
from ledger.services.lock_date import check_lock_date
from ledger.services.numbering import bump_counter, counter_ensure, next_entry_number, year_key

logger = logging.getLogger(__name__)

TRANSACTION_HASH_RE = re.compile(r"^0x[0-9a-f]{64}$")
POST_REFUSED = "Only managers and admins post entries."


def line_as_dict(line: JournalLine) -> dict:
    return {"account_code": line.account_code, "description": line.description,
            "debit_amount": line.debit_amount, "credit_amount": line.credit_amount, "asset": line.asset,
            "quantity": line.quantity}


def _books_of(organization_id):
    """The organization's calendar, lock date and reporting fiat, in one read."""
    books = selectors.organization_books(organization_id)
    if books is None:
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    return books


def _entry_datetime(value, books) -> dt.datetime:
    """An entry's instant: a date is the start of that day on the organization's calendar."""
    if isinstance(value, (dt.datetime, dt.date)):
        return organization_moment(books, value)
    raise InvalidInput(ErrorCode.INVALID_DATE, "An entry needs a date.")


def _entry_day(moment: dt.datetime, books) -> dt.date:
    """An entry's day on the organization's calendar (its lock-date check, its number's year)."""
    return organization_day(books, moment)


def _lines_validate(line_items):
    """ledger.double_entry's rules; its EntryRuleError becomes the domain's InvalidInput here, the one
    place the ledger calls that engine on input (its codes, e.g. "unbalanced", pass through)."""
    try:
        return lines_validate(line_items)
    except EntryRuleError as exc:
        raise InvalidInput(exc.code, exc.message, exc.details) from None


def _validated_lines(line_items, *, organization_id, currency: str,
                     accounts: dict[str, FinancialAccount] | None = None) -> tuple[list[JournalLine], Decimal, Decimal]:
    """The rules of ledger.double_entry, plus: every account exists in the organization's chart, is
    active and is in the entry's currency (`accounts`: the chart already read, by code, for a batch)."""
    lines, total_debit, total_credit = _lines_validate(line_items)
    codes = sorted({line["account_code"] for line in lines})
    if accounts is None:
        accounts = {a.account_code: a for a in accounts_of(organization_id).filter(account_code__in=codes)}
    unknown = [code for code in codes if code not in accounts]
    if unknown:
        raise InvalidInput(ErrorCode.UNKNOWN_ACCOUNT, f"No such account: {', '.join(unknown)}.",
                           {"account_codes": unknown})
    inactive = [code for code in codes if not accounts[code].is_active]
    if inactive:
        raise InvalidInput(ErrorCode.INACTIVE_ACCOUNT, f"Inactive account: {', '.join(inactive)}.",
                           {"account_codes": inactive})
    foreign = [code for code in codes if accounts[code].currency != currency]
    if foreign:
        raise InvalidInput(ErrorCode.CURRENCY_MISMATCH,
                           f"Account in another currency than {currency}: {', '.join(foreign)}.",
                           {"account_codes": foreign})
    return [JournalLine(**line) for line in lines], total_debit, total_credit


def _clean_header(*, date, description: str, reference: str, transaction_hash: str, currency: str | None,
                  books):
    moment = _entry_datetime(date, books)
    description = (description or "").strip()
    if not description:
        raise InvalidInput(ErrorCode.INVALID_DESCRIPTION, "An entry needs a description.")
    transaction_hash = (transaction_hash or "").strip().lower()
    if transaction_hash and not TRANSACTION_HASH_RE.match(transaction_hash):
        raise InvalidInput(ErrorCode.INVALID_TRANSACTION_HASH,
                           "A transaction hash is 0x and 64 hexadecimal characters.")
    return (moment, description, (reference or "").strip()[:100], transaction_hash,
            currency_clean(currency, default=books.reporting_fiat))


def _check_source_transaction(source_transaction, organization_id) -> None:
    """An entry links only a transaction of its own organization."""
    if source_transaction is None:
        return
    owner = getattr(source_transaction, "organization_id", None)
    if owner is not None and str(owner) != str(organization_id):
        raise InvalidInput(ErrorCode.UNKNOWN_TRANSACTION, "No such transaction.",
                           {"source_transaction_id": str(source_transaction.pk)})


def _pk_of(source_transaction):
    """The linked transaction's id: a model instance or a history row (wallets.transaction_rows) alike."""
    return None if source_transaction is None else source_transaction.pk


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
        organization_id = permissions.acting_organization_id(created_by, permissions.can_post_entries,
                                                             organization_id, refused=POST_REFUSED)
    else:
        organization_id = permissions.acting_organization_id(
            created_by, permissions.can_work_books, organization_id,
            refused="Only those who work the books create journal entries.")
    books = _books_of(organization_id)
    moment, description, reference, transaction_hash, currency = _clean_header(
        date=date, description=description, reference=reference, transaction_hash=transaction_hash,
        currency=currency, books=books)
    lines, total_debit, total_credit = _validated_lines(line_items, organization_id=organization_id,
                                                        currency=currency)
    check_lock_date(books.lock_date, _entry_day(moment, books), "create")
    _check_source_transaction(source_transaction, organization_id)
    source_key = (source_key or "").strip()[:200] or None
    entry = JournalEntry(organization_id=organization_id, date=moment, description=description,
                         reference=reference, transaction_hash=transaction_hash, currency=currency,
                         line_items=lines, total_debit=total_debit, total_credit=total_credit,
                         created_by=created_by, source_transaction_id=_pk_of(source_transaction), source_key=source_key)
    try:
        if not post:
            entry.save()
            return entry
        year = _entry_day(moment, books).year
        counter_ensure(organization_id, year)

        def create_posted():
            entry.pk = None
            entry.entry_id = next_entry_number(organization_id, year)
            entry.status, entry.posted_by, entry.posted_at = EntryStatus.POSTED, created_by, timezone.now()
            entry.save(force_insert=True)
            _publish_entry_event("ledger.entry_posted", entry)
            return entry

        return in_transaction(create_posted)
    except IntegrityError:
        if source_key and JournalEntry.objects.for_organization(organization_id).filter(source_key=source_key).exists():
            raise Conflict(ErrorCode.DUPLICATE_SOURCE_KEY, "An entry for this source already exists.",
                           {"source_key": source_key}) from None
        raise


def journal_entries_post_batch(*, created_by, entries: list[dict], organization_id=None) -> list[JournalEntry]:
    """Create and post many entries of one organization in one transaction (the automatic journals):
    each entry is validated like journal_entry_create's (dicts of its keyword arguments), then every
    year's numbers are taken in one increment and the entries inserted together, so the numbers stay
    consecutive and gap-free. Any problem (a rule, the lock date, a source key already used) writes
    nothing."""
    organization_id = permissions.acting_organization_id(created_by, permissions.can_post_entries, organization_id,
                                                         refused=POST_REFUSED)
    if not entries:
        return []
    codes = {line["account_code"] for spec in entries for line in spec["line_items"]}
    accounts = {a.account_code: a for a in accounts_of(organization_id).filter(account_code__in=sorted(codes))}
    books = _books_of(organization_id)
    built: list[JournalEntry] = []
    for spec in entries:
        moment, description, reference, transaction_hash, currency = _clean_header(
            date=spec["date"], description=spec["description"], reference=spec.get("reference", ""),
            transaction_hash=spec.get("transaction_hash", ""), currency=spec.get("currency"), books=books)
        lines, total_debit, total_credit = _validated_lines(spec["line_items"], organization_id=organization_id,
                                                            currency=currency, accounts=accounts)
        check_lock_date(books.lock_date, _entry_day(moment, books), "create")
        _check_source_transaction(spec.get("source_transaction"), organization_id)
        built.append(JournalEntry(
            organization_id=organization_id, date=moment, description=description, reference=reference,
            transaction_hash=transaction_hash, currency=currency, line_items=lines, total_debit=total_debit,
            total_credit=total_credit, created_by=created_by, source_transaction_id=_pk_of(spec.get("source_transaction")),
            source_key=(spec.get("source_key") or "").strip()[:200] or None, status=EntryStatus.POSTED,
            posted_by=created_by))
    by_year: dict[int, list[JournalEntry]] = {}
    for entry in sorted(built, key=lambda e: e.date):
        by_year.setdefault(_entry_day(entry.date, books).year, []).append(entry)
    for year in by_year:
        counter_ensure(organization_id, year)

    def create_posted():
        now = timezone.now()
        for year, group in by_year.items():
            last = bump_counter(organization_id, year_key(year), len(group))
            for number, entry in enumerate(group, start=last - len(group) + 1):
                entry.pk, entry.entry_id, entry.posted_at = None, f"{year_key(year)}-{number:06d}", now
        JournalEntry.objects.bulk_create(built)
        return built

    try:
        created = in_transaction(create_posted)
    except DatabaseError:  # IntegrityError included: a duplicate key fails the bulk insert
        keys = [entry.source_key for entry in built if entry.source_key]
        if keys and JournalEntry.objects.for_organization(organization_id).filter(source_key__in=keys).exists():
            raise Conflict(ErrorCode.DUPLICATE_SOURCE_KEY,
                           "An entry for one of these sources already exists.") from None
        raise
    publish(organization_group(organization_id, Audience.BOOKS), "ledger.entries_posted",
            {"count": len(created), "first": created[0].entry_id, "last": created[-1].entry_id})
    return created


def _not_draft_error(entry: JournalEntry) -> DomainError:
    current = JournalEntry.objects.for_organization(entry.organization_id).filter(pk=entry.pk).only(
        "status", "entry_id").first()
    if current is None:
        return NotFound(ErrorCode.NOT_FOUND, "Not found.")
    return Conflict(ErrorCode.ENTRY_NOT_DRAFT, f"The entry is {current.status}: only drafts change.",
                    {"status": current.status, "entry_id": current.entry_id})


def _check_may_edit(entry: JournalEntry, actor) -> None:
    """Drafts are worked by those who work the books (403), in their own organization (404)."""
    permissions.acting_organization_id(actor, permissions.can_work_books, entry.organization_id,
                                       refused="Only those who work the books change journal entries.",
                                       system_allowed=False)


def journal_entry_update(*, entry: JournalEntry, actor, date, description: str, line_items, reference: str = "",
                         transaction_hash: str = "", currency: str | None = None) -> JournalEntry:
    """Replace a draft's content. A conditional write (status still draft) so a post that lands
    first wins and this answers 409."""
    _check_may_edit(entry, actor)
    if entry.status != EntryStatus.DRAFT:
        raise _not_draft_error(entry)
    organization_id = entry.organization_id
    books = _books_of(organization_id)
    moment, description, reference, transaction_hash, currency = _clean_header(
        date=date, description=description, reference=reference, transaction_hash=transaction_hash,
        currency=currency, books=books)
    lines, total_debit, total_credit = _validated_lines(line_items, organization_id=organization_id,
                                                        currency=currency)
    check_lock_date(books.lock_date, _entry_day(moment, books), "date")
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
    organization_id = permissions.acting_organization_id(actor, permissions.can_post_entries, entry.organization_id,
                                                         refused=POST_REFUSED)
    if entry.status != EntryStatus.DRAFT:
        raise _not_draft_error(entry)
    _validated_lines([line_as_dict(line) for line in entry.line_items], organization_id=organization_id,
                     currency=entry.currency)
    books = _books_of(organization_id)
    day = _entry_day(entry.date, books)
    check_lock_date(books.lock_date, day, "post")
    counter_ensure(organization_id, day.year)

    def post():
        entry_id = next_entry_number(organization_id, day.year)
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


def journal_entry_reverse(*, entry: JournalEntry, actor, date=None, description: str = "") -> JournalEntry:
    """Cancel a posted entry: a new posted entry with every line's sides swapped, linked both ways,
    and the original marked reversed, all in one transaction. Returns the reversing entry."""
    organization_id = permissions.acting_organization_id(actor, permissions.can_post_entries, entry.organization_id,
                                                         refused="Only managers and admins reverse entries.")
    if entry.status == EntryStatus.DRAFT:
        raise Conflict(ErrorCode.ENTRY_NOT_POSTED, "A draft is not in the books: edit or delete it instead.")
    if entry.status == EntryStatus.REVERSED:
        raise Conflict(ErrorCode.ENTRY_ALREADY_REVERSED, f"{entry.entry_id} is already reversed.",
                       {"entry_id": entry.entry_id})
    if entry.reversal_of_id is not None:
        raise Conflict(ErrorCode.ENTRY_IS_REVERSAL,
                       f"{entry.entry_id} is itself a reversal; post a new entry instead.")
    books = _books_of(organization_id)
    moment = max(timezone.now(), entry.date) if date is None else _entry_datetime(date, books)
    if moment < entry.date:
        raise InvalidInput(ErrorCode.INVALID_DATE, "A reversal cannot be dated before the entry it reverses.")
    check_lock_date(books.lock_date, _entry_day(entry.date, books), "reverse")
    check_lock_date(books.lock_date, _entry_day(moment, books), "date a reversal as")
    day = _entry_day(moment, books)
    counter_ensure(organization_id, day.year)
    lines = [JournalLine(**line) for line in lines_reversed([line_as_dict(line) for line in entry.line_items])]
    text = (description or "").strip() or f"Reversal of {entry.entry_id}: {entry.description}"[:1000]

    def reverse():
        now = timezone.now()
        reversal = JournalEntry(
            organization_id=organization_id, entry_id=next_entry_number(organization_id, day.year), date=moment,
            description=text, reference=entry.reference, transaction_hash=entry.transaction_hash,
            currency=entry.currency, line_items=lines, total_debit=entry.total_credit,
            total_credit=entry.total_debit, status=EntryStatus.POSTED, created_by=actor, posted_by=actor,
            posted_at=now, reversal_of=entry, source_transaction_id=entry.source_transaction_id)
        reversal.save(force_insert=True)
        changed = JournalEntry.objects.for_organization(organization_id).filter(
            pk=entry.pk, status=EntryStatus.POSTED).update(
            status=EntryStatus.REVERSED, reversed_by=actor, reversed_at=now, reversal_entry=reversal, updated_at=now)
        if not changed:
            raise Conflict(ErrorCode.ENTRY_ALREADY_REVERSED, "The entry was reversed a moment ago.")
        entry.status, entry.reversed_by, entry.reversed_at, entry.reversal_entry = \
            EntryStatus.REVERSED, actor, now, reversal
        _publish_entry_event("ledger.entry_reversed", entry)
        return reversal

    try:
        reversal = in_transaction(reverse)
    except IntegrityError:
        # The unique reversal_of: a reversal committed by someone else between our check and our write.
        raise Conflict(ErrorCode.ENTRY_ALREADY_REVERSED, "The entry was reversed a moment ago.") from None
    logger.info("journal entry reversed id=%s by=%s reversal=%s", entry.pk, actor.pk, reversal.entry_id)
    return reversal
