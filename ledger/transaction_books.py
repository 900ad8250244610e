"""The books of one transaction (the transactions page's drawer, issue 11): the journal entries that
book it and what the cost-basis engine made of it. Reads only.

- The trade: the organization's stored transactions rebuilt as the engine's trades
  (`ledger.tax_trades.tax_trades_for`, the one mapping the automatic journals and the tax reports
  read); the transaction's trade is the one whose sources hold it (an imported swap's parts and an
  own transfer's two halves are one trade).
- The entries: the automatic journal's versions of that trade (source key
  `auto:<organization>:<trade key>#n`, ledger.transaction_journals), newest first, and any other
  entry of the organization naming the transaction's hash (a manual entry).
- The cost basis: the engine over the whole history with the organization's method and lot scope,
  trades referenced by their keys, exactly as the journal sync computes it
  (`ledger.transaction_journals._sync`, whose disposal and income lines come from the same figures):
  the trade's disposals (proceeds, cost basis, gain, the lots matched), the lots it opened that are
  still open, its income and its removals; or why the engine could not cost it.

Only for those who may view the books (core.permissions.can_view_books); the transaction must be one
the actor may see (the caller read it through wallets.selectors.transaction_get_for)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from core import permissions
from core.memo import RecentResults
from ledger import books_inputs
from ledger.cost_basis import TradeError, compute_skipping
from ledger.models import EntryStatus, JournalEntry
from ledger.selectors import journal_entry_list_for, organization_books
from ledger.tax_trades import tax_trades_for
from ledger.transaction_journals import _prefix

ENTRIES_SHOWN = 10


@dataclass
class TransactionBooks:
    trade_key: str = ""
    entries: list[JournalEntry] = field(default_factory=list)
    method: str = ""
    fiat: str = ""
    disposals: list = field(default_factory=list)  # ledger.cost_basis.Disposal
    open_lots: list = field(default_factory=list)  # ledger.cost_basis.Lot
    income: list = field(default_factory=list)  # ledger.cost_basis.IncomeEvent
    removals: list = field(default_factory=list)  # ledger.cost_basis.Removal
    problem: str = ""  # why the engine could not cost the trade (or why it is no trade)
    not_counted: str = ""  # why the transaction is in no trade (pending, failed)

    @property
    def current_entry(self) -> JournalEntry | None:
        """The posted entry that books it now (the newest automatic one not reversed), if any."""
        return next((entry for entry in self.entries if entry.status == EntryStatus.POSTED
                     and entry.source_key), None)


def transaction_books_for(actor, transaction) -> TransactionBooks:
    permissions.require(permissions.can_view_books(actor), "The books are for accountants, managers and admins.")
    permissions.require_own(actor, transaction)
    organization = organization_books(transaction.organization_id)
    books = TransactionBooks(method=organization.cost_basis_method, fiat=organization.reporting_fiat)
    history = _remembered.get_or_compute(books_inputs.inputs_fingerprint(organization.pk),
                                         lambda: _history(organization))
    tax_input = history.tax_input
    index = history.trade_of.get(transaction.pk)
    problem = history.problem_of.get(transaction.pk)
    if index is not None:
        books.trade_key = tax_input.keys[index]
    elif problem is not None:
        books.trade_key, books.problem = problem.key, problem.reason
    elif transaction.status != "CONFIRMED":
        books.not_counted = f"A {transaction.get_status_display().lower()} transaction is not in the books."
    books.entries = _entries(actor, transaction, books.trade_key)
    if index is None:
        return books
    if history.refused:  # the organization's method or lot scope itself is refused
        books.problem = history.refused
        return books
    result, skipped = history.result, history.skipped
    if index in skipped:
        books.problem = skipped[index]
        return books
    key = books.trade_key
    books.disposals = [d for d in result.disposals if d.ref == key]
    books.open_lots = [lot for lot in result.open_lots if lot.ref == key]
    books.income = [event for event in result.income if event.ref == key]
    books.removals = [removal for removal in result.removals if removal.ref == key]
    return books


# --- the organization's history, costed once while its inputs stand still ---------------------------
# Opening a drawer at 100k rows would otherwise read and cost the whole history each time (core.memo;
# the key is ledger.books_inputs.inputs_fingerprint: change marks and row counts).
_remembered = RecentResults(seconds=600, entries=4)


@dataclass
class _CostedHistory:
    tax_input: object
    trade_of: dict  # transaction id -> index of its trade
    problem_of: dict  # transaction id -> the tax_trades problem it is part of
    result: object = None
    skipped: dict = field(default_factory=dict)
    refused: str = ""


def _history(organization) -> _CostedHistory:
    tax_input = tax_trades_for(organization, skip_bad=True)
    history = _CostedHistory(
        tax_input=tax_input,
        trade_of={tx.pk: n for n, sources in enumerate(tax_input.sources) for tx in sources},
        problem_of={tx.pk: problem for problem in tax_input.problems for tx in problem.sources})
    method = organization.cost_basis_method
    scope = "all" if method == "uk" else organization.cost_basis_lot_scope
    trades = [dataclasses.replace(trade, ref=key) for trade, key in zip(tax_input.trades, tax_input.keys)]
    try:
        history.result, history.skipped = compute_skipping(trades, method=method, fiat=tax_input.fiat,
                                                           lot_scope=scope)
    except TradeError as exc:
        history.refused = str(exc)
    return history


def _entries(actor, transaction, trade_key: str) -> list[JournalEntry]:
    queryset = journal_entry_list_for(actor)
    automatic = []
    if trade_key:
        prefix = f"{_prefix(transaction.organization_id)}{trade_key}#"
        automatic = list(queryset.filter(source_key__startswith=prefix)[:ENTRIES_SHOWN])
        automatic.sort(key=lambda entry: int(entry.source_key.rpartition("#")[2] or 0), reverse=True)
    manual = []
    if transaction.hash:
        seen = {entry.pk for entry in automatic}
        manual = [entry for entry in queryset.filter(transaction_hash=transaction.hash)[:ENTRIES_SHOWN]
                  if entry.pk not in seen and not (entry.source_key or "").startswith(_prefix(transaction.organization_id))]
    return automatic + manual
