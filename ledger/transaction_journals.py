"""Automatic journals: every confirmed or imported transaction of an organization has exactly one
posted journal entry in that organization's books, kept in line with the transaction and with the
cost basis.

`transaction_journals_sync(organization=...)` rebuilds the organization's trades
(`ledger.tax_trades.tax_trades_for(organization)`: the transactions carry their organization),
matches lots over the whole history with the organization's cost-basis method and lot scope, plans
one entry per trade (ledger.journal_rules) and compares each plan with the entry in its books:
- no entry yet: a posted entry is created (source key `auto:<organization>:<trade key>#1`);
- same lines, date and description: nothing is written (a second sync writes nothing);
- different (the transaction's business fields changed, or an earlier change moved its cost basis):
  the entry is reversed and a new one posted (`#2`, `#3`, ...), so posted entries stay immutable;
- a trade that no longer books anything (deleted, or now an own transfer): its entry is reversed.
Entries in a period closed by the organization's lock date are left alone and reported. The source
key is unique in the organization, so two syncs racing cannot book a trade twice: the loser's create
answers duplicate_source_key and is skipped.

Data problems are visible, not blocking (issue 19): a trade the engine cannot cost (a row without
the fiat value it needs, a sale of more than is held, imported rows that are no one trade) is left
out (ledger.cost_basis.compute_skipping: each trade checked on its own, then the first trade in date
order that makes the history fail, again until it computes), everything else is booked, and the
problem is recorded per trade (ledger.models.BookingProblem, shown on /app/ledger/review/) until the
trade books again. A trade with a problem keeps the entry it had, if any.
The actor is the inactive system user; only the organization's own accounts are used (the crypto
asset accounts it lacks are made in its chart), and a transaction of another organization is never
booked here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection
from django.utils import timezone

from accounts.services import system_user_get
from core import change_marks
from core.errors import Conflict, ErrorCode
from core.models import Organization
from core.organizations import organization_day
from ledger import books_inputs
from ledger.cost_basis import InsufficientHoldings, TradeError, compute_skipping
from ledger.journal_rules import EntryPlan, JournalPlanError, plan_journals, rounded_lines
from ledger.models import BookingProblem, EntryStatus, JournalEntry
from ledger.selectors import organization_books
from ledger.services import (
    chart_account_get,
    crypto_asset_account_get_or_create,
    journal_entries_post_batch,
    journal_entry_create,
    journal_entry_reverse,
    line_as_dict,
)
from ledger.services.entries import TRANSACTION_HASH_RE
from ledger.tax_trades import tax_trades_for
from wallets.models import Transaction

logger = logging.getLogger(__name__)
POST_BATCH = 500  # new entries posted per transaction
SYNC_CONSUMER = "ledger.transaction_journals"
# A sync whose inputs' marks did not move still runs once this old (a mark lost to a crash between a
# commit and its bump, or a latest price that valued today's rows, is caught within a day).
FULL_SYNC_EVERY = dt.timedelta(hours=24)


@dataclass
class JournalSyncReport:
    created: int = 0
    reversed: int = 0
    unchanged: int = 0
    locked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "<trade key>: <reason>", also BookingProblem rows
    error: str = ""
    # True: the inputs' change marks had not moved since the last sync, so nothing was read.
    nothing_changed: bool = False

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _prefix(organization_id) -> str:
    return f"auto:{organization_id}:"


def _to_ms(moment):
    # MongoDB keeps dates to the millisecond.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _split_key(source_key: str) -> tuple[str, int]:
    key, _, version = source_key.rpartition("#")
    return key, int(version)


def _signature(lines) -> list[tuple]:
    """What makes two entries' lines the same, for stored lines and planned ones (line_as_dict form)."""
    return [(line["account_code"], Decimal(line["debit_amount"] or 0), Decimal(line["credit_amount"] or 0),
             line["asset"] or "", None if line["quantity"] is None else Decimal(line["quantity"]).normalize())
            for line in lines]


