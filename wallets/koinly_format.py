"""The Koinly universal CSV format: parsing into movements and writing rows back. Pure Python (no
Django): fed text, returns plain data, so it is tested exhaustively and fast.

One CSV row becomes one or two movements: a trade against fiat is a BUY or a SELL, a crypto-to-crypto
trade is a SELL of the sent asset and a BUY of the received one (both at the row's net worth), a
deposit or withdrawal is INCOME/EXPENSE when its label says so, else a transfer in or out.

Fees (issue 10): a fiat fee on a buy, a sell or a swap is folded into the values as before; a fiat fee
on any other row (income, a plain receive, a cost/payment spend, a gift, lost, a transfer) becomes an
extra FEE movement of the row, so it reaches the cost-basis engine as the trade's fee (a cost of
acquisition, a cost of disposal, or an expense). A crypto fee in the row's asset stays on its movement;
one in a third asset is its own EXPENSE movement labelled "fee" (as before).
Fee-only rows (nothing sent or received, a fee: gas of a failed or approval transaction) are one FEE
movement; a crypto fee there needs the row's Net Worth (its fair value). A row whose sent and received
legs are fiat only is ignored, unless it carries a fee: then the fee is its movement.

Identity (rule 10.6): rows sharing a TxHash are parts of one transaction (`tx:<hash>:<part>`, the
parts numbered on across its rows in file order; a row repeated exactly, TxHash included, is a
duplicate and skipped); a row without a TxHash is identified by its content and its occurrence in the
file (`row:<sha256 of the row>` for the first such row, `row:<sha256>~2`, `~3`, ... for identical
copies after it), so two identical rows in one file are two trades and importing the same file again
matches every row. Skipped rows are listed with their reason (`ParseResult.skipped`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from core.currencies import REPORTING_FIATS
from core.spreadsheets import csv_text, unneutralise
from wallets import external_ids

HEADER = ["Date", "Sent Amount", "Sent Currency", "Received Amount", "Received Currency", "Fee Amount",
          "Fee Currency", "Net Worth Amount", "Net Worth Currency", "Label", "Description", "TxHash"]
FIAT = REPORTING_FIATS  # one list for the books and the importer (core.currencies)
INCOME_LABELS = {"income", "reward", "airdrop", "mining", "staking", "fork", "loan interest", "other income"}
COST_LABELS = {"cost", "payment", "margin fee", "fee", "gift", "lost", "donation", "stolen"}
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d")


@dataclass
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class Movement:
    kind: str  # BUY, SELL, INCOME, EXPENSE, TRANSFER_IN, TRANSFER_OUT, FEE (a fee on its own: amount = the fee)
    asset: str
    amount: Decimal
    date: dt.datetime
    fiat_value: Decimal | None = None
    fiat_currency: str = ""
    fee: Decimal = Decimal(0)  # in `asset`
    fee_fiat: Decimal | None = None
    fee_fiat_currency: str = ""
    label: str = ""
    description: str = ""
    tx_hash: str = ""
    row: int = 0
    identity: str = ""  # stable per movement: duplicates of it are skipped


@dataclass
class SkippedRow:
    row: int
    reason: str


@dataclass
class ParseResult:
    movements: list[Movement] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    duplicate_rows: int = 0
    ignored_rows: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)  # row by row: duplicates and ignored rows


MAX_INTEGER_DIGITS = 16
MAX_DECIMAL_PLACES = 18
# Amounts in plain notation (a thousands comma is allowed): never `1_000`, `1e3`, `NaN` (issue 19).
PLAIN_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
MIN_YEAR, MAX_YEAR = 1970, 2200
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _amount(raw: str, row: int, column: str, errors: list) -> Decimal | None:
    raw = (raw or "").strip().replace(",", "")
    if not raw:
        return None
    if not PLAIN_AMOUNT.fullmatch(raw):
        errors.append(RowError(row, column, f"not a number: {raw[:40]!r}"))
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors.append(RowError(row, column, f"not a number: {raw[:40]!r}"))
        return None
    if not value.is_finite() or value < 0:
        errors.append(RowError(row, column, "must be a positive number"))
        return None
    # What the books store exactly (Decimal128, 34 digits: 16 before the point, 18 after).
    sign, digits, exponent = value.normalize().as_tuple()
    if len(digits) + exponent > MAX_INTEGER_DIGITS:
        errors.append(RowError(row, column, f"too large: at most {MAX_INTEGER_DIGITS} digits before the point"))
        return None
    if -exponent > MAX_DECIMAL_PLACES:
        errors.append(RowError(row, column, f"too precise: at most {MAX_DECIMAL_PLACES} decimal places"))
        return None
    return value


def _date(raw: str, row: int, errors: list) -> dt.datetime | None:
    raw = (raw or "").strip().removesuffix(" UTC")
    for fmt in DATE_FORMATS:
        try:
            value = dt.datetime.strptime(raw, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            errors.append(RowError(row, "Date", f"the year must be between {MIN_YEAR} and {MAX_YEAR}"))
            return None
        return value
    errors.append(RowError(row, "Date", f"not a date (YYYY-MM-DD HH:MM:SS, UTC): {raw[:40]!r}"))
    return None


def parse_universal(text: str) -> ParseResult:
    result = ParseResult()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != HEADER:
        result.errors.append(RowError(1, "header", "expected exactly: " + ",".join(HEADER)))
        return result
    occurrences: dict[str, int] = {}  # rows without a TxHash: how many times this content came so far
    next_part: dict[str, int] = {}  # TxHash -> the next part number (its rows are parts of one transaction)
    hashed_rows: dict[str, int] = {}  # fingerprint of a row with a TxHash -> its first row number
    for row_number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(HEADER):
            result.errors.append(RowError(row_number, "row", f"{len(values)} columns instead of {len(HEADER)}"))
            continue
        cells = dict(zip(HEADER, (unneutralise(v.strip()) for v in values)))
        fingerprint = hashlib.sha256("\x1f".join(values).encode()).hexdigest()
        tx_hash = cells["TxHash"].lower()
        if tx_hash:
            if fingerprint in hashed_rows:  # the same row twice, TxHash and all: one transaction
                result.duplicate_rows += 1
                result.skipped.append(SkippedRow(row_number, f"duplicate of row {hashed_rows[fingerprint]} "
                                                             f"(same TxHash {cells['TxHash']}, same content)"))
                continue
            hashed_rows[fingerprint] = row_number
            key, first_part = external_ids.hash_row_key(tx_hash), next_part.get(tx_hash, 0)
        else:
            n = occurrences[fingerprint] = occurrences.get(fingerprint, 0) + 1
            key, first_part = external_ids.fingerprint_row_key(fingerprint, copy=n), 0
        movements = _row_movements(cells, row_number, key, result, first_part)
        if movements is not None:
            if tx_hash:
                next_part[tx_hash] = first_part + len(movements)
            result.movements += movements
    return result


def _row_movements(cells: dict, row: int, key: str, result: ParseResult, first_part: int = 0) -> list[Movement] | None:
    errors: list[RowError] = []
    date = _date(cells["Date"], row, errors)
    sent = _amount(cells["Sent Amount"], row, "Sent Amount", errors)
    received = _amount(cells["Received Amount"], row, "Received Amount", errors)
    fee = _amount(cells["Fee Amount"], row, "Fee Amount", errors)
    worth = _amount(cells["Net Worth Amount"], row, "Net Worth Amount", errors)
    sent_ccy, received_ccy = cells["Sent Currency"].upper(), cells["Received Currency"].upper()
    fee_ccy, worth_ccy = cells["Fee Currency"].upper(), cells["Net Worth Currency"].upper()
    for amount, currency, column in ((sent, sent_ccy, "Sent Currency"), (received, received_ccy, "Received Currency"),
                                     (fee, fee_ccy, "Fee Currency"), (worth, worth_ccy, "Net Worth Currency")):
        if amount is not None and not currency:
            errors.append(RowError(row, column, "missing: an amount needs its currency"))
        if currency and len(currency) > 20:
            errors.append(RowError(row, column, "currency code longer than 20 characters"))
    if worth is not None and worth_ccy and worth_ccy not in FIAT:
        errors.append(RowError(row, "Net Worth Currency", f"{worth_ccy} is not a fiat currency"))
    if sent is None and received is None and not fee and not errors:
        errors.append(RowError(row, "Sent Amount", "a row needs a sent, a received or a fee amount"))
    sent_crypto = sent is not None and sent_ccy not in FIAT
    received_crypto = received is not None and received_ccy not in FIAT
    fee_only = not sent_crypto and not received_crypto and bool(fee)
    if fee_only and fee_ccy not in FIAT and worth is None and not errors:
        # Rule 10.5: the fee units are disposed of at the row's fair value.
        errors.append(RowError(row, "Net Worth Amount", f"a fee-only row of {fee} {fee_ccy} needs its Net Worth "
                                                        "(the fee's fair value)"))
    for column in ("Label", "Description", "TxHash"):
        if CONTROL_CHARACTERS.search(cells[column]):
            errors.append(RowError(row, column, "control characters are not allowed"))
    if len(cells["Description"]) > 2000:
        errors.append(RowError(row, "Description", "longer than 2000 characters"))
    if len(cells["TxHash"]) > 100:
        errors.append(RowError(row, "TxHash", "longer than 100 characters"))
    if errors:
        result.errors += errors
        return None

    label = cells["Label"].lower()
    base = dict(date=date, label=label, description=cells["Description"], tx_hash=cells["TxHash"], row=row)
    fiat_value = worth if worth is not None else None
    movements: list[Movement] = []
    if sent_crypto and received_crypto:  # swap
        movements.append(Movement("SELL", sent_ccy, sent, fiat_value=fiat_value, fiat_currency=worth_ccy, **base))
        movements.append(Movement("BUY", received_ccy, received, fiat_value=fiat_value, fiat_currency=worth_ccy, **base))
    elif received_crypto:
        if sent is not None:  # bought with fiat
            movements.append(Movement("BUY", received_ccy, received, fiat_value=sent, fiat_currency=sent_ccy, **base))
        else:
            kind = "INCOME" if label in INCOME_LABELS else "TRANSFER_IN"
            movements.append(Movement(kind, received_ccy, received, fiat_value=fiat_value, fiat_currency=worth_ccy, **base))
    elif sent_crypto:
        if received is not None:  # sold for fiat
            movements.append(Movement("SELL", sent_ccy, sent, fiat_value=received, fiat_currency=received_ccy, **base))
        else:
            kind = "EXPENSE" if label in COST_LABELS else "TRANSFER_OUT"
            movements.append(Movement(kind, sent_ccy, sent, fiat_value=fiat_value, fiat_currency=worth_ccy, **base))
    elif fee_only:
        # Rule 10.5: a fee on its own (a fiat row's fiat legs change no holdings and are not kept).
        if fee_ccy in FIAT:
            movements.append(Movement("FEE", fee_ccy, fee, fiat_value=fee, fee_fiat=fee, fee_fiat_currency=fee_ccy,
                                      **base))
        else:
            movements.append(Movement("FEE", fee_ccy, fee, fiat_value=worth, fiat_currency=worth_ccy, **base))
        fee = None
    else:
        result.ignored_rows += 1  # fiat only: nothing crypto to track
        result.skipped.append(SkippedRow(row, "fiat only, no fee: nothing to track"))
        return []

    if fee:
        if fee_ccy in FIAT:
            if movements[0].kind in ("BUY", "SELL"):  # folded into the values (a buy's cost, a sale's proceeds)
                movements[0].fee_fiat, movements[0].fee_fiat_currency = fee, fee_ccy
            else:  # income, receive, spend, gift, lost, transfer: the trade's fiat fee (rules 10.3, 10.4)
                movements.append(Movement("FEE", fee_ccy, fee, fiat_value=fee, fee_fiat=fee, fee_fiat_currency=fee_ccy,
                                          **{k: v for k, v in base.items() if k != "label"}, label="fee"))
        elif fee_ccy == movements[-1].asset and movements[-1].kind != "BUY":
            movements[-1].fee = fee
        elif fee_ccy == movements[0].asset:
            movements[0].fee = fee
        else:  # a fee in a third asset is its own disposal
            movements.append(Movement("EXPENSE", fee_ccy, fee, label="fee", **{k: v for k, v in base.items()
                                                                               if k != "label"}))
    for part, movement in enumerate(movements, start=first_part):
        movement.identity = external_ids.row_identity(row_key=key, part=part)
    return movements


def write_universal(rows: list[dict]) -> str:
    """rows: dicts keyed by HEADER names (missing keys are empty). Cells that a spreadsheet would read
    as a formula are neutralised (core.spreadsheets); `parse_universal` reads them back as they were."""
    return csv_text([HEADER, *([row.get(name, "") for name in HEADER] for row in rows)])
