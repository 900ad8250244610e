"""Whole histories of transactions read as light rows, not model instances (issue 17).

The books' readers (the tax trades, the automatic journals, the portfolio, the analytics) go over every
confirmed transaction of an organization. `transaction_rows(queryset)` reads the queryset's documents
straight from the driver (core.mongodb.raw_read) and gives `TransactionRow`s: the model's attribute
names and values (`pk`, `wallet_id`, Decimals, aware datetimes) for every field but `NOT_READ` (dropped
as each document arrives), with `.wallet` and `.cryptocurrency` as the model instances (each read once
for the whole history).
A row is read-only data: it is never saved; a writer that needs the row's transaction uses its `pk`.
`transaction_row_windows` reads a history too large to hold at once in date order, window by window.
"""

from __future__ import annotations

from collections.abc import Iterator

from core.mongodb.raw_read import FieldReader, queryset_documents
from core.windows import oldest_first_windows
from wallets.models import Cryptocurrency, Transaction, Wallet

# Transaction fields no reader of a whole history needs (a third of a document): dropped on arrival.
NOT_READ = frozenset({
    "description", "ai_description", "ai_subcategory", "ai_confidence", "business_purpose", "gas_price",
    "gas_used", "eth_usd_rate", "rate_timestamp", "created_at", "updated_at", "price_at_transaction",
    "block_number", "is_classified", "is_business_expense"})

_READER = FieldReader(Transaction, [field.name for field in Transaction._meta.concrete_fields
                                     if field.name not in NOT_READ])


class TransactionRow:
    """One stored transaction's fields (those read), as attributes named like the model's."""

    wallet: Wallet | None
    cryptocurrency: Cryptocurrency

    @property
    def pk(self):
        return self.id

    def __repr__(self) -> str:
        return f"<TransactionRow {self.id} {self.transaction_type} {self.amount}>"


def transaction_rows(queryset) -> list[TransactionRow]:
    """Every transaction `queryset` selects (a plain filter of Transaction, scoped by the caller), in no
    particular order."""
    return _RowMaker().rows(queryset_documents(queryset))


# Rows per window of a history read in windows. Measured on 130k documents (bench/README.md): 10k
# rows a window was the fastest (18.8 s; 20k: 21.5 s, 5k: 20.8 s), its peak 344 MB (20k: 452 MB).
ROWS_PER_WINDOW = 10000


def transaction_row_windows(queryset, *, organization_id,
                            rows_per_window: int | None = None) -> Iterator[list[TransactionRow]]:
    """Every transaction `queryset` selects (one organization's, scoped by the caller) in date order
    (ties: by id), as successive lists of about `rows_per_window` rows (default: ROWS_PER_WINDOW): each
    list is one window of dates (whole days) and every row of a window is older than every row of the
    next (core.windows). At most three windows are held at once."""
    maker = _RowMaker()
    for documents in oldest_first_windows(queryset, date_field=Transaction.time_index_field,
                                          scope=Transaction.time_index_scope, owner_id=organization_id,
                                          rows=rows_per_window or ROWS_PER_WINDOW):
        window = maker.rows(documents)
        window.sort(key=lambda row: (row.transaction_date, row.id))
        yield window


class _RowMaker:
    """Rows from raw documents, with `.wallet` and `.cryptocurrency` as model instances read once each
    (for the whole history, however many windows it comes in)."""

    def __init__(self):
        self.wallets: dict = {}
        self.assets: dict = {}

    def rows(self, documents) -> list[TransactionRow]:
        rows = []
        for document in documents:
            row = TransactionRow()
            row.__dict__ = _READER.values(document)
            rows.append(row)
        wallets = {row.wallet_id for row in rows if row.wallet_id is not None} - self.wallets.keys()
        if wallets:
            self.wallets.update(Wallet.objects.in_bulk(wallets))
        assets = {row.cryptocurrency_id for row in rows} - self.assets.keys()
        if assets:
            self.assets.update(Cryptocurrency.objects.in_bulk(assets))
        for row in rows:
            row.wallet = self.wallets.get(row.wallet_id)
            row.cryptocurrency = self.assets[row.cryptocurrency_id]
        return rows