def _planned_lines(plan: EntryPlan, account_codes: dict[str, str]) -> list[dict]:
    return [{"account_code": account_codes[line.account], "debit_amount": line.debit or None,
             "credit_amount": line.credit or None, "asset": line.asset, "quantity": line.quantity,
             "description": line.description[:500]} for line in rounded_lines(plan)]


def _account_codes(plans: list[EntryPlan], organization_id) -> dict[str, str]:
    codes = {}
    for role in sorted({line.account for plan in plans for line in plan.lines}):
        if role.startswith("crypto:"):
            codes[role] = crypto_asset_account_get_or_create(symbol=role.split(":", 1)[1],
                                                             organization_id=organization_id).account_code
        else:
            codes[role] = chart_account_get(key=role, organization_id=organization_id).account_code
    return codes


def _organization_of(*, user=None, organization=None):
    if organization is not None:
        return organization
    if user is None:
        raise ValueError("sync the journals of which organization? (organization= or user=)")
    if user.organization_id is None:
        return None
    return Organization.objects.filter(pk=user.organization_id).first()


def _foreign(sources: list, organization_id) -> bool:
    return any(getattr(tx, "organization_id", None) is not None and str(tx.organization_id) != str(organization_id)
               for tx in sources)


def _input_marks(organization_id) -> dict[str, int]:
    return change_marks.marks_read(organization_id=organization_id, topics=books_inputs.TOPICS,
                                   installation_topics=books_inputs.INSTALLATION_TOPICS)


def transaction_journals_sync(*, organization=None, user=None, only_if_changed: bool = False) -> JournalSyncReport:
    """Sync the automatic journals of `organization` (or of `user`'s organization).

    `only_if_changed`: return at once (`nothing_changed`) when no input of the books moved since the
    last sync (ledger.books_inputs) and that sync is younger than FULL_SYNC_EVERY."""
    report = JournalSyncReport()
    organization = _organization_of(user=user, organization=organization)
    if organization is None:
        report.error = "no organization: nothing to book"
        return report
    organization_id = organization.pk
    # Read before the data, so the marks recorded below are never newer than what was booked.
    marks = _input_marks(organization_id)
    if only_if_changed:
        seen, at = change_marks.seen_get(organization_id=organization_id, consumer=SYNC_CONSUMER)
        if seen == marks and at is not None and timezone.now() - at < FULL_SYNC_EVERY:
            report.nothing_changed = True
            return report
    _sync(organization, report)
    change_marks.seen_record(organization_id=organization_id, consumer=SYNC_CONSUMER, marks=marks)
    return report


