"""Whole histories of transactions read as light rows, not model instances (issue 17).

The books' readers (the tax trades, the automatic journals, the portfolio, the analytics) go over every
confirmed transaction of an organization. `transaction_rows(queryset)` reads the queryset's documents
straight from the driver (core.mongodb.raw_read) and gives `TransactionRow`s: the model's attribute
names and values (`pk`, `wallet_id`, Decimals, aware datetimes) for every field but `NOT_READ` (dropped
as each document arrives), with `.wallet` and `.cryptocurrency` as the model instances (each read once
for the whole history).
A row is read-only data: it is never saved; a writer that needs the row's transaction uses its `pk`.
"""

from __future__ import annotations

from core.mongodb.raw_read import FieldReader, queryset_documents
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
    rows = []
    for document in queryset_documents(queryset):
        row = TransactionRow()
        row.__dict__ = _READER.values(document)
        rows.append(row)
    wallets = Wallet.objects.in_bulk({row.wallet_id for row in rows if row.wallet_id is not None})
    assets = Cryptocurrency.objects.in_bulk({row.cryptocurrency_id for row in rows})
    for row in rows:
        row.wallet = wallets.get(row.wallet_id)
        row.cryptocurrency = assets[row.cryptocurrency_id]
    return rows
