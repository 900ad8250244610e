"""Importing and exporting transactions in the Koinly universal CSV format: all rows or none, every
bad row reported with its row number, column and reason, duplicates skipped and counted."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Context, Decimal, localcontext

from django_mongodb_backend.transaction import atomic

from core.jsonapi.errors import ApiError
from ledger.tasks import transaction_journals_sync_later
from wallets import koinly_format
from wallets.models import Cryptocurrency, Transaction, TransactionType, Wallet

KIND_TO_TYPE = {
    "BUY": TransactionType.BUY, "SELL": TransactionType.SELL, "INCOME": TransactionType.INCOME,
    "EXPENSE": TransactionType.EXPENSE, "TRANSFER_IN": TransactionType.TRANSFER,
    "TRANSFER_OUT": TransactionType.TRANSFER,
}


class ImportRejected(ApiError):
    def __init__(self, errors: list[koinly_format.RowError]):
        super().__init__(422, "invalid_rows", f"{len(errors)} problem(s) in the file; nothing was imported.",
                         {"errors": [asdict(e) for e in errors[:500]]})
        self.errors = errors


@dataclass
class ImportReport:
    rows_read: int = 0
    created: int = 0
    duplicates_skipped: int = 0
    ignored_fiat_only: int = 0
    assets_created: list[str] = field(default_factory=list)


def transactions_import_universal(*, user, text: str, wallet: Wallet | None = None) -> ImportReport:
    if wallet is not None and wallet.user_id != user.pk:
        raise ApiError(404, "not_found", "Not found.")
    parsed = koinly_format.parse_universal(text)
    errors = list(parsed.errors)
    fiat = user.reporting_fiat  # one fiat currency per user: every stored value is in it
    for movement in parsed.movements:
        if movement.fiat_value is not None and movement.fiat_currency and movement.fiat_currency != fiat:
            errors.append(koinly_format.RowError(movement.row, "Net Worth Currency",
                                                 f"values must be in {fiat}, your reporting currency"))
        if movement.fee_fiat is not None and movement.fee_fiat_currency != fiat:
            errors.append(koinly_format.RowError(movement.row, "Fee Currency",
                                                 f"a fiat fee must be in {fiat}, your reporting currency"))
    if errors:
        raise ImportRejected(sorted({(e.row, e.column, e.reason): e for e in errors}.values(),
                                    key=lambda e: (e.row, e.column)))

    report = ImportReport(rows_read=len({m.row for m in parsed.movements}) + parsed.duplicate_rows + parsed.ignored_rows,
                          duplicates_skipped=parsed.duplicate_rows, ignored_fiat_only=parsed.ignored_rows)
    external_ids = {f"import:{user.pk}:{m.identity}": m for m in parsed.movements}
    existing = set(Transaction.objects.filter(external_id__in=list(external_ids)).values_list("external_id", flat=True))
    report.duplicates_skipped += len({external_ids[e].row for e in existing})
    symbols = {m.asset for m in parsed.movements}
    assets = {c.symbol: c for c in Cryptocurrency.objects.filter(symbol__in=symbols)}
    rows = []
    with atomic():
        for symbol in sorted(symbols - set(assets)):
            assets[symbol] = Cryptocurrency.objects.create(name=symbol, symbol=symbol, network="imported")
            report.assets_created.append(symbol)
    for external_id, movement in external_ids.items():
        if external_id not in existing:
            rows.append(_transaction(user, wallet, assets[movement.asset], movement, external_id))
    _insert_all_or_none(rows)
    if rows:
        transaction_journals_sync_later(user)  # each imported transaction gets its journal entry
    report.created = len(rows)
    return report


IMPORT_BATCH = 5000  # rows per multi-document transaction


def _insert_all_or_none(rows: list[Transaction]) -> None:
    """One transaction for a file of up to IMPORT_BATCH rows. A larger file goes in batches (a MongoDB
    transaction is limited in time and size: 100k rows in one was aborted); if a batch fails, the
    batches already written are deleted again. Only a process killed between batches can leave part
    of a file in; importing the same file again then adds just the rest (duplicates are skipped)."""
    written: list[str] = []
    try:
        for first in range(0, len(rows), IMPORT_BATCH):
            batch = rows[first:first + IMPORT_BATCH]
            with atomic():
                Transaction.objects.bulk_create(batch)
            written += [row.external_id for row in batch]
    except Exception:
        for first in range(0, len(written), IMPORT_BATCH):
            Transaction.objects.filter(external_id__in=written[first:first + IMPORT_BATCH]).delete()
        raise


def _transaction(user, wallet, asset, movement, external_id) -> Transaction:
    value = movement.fiat_value
    fee_fiat = movement.fee_fiat or Decimal(0)
    usd_value = value
    total_cost = None
    if movement.kind == "BUY" and value is not None:
        total_cost = value + fee_fiat  # a buy's cost includes its fee
    elif movement.kind == "SELL" and value is not None and fee_fiat:
        usd_value = value - fee_fiat  # net proceeds
    direction = {"TRANSFER_IN": "in", "TRANSFER_OUT": "out"}.get(movement.kind, "")
    return Transaction(
        transaction_type=KIND_TO_TYPE[movement.kind], user=user, wallet=wallet, cryptocurrency=asset,
        amount=movement.amount, transaction_date=movement.date, description=movement.description[:2000],
        fee=movement.fee, hash=movement.tx_hash[:66], direction=direction, usd_value=usd_value,
        price_at_transaction=_unit_price(value, movement.amount),
        total_cost_usd=total_cost, tax_category=movement.label[:64], source="import", external_id=external_id,
        from_address=wallet.address if wallet and direction == "out" else "",
        to_address=wallet.address if wallet and direction == "in" else "",
    )


def _unit_price(value: Decimal | None, amount: Decimal) -> Decimal | None:
    """Fiat per unit at 8 places; None when there is no value, or it does not fit the stored field
    (a tiny amount of a worthless token can give a price past 26 digits)."""
    if value is None or not amount:
        return None
    with localcontext(Context(prec=80)):
        price = (value / amount).quantize(Decimal("1e-8"))
    return price if price.adjusted() < 26 else None


def transactions_export_universal(*, user) -> str:
    fiat = user.reporting_fiat
    rows = []
    for tx in Transaction.objects.filter(user=user).select_related("cryptocurrency", "wallet").order_by("transaction_date", "id"):
        asset, amount = tx.cryptocurrency.symbol, _plain(tx.amount)
        value = _plain(tx.usd_value) if tx.usd_value is not None else ""
        row = {"Date": tx.transaction_date.strftime("%Y-%m-%d %H:%M:%S"), "Description": tx.description,
               "TxHash": tx.hash, "Label": tx.tax_category}
        outgoing = tx.direction == "out" or (tx.wallet is not None and tx.from_address == tx.wallet.address)
        if tx.transaction_type == TransactionType.BUY:
            row.update({"Sent Amount": _plain(tx.total_cost_usd or tx.usd_value or Decimal(0)), "Sent Currency": fiat,
                        "Received Amount": amount, "Received Currency": asset})
        elif tx.transaction_type == TransactionType.SELL:
            row.update({"Sent Amount": amount, "Sent Currency": asset, "Received Amount": value or "0",
                        "Received Currency": fiat})
        elif tx.transaction_type == TransactionType.EXPENSE or (tx.transaction_type == TransactionType.TRANSFER and outgoing):
            row.update({"Sent Amount": amount, "Sent Currency": asset})
        else:
            row.update({"Received Amount": amount, "Received Currency": asset})
        if tx.transaction_type in (TransactionType.INCOME, TransactionType.EXPENSE, TransactionType.TRANSFER) and value:
            row.update({"Net Worth Amount": value, "Net Worth Currency": fiat})
        if tx.fee:
            row.update({"Fee Amount": _plain(tx.fee), "Fee Currency": "ETH" if tx.source == "chain" else asset})
        rows.append(row)
    return koinly_format.write_universal(rows)


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text
