"""Importing and exporting transactions in the Koinly universal CSV format: all rows or none, every
bad row reported with its row number, column and reason, duplicates skipped, counted and reported row
by row (`ImportReport.skipped`).

How rows are stored (no field of their own for these, issue 10):
- a fiat fee on a buy is in `total_cost_usd` (paid + fee), on a sell it comes off `usd_value` (net
  proceeds), on a swap off the sell part's `usd_value`, as before;
- a fiat fee on any other row, and a fee-only row, is a "fee part": an EXPENSE of `amount` 0 whose
  `fee` is the fee in its own currency (`cryptocurrency` is the fee's asset: a crypto, or the fiat
  itself, kept as an asset of network "fiat") and whose `usd_value` is its fiat value (a crypto
  fee-only row: the row's Net Worth). In a row's later parts it is that row's fee; alone it is a
  fee-only trade (reporting.selectors).
- identity: `import:<owner>:<row key>:<part>`, the row key from wallets.koinly_format (TxHash, else
  the row's content and its occurrence in the file): importing the same file again adds nothing.

Imported rows belong to the importing member's organization, and to them (or, imported into a
wallet, to the wallet's owner); values must be in the organization's reporting fiat."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Context, Decimal, localcontext


from core import money, permissions
from core.errors import ErrorCode, InvalidInput, NotFound
from core.transactions import in_transaction
from wallets import external_ids, koinly_format
from wallets.events import transactions_imported_event
from wallets.models import Cryptocurrency, Transaction, TransactionSource, TransactionType, TransferDirection, Wallet
from wallets.selectors import organization_fiat, transaction_queryset_for
from wallets.signals import transactions_changed_announce

KIND_TO_TYPE = {
    "BUY": TransactionType.BUY, "SELL": TransactionType.SELL, "INCOME": TransactionType.INCOME,
    "EXPENSE": TransactionType.EXPENSE, "TRANSFER_IN": TransactionType.TRANSFER,
    "TRANSFER_OUT": TransactionType.TRANSFER, "FEE": TransactionType.EXPENSE,
}


class ImportRejected(InvalidInput):
    def __init__(self, errors: list[koinly_format.RowError]):
        super().__init__(ErrorCode.INVALID_ROWS, f"{len(errors)} problem(s) in the file; nothing was imported.",
                         {"errors": [asdict(e) for e in errors[:500]]})
        self.errors = errors


@dataclass
class ImportReport:
    rows_read: int = 0
    created: int = 0
    duplicates_skipped: int = 0
    ignored_fiat_only: int = 0
    assets_created: list[str] = field(default_factory=list)
    # Row by row, what was not imported and why: {"row": n, "reason": "..."} in row order.
    skipped: list[dict] = field(default_factory=list)


# Methods under which a gift sent is a disposal at market value (rule 10.1): its Net Worth is required.
GIFT_DISPOSAL_METHODS = ("uk", "acb")
GIFT_LABELS = ("gift", "donation")


def transactions_import_universal(*, user, text: str, wallet: Wallet | None = None) -> ImportReport:
    """`user` (the acting member) imports a file into their organization: into their own books, or
    into `wallet` (one they may record in; the rows then belong to its owner)."""
    if wallet is not None and not permissions.can_view_wallet(user, wallet):
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    permissions.require(permissions.can_import_transactions(user, wallet), "You cannot import transactions here.")
    organization = user.organization
    owner_id = wallet.user_id if wallet is not None else user.pk
    parsed = koinly_format.parse_universal(text)
    errors = list(parsed.errors)
    # one fiat currency per organization: every stored value is in it
    fiat = organization.reporting_fiat
    for movement in parsed.movements:
        if movement.fiat_value is not None and movement.fiat_currency and movement.fiat_currency != fiat:
            errors.append(koinly_format.RowError(movement.row, "Net Worth Currency",
                                                 f"values must be in {fiat}, your reporting currency"))
        if movement.fee_fiat is not None and movement.fee_fiat_currency != fiat:
            errors.append(koinly_format.RowError(movement.row, "Fee Currency",
                                                 f"a fiat fee must be in {fiat}, your reporting currency"))
        if (movement.kind == "EXPENSE" and movement.label in GIFT_LABELS and movement.fiat_value is None
                and organization.cost_basis_method in GIFT_DISPOSAL_METHODS):
            errors.append(koinly_format.RowError(
                movement.row, "Net Worth Amount",
                f"a gift is a disposal at market value under the {organization.cost_basis_method} method: "
                "give its Net Worth"))
    if errors:
        raise ImportRejected(sorted({(e.row, e.column, e.reason): e for e in errors}.values(),
                                    key=lambda e: (e.row, e.column)))

    report = ImportReport(rows_read=len({m.row for m in parsed.movements}) + parsed.duplicate_rows + parsed.ignored_rows,
                          duplicates_skipped=parsed.duplicate_rows, ignored_fiat_only=parsed.ignored_rows)
    skipped = [{"row": s.row, "reason": s.reason} for s in parsed.skipped]
    by_external_id = {external_ids.import_external_id(owner_id=owner_id, identity=m.identity): m
                      for m in parsed.movements}
    existing = set(Transaction.objects.for_organization(organization.pk).filter(
        external_id__in=list(by_external_id)).values_list("external_id", flat=True))
    parts_of_row: dict[int, list[str]] = {}
    for external_id, movement in by_external_id.items():
        parts_of_row.setdefault(movement.row, []).append(external_id)
    for row, ids in sorted(parts_of_row.items()):
        if all(external_id in existing for external_id in ids):
            report.duplicates_skipped += 1
            first = by_external_id[ids[0]]
            key, copy = external_ids.row_key_of_identity(first.identity), None
            if not external_ids.is_hash_row_key(key):
                copy = external_ids.row_copy_number(key)
            what = f"TxHash {first.tx_hash}" if external_ids.is_hash_row_key(key) else (
                "an identical row" + (f" (copy {copy} in this file)" if copy else ""))
            skipped.append({"row": row, "reason": f"already imported: {what}"})
    report.skipped = sorted(skipped, key=lambda item: item["row"])
    symbols = {m.asset for m in parsed.movements}
    assets = {c.symbol: c for c in Cryptocurrency.objects.filter(symbol__in=symbols)}
    rows = []
    def assets_create():
        made = {}
        for symbol in sorted(symbols - set(assets)):
            made[symbol] = Cryptocurrency.objects.create(name=symbol, symbol=symbol,
                                                         network="fiat" if symbol in koinly_format.FIAT else "imported")
        return made

    made = in_transaction(assets_create)
    assets.update(made)
    report.assets_created += [symbol for symbol in made if symbol not in koinly_format.FIAT]
    for external_id, movement in by_external_id.items():
        if external_id not in existing:
            rows.append(_transaction(owner_id, organization.pk, wallet, assets[movement.asset], movement,
                                     external_id))
    _insert_all_or_none(rows)
    if rows:
        # each imported transaction gets its journal entry (the rows' owner's journals)
        transactions_changed_announce(user_id=owner_id, organization_id=organization.pk)
        transactions_imported_event(organization_id=organization.pk, user_id=owner_id,
                                    wallet_id=wallet.pk if wallet is not None else None, created=len(rows))
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
            in_transaction(lambda: Transaction.objects.bulk_create(batch))  # noqa: B023 (called at once)
            written += [row.external_id for row in batch]
    except Exception:
        organization_id = rows[0].organization_id if rows else None
        for first in range(0, len(written), IMPORT_BATCH):
            Transaction.objects.for_organization(organization_id).filter(
                external_id__in=written[first:first + IMPORT_BATCH]).delete()
        raise


def _transaction(owner_id, organization_id, wallet, asset, movement, external_id) -> Transaction:
    if movement.kind == "FEE":  # a fee part: amount 0, the fee in its own currency, its fiat value
        return Transaction(
            transaction_type=TransactionType.EXPENSE, user_id=owner_id, organization_id=organization_id,
            wallet=wallet, cryptocurrency=asset, amount=Decimal(0), fee=movement.amount,
            transaction_date=movement.date, description=movement.description[:2000], hash=movement.tx_hash[:66],
            usd_value=movement.fiat_value, tax_category=movement.label[:64], source=TransactionSource.IMPORT,
            external_id=external_id)
    value = movement.fiat_value
    fee_fiat = movement.fee_fiat or Decimal(0)
    usd_value = value
    total_cost = None
    if movement.kind == "BUY" and value is not None:
        total_cost = value + fee_fiat  # a buy's cost includes its fee
    elif movement.kind == "SELL" and value is not None and fee_fiat:
        usd_value = value - fee_fiat  # net proceeds
    direction = {"TRANSFER_IN": TransferDirection.IN, "TRANSFER_OUT": TransferDirection.OUT}.get(movement.kind, "")
    return Transaction(
        transaction_type=KIND_TO_TYPE[movement.kind], user_id=owner_id, organization_id=organization_id,
        wallet=wallet, cryptocurrency=asset,
        amount=movement.amount, transaction_date=movement.date, description=movement.description[:2000],
        fee=movement.fee, hash=movement.tx_hash[:66], direction=direction, usd_value=usd_value,
        price_at_transaction=_unit_price(value, movement.amount),
        total_cost_usd=total_cost, tax_category=movement.label[:64], source=TransactionSource.IMPORT, external_id=external_id,
        from_address=wallet.address if wallet and direction == TransferDirection.OUT else "",
        to_address=wallet.address if wallet and direction == TransferDirection.IN else "",
    )


def _unit_price(value: Decimal | None, amount: Decimal) -> Decimal | None:
    """Fiat per unit at 8 places; None when there is no value, or it does not fit the stored field
    (a tiny amount of a worthless token can give a price past 26 digits)."""
    if value is None or not amount:
        return None
    with localcontext(Context(prec=80)):
        price = money.quantize_asset(value / amount, money.FIAT_DECIMALS)
    return price if price.adjusted() < 26 else None


def transactions_export_universal(*, user, transactions=None) -> str:
    """The transactions `user` may see (their own; the organization's for books roles), values in
    the organization's reporting fiat. `transactions`: only these (a queryset read through
    wallets.selectors.transaction_list_for(user, ...), e.g. the transactions page's filters)."""
    fiat = organization_fiat(user)
    rows = []
    base = transaction_queryset_for(user) if transactions is None else transactions
    queryset = base.select_related("cryptocurrency", "wallet")
    for tx in queryset.order_by("transaction_date", "id"):
        asset, amount = tx.cryptocurrency.symbol, money.plain(tx.amount)
        value = money.plain(tx.usd_value) if tx.usd_value is not None else ""
        row = {"Date": tx.transaction_date.strftime("%Y-%m-%d %H:%M:%S"), "Description": tx.description,
               "TxHash": tx.hash, "Label": tx.tax_category}
        outgoing = tx.direction == TransferDirection.OUT or (tx.wallet is not None and tx.from_address == tx.wallet.address)
        if tx.transaction_type == TransactionType.EXPENSE and not tx.amount and tx.fee:  # a fee part
            row.update({"Fee Amount": money.plain(tx.fee), "Fee Currency": asset})
            if asset != fiat and value:
                row.update({"Net Worth Amount": value, "Net Worth Currency": fiat})
            rows.append(row)
            continue
        if tx.transaction_type == TransactionType.BUY:
            row.update({"Sent Amount": money.plain(tx.total_cost_usd or tx.usd_value or Decimal(0)), "Sent Currency": fiat,
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
            row.update({"Fee Amount": money.plain(tx.fee), "Fee Currency": "ETH" if tx.source == TransactionSource.CHAIN else asset})
        rows.append(row)
    return koinly_format.write_universal(rows)