def _sync(organization, report: JournalSyncReport) -> None:
    organization_id = organization.pk
    prefix = _prefix(organization_id)
    tax_input = tax_trades_for(organization, skip_bad=True)
    trades = [dataclasses.replace(trade, ref=key) for trade, key in zip(tax_input.trades, tax_input.keys)]
    method = organization.cost_basis_method
    scope = "all" if method == "uk" else organization.cost_basis_lot_scope
    # Data problems are visible, not blocking: a trade that cannot be costed is left out (and
    # recorded), everything else of the organization is booked.
    problems = {problem.key: (problem.sources, _reason(problem.reason, tax_input.fiat))
                for problem in tax_input.problems}
    try:
        result, skipped = compute_skipping(trades, method=method, fiat=tax_input.fiat, lot_scope=scope)
        for index in skipped:
            problems[tax_input.keys[index]] = (tax_input.sources[index], _reason(skipped[index], tax_input.fiat))
        kept = [index for index in range(len(trades)) if index not in skipped]
        plans = plan_journals([trades[i] for i in kept], [tax_input.keys[i] for i in kept], result)
    except (TradeError, InsufficientHoldings, JournalPlanError) as exc:
        # What is left (a bad method or lot scope, plans that disagree with the engine) ends here, as
        # the sync's report: nothing is booked for a history the engines refuse.
        report.error = str(exc)
        logger.warning("journals of organization %s not synced: %s", organization_id, exc)
        return
    booking_problems_record(organization_id, problems)
    report.problems = [f"{key}: {reason}" for key, (_, reason) in sorted(problems.items())]
    sources = dict(zip(tax_input.keys, tax_input.sources))
    foreign = [plan.key for plan in plans if _foreign(sources[plan.key], organization_id)]
    if foreign:  # the books of one organization never hold another's transactions
        report.skipped.extend(f"{key}: a transaction of another organization" for key in foreign)
        plans = [plan for plan in plans if plan.key not in set(foreign)]
    codes = _account_codes(plans, organization_id)
    system = system_user_get()

    current: dict[str, JournalEntry] = {}
    versions: dict[str, int] = {}
    for entry in JournalEntry.objects.for_organization(organization_id).filter(source_key__startswith=prefix).only(
            "organization", "source_key", "status", "date", "description", "line_items", "entry_id", "reversal_of",
            "currency"):
        key, version = _split_key(entry.source_key[len(prefix):])
        versions[key] = max(versions.get(key, 0), version)
        if entry.status == EntryStatus.POSTED:
            current[key] = entry

    planned_keys = set()
    to_create: list[dict] = []
    books = organization_books(organization_id) or organization  # its calendar and lock date, read now
    lock_date = books.lock_date
    for plan in plans:
        planned_keys.add(plan.key)
        lines = _planned_lines(plan, codes)
        entry = current.get(plan.key)
        description = plan.description[:2000]
        if entry is not None and _signature(map(line_as_dict, entry.line_items)) == _signature(lines) \
                and _to_ms(entry.date) == _to_ms(plan.trade.date) and entry.description == description:
            report.unchanged += 1
            continue
        if lock_date is not None and organization_day(books, plan.trade.date) <= lock_date:
            report.locked.append(plan.key)
            continue
        if entry is not None and not _reverse(entry, system, report):
            continue
        source = sources[plan.key][0]
        tx_hash = (source.hash or "").lower()
        to_create.append(dict(
            date=plan.trade.date, description=description, line_items=lines, reference=plan.kind,
            transaction_hash=tx_hash if TRANSACTION_HASH_RE.match(tx_hash) else "", currency=tax_input.fiat,
            source_transaction=source, source_key=f"{prefix}{plan.key}#{versions.get(plan.key, 0) + 1}"))
    for first in range(0, len(to_create), POST_BATCH):
        _create(to_create[first:first + POST_BATCH], system, organization_id, report)
    for key, entry in current.items():
        # A trade with a problem keeps its entry as booked until it books again (as before the
        # problem); a trade that no longer books anything has its entry reversed.
        if key not in planned_keys and key not in problems:
            _reverse(entry, system, report)


def _reason(message: str, fiat: str) -> str:
    """The engine's message for people: without its "trade #n ref=..." prefix (the review page shows
    the transaction), and saying so when what is missing is the row's value."""
    message = re.sub(r"^trade #\d+(?: ref='[^']*')?: ", "", message)
    if re.search(rf"'{re.escape(fiat)}' has no (?:sent|received)_amount|needs net_worth", message):
        message = f"No value in {fiat}: give its price, or store a price of its day ({message})."
    return message


def booking_problems_record(organization_id, problems: dict[str, tuple[list, str]]) -> None:
    """The organization's booking problems are exactly `problems` (trade key -> (its stored
    transactions, reason)) after this: new ones inserted, those met again refreshed (`last_seen`,
    reason, transaction; `first_seen` kept), the others (booked again, or gone) deleted."""
    now = timezone.now()
    scoped = BookingProblem.objects.for_organization(organization_id)
    known = {p.trade_key: p for p in scoped.only("trade_key", "reason", "transaction")}
    gone = [key for key in known if key not in problems]
    if gone:
        scoped.filter(trade_key__in=gone).delete()
    seen_again = [key for key in problems if key in known]
    if seen_again:
        scoped.filter(trade_key__in=seen_again).update(last_seen=now)
    for key in seen_again:
        sources, reason = problems[key]
        transaction_id = sources[0].pk if sources else None
        if known[key].reason != reason or known[key].transaction_id != transaction_id:
            scoped.filter(pk=known[key].pk).update(reason=reason, transaction_id=transaction_id)
    for key, (sources, reason) in problems.items():
        if key in known:
            continue
        try:
            BookingProblem.objects.create(organization_id=organization_id, trade_key=key, reason=reason,
                                          transaction_id=sources[0].pk if sources else None, first_seen=now,
                                          last_seen=now)
        except IntegrityError:  # a concurrent sync recorded it first: refresh it
            scoped.filter(trade_key=key).update(reason=reason, last_seen=now)


def _create(specs: list[dict], system, organization_id, report: JournalSyncReport) -> None:
    """Post a batch in one transaction; if it cannot go as one (a concurrent sync booked one of
    them first), post them one by one and skip what is already booked."""
    try:
        journal_entries_post_batch(created_by=system, entries=specs, organization_id=organization_id)
        report.created += len(specs)
        return
    except Conflict as exc:
        if exc.code != ErrorCode.DUPLICATE_SOURCE_KEY:
            raise
    for spec in specs:
        try:
            journal_entry_create(created_by=system, post=True, organization_id=organization_id, **spec)
            report.created += 1
        except Conflict as exc:
            if exc.code == ErrorCode.DUPLICATE_SOURCE_KEY:
                report.skipped.append(f"{spec['source_key']}: booked by a concurrent sync")
            elif exc.code == ErrorCode.PERIOD_LOCKED:
                report.locked.append(spec["source_key"])
            else:
                raise


def _reverse(entry: JournalEntry, system, report: JournalSyncReport) -> bool:
    try:
        journal_entry_reverse(entry=entry, actor=system,
                              description=f"Automatic correction of {entry.entry_id}: {entry.description}"[:1000])
    except Conflict as exc:
        if exc.code == ErrorCode.PERIOD_LOCKED:
            report.locked.append(entry.source_key)
            return False
        if exc.code == ErrorCode.ENTRY_ALREADY_REVERSED:
            report.skipped.append(f"{entry.source_key}: reversed by a concurrent sync")
            return True
        raise
    report.reversed += 1
    return True


def organizations_with_transactions():
    """The organizations whose transactions are stored (one distinct over the transactions)."""
    ids = [oid for oid in connection.get_collection(Transaction._meta.db_table).distinct("organization_id") if oid]
    return Organization.objects.filter(pk__in=ids).order_by("name", "pk")


def transaction_journals_sync_all(*, only_if_changed: bool = False) -> dict:
    """Every organization with transactions, each in its own books. `only_if_changed` (the frequent
    periodic catch-up): only the organizations whose books' inputs were ever marked, each skipped at
    once when its marks did not move (one read of the small marks collection, none of the data);
    without it (the daily pass), every organization with stored transactions, in full."""
    totals = {"organizations": 0, "created": 0, "reversed": 0, "problems": 0, "errors": 0, "unchanged": 0}
    if only_if_changed:
        marked = change_marks.organizations_marked(topics=books_inputs.TOPICS)
        organizations = Organization.objects.filter(pk__in=sorted(marked)).order_by("name", "pk") if marked else []
    else:
        organizations = organizations_with_transactions()
    for organization in organizations:
        report = transaction_journals_sync(organization=organization, only_if_changed=only_if_changed)
        totals["organizations"] += 1
        totals["unchanged"] += report.nothing_changed
        totals["created"] += report.created
        totals["reversed"] += report.reversed
        totals["problems"] += len(report.problems)
        totals["errors"] += bool(report.error)
    return totals
