"""/api/transactions/: list, record, correct and delete transactions, the running-balance history,
and the Koinly universal CSV import and export."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.http import HttpResponse
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from core.errors import ErrorCode, InvalidInput, NotFound, TooLarge
from core.jsonapi.auth import api_auth
from core.jsonapi.pagination import LimitOffsetNoCount, NewestFirstWindow
from core.jsonapi.schemas import MessageOut, StrictSchema
from core.jsonapi.types import Amount, FiatAmount, ObjectIdStr
from wallets import imports, networks, services
from wallets.models import Transaction, TransactionType
from wallets.services.transactions import TransactionCategory, TransactionLabel
from wallets.selectors import transaction_get_for, transaction_history_for, transaction_list_for
from wallets.wallet_api import visible_wallet

transactions_router = Router(tags=["transactions"])

TransactionTypeIn = Literal[tuple(TransactionType.values)]
LabelIn = Literal[tuple(TransactionLabel.values)]
CategoryIn = Literal[tuple(TransactionCategory.values)]
LABEL_HELP = ("what the transaction is: " + ", ".join(TransactionLabel.values) + ". Sets transaction_type and "
              "tax_category in the ledger's vocabulary and re-books the journal entry; allowed on chain rows")
CATEGORY_HELP = "business, personal or trading (with label, or alone to change the category of a labelled row)"
MAX_IMPORT_BYTES = 20 * 1024 * 1024


class TransactionOut(Schema):
    id: ObjectIdStr
    transaction_type: str
    wallet_id: ObjectIdStr | None
    network: str = Field(description="the network of its wallet (ethereum, polygon, bsc, ...)")
    asset: str
    amount: Amount
    price_at_transaction: FiatAmount | None
    usd_value: FiatAmount | None
    fee: Amount
    transaction_date: datetime
    description: str
    hash: str
    from_address: str
    to_address: str
    status: str
    source: str
    block_number: int | None
    gas_fee: Amount | None
    label: str = Field(description="the label in force (" + ", ".join(TransactionLabel.values) + "), or empty")
    category: str = Field(description="business, personal, trading, or empty")
    ai_category: str
    ai_confidence: Decimal | None = Field(description="confidence of the label in [0, 1] (1: set by a person)")
    ai_description: str = Field(description="why: the classifier's reason, or who labelled it")
    is_classified: bool
    business_purpose: str
    tax_category: str
    is_business_expense: bool | None

    @staticmethod
    def resolve_asset(obj):
        return obj.cryptocurrency.symbol

    @staticmethod
    def resolve_label(obj):
        return obj.ai_subcategory

    @staticmethod
    def resolve_category(obj):
        return obj.ai_category


class TransactionIn(StrictSchema):
    wallet_id: ObjectIdStr
    asset: str = Field(max_length=20)
    transaction_type: TransactionTypeIn
    amount: Decimal = Field(gt=0, max_digits=34)
    transaction_date: datetime
    price_at_transaction: Decimal | None = Field(None, ge=0, max_digits=34)
    fee: Decimal = Field(Decimal(0), ge=0, max_digits=34)
    description: str = Field("", max_length=2000)
    hash: str = Field("", max_length=66)
    from_address: str = Field("", max_length=42)
    to_address: str = Field("", max_length=42)
    business_purpose: str = Field("", max_length=200)
    tax_category: str = Field("", max_length=64)
    is_business_expense: bool | None = None


class TransactionUpdateIn(StrictSchema):
    label: LabelIn | None = Field(None, description=LABEL_HELP)
    category: CategoryIn | None = Field(None, description=CATEGORY_HELP)
    transaction_type: TransactionTypeIn | None = None
    amount: Decimal | None = Field(None, gt=0, max_digits=34)
    transaction_date: datetime | None = None
    price_at_transaction: Decimal | None = Field(None, ge=0, max_digits=34)
    fee: Decimal | None = Field(None, ge=0, max_digits=34)
    description: str | None = Field(None, max_length=2000)
    business_purpose: str | None = Field(None, max_length=200)
    tax_category: str | None = Field(None, max_length=64)
    is_business_expense: bool | None = None


def _visible_transaction(request, transaction_id):
    """A transaction the caller may see (404 otherwise: another organization's, or a colleague's
    for a plain member); see wallets.selectors.transaction_get_for."""
    transaction = transaction_get_for(request.user, transaction_id)
    if transaction is None:
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    return transaction


@transactions_router.get("/", response=list[TransactionOut], auth=api_auth, summary="List transactions")
@paginate(NewestFirstWindow, date_field="transaction_date", scope=Transaction.time_index_scope)
def transaction_list(request, wallet_id: ObjectIdStr | None = None, asset: str | None = None,
                     transaction_type: str | None = None, status: str | None = None, category: str | None = None,
                     date_from: datetime | None = None, date_to: datetime | None = None,
                     ordering: Literal["date", "-date", "amount", "-amount"] = "-date",
                     network: str | None = Query(None, max_length=40,
                                                 description="only this network's (unknown: 422 unknown_network)")):
    rows = transaction_list_for(request.user, wallet_id=wallet_id, asset=asset, transaction_type=transaction_type,
                                status=status, category=category, date_from=date_from, date_to=date_to,
                                ordering=ordering)
    return rows.filter(network=networks.network_get(network).name) if network else rows


@transactions_router.post("/", response={201: TransactionOut}, auth=api_auth, summary="Record a transaction")
def transaction_create(request, payload: TransactionIn):
    data = payload.dict()
    wallet = visible_wallet(request, data.pop("wallet_id"))
    return Status(201, services.transaction_create(actor=request.user, wallet=wallet, **data))


class HistoryRowOut(Schema):
    id: ObjectIdStr
    date: datetime
    type: str
    asset: str
    wallet: str
    change: Amount
    balance: Amount
    hash: str


class ImportReportOut(Schema):
    rows_read: int
    created: int
    duplicates_skipped: int
    ignored_fiat_only: int
    assets_created: list[str]


@transactions_router.post("/import/", response=ImportReportOut, auth=api_auth,
                          summary="Import a Koinly universal CSV (all rows or none)")
def transaction_import(request, file: UploadedFile = File(...), wallet_id: ObjectIdStr | None = Form(None)):
    if file.size > MAX_IMPORT_BYTES:
        raise TooLarge(ErrorCode.PAYLOAD_TOO_LARGE, "The file is larger than 20 MB.")
    try:
        text = file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(ErrorCode.INVALID_ENCODING, "The file is not UTF-8 text.") from None
    wallet = visible_wallet(request, wallet_id) if wallet_id else None
    return imports.transactions_import_universal(user=request.user, text=text, wallet=wallet)


@transactions_router.get("/export/", auth=api_auth, summary="Export as a Koinly universal CSV")
def transaction_export(request):
    response = HttpResponse(imports.transactions_export_universal(user=request.user), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="transactions-universal.csv"'
    return response


@transactions_router.get("/history/", response=list[HistoryRowOut], auth=api_auth,
                         summary="Movements in date order with the running balance per asset")
@paginate(LimitOffsetNoCount)
def transaction_history(request):
    return transaction_history_for(request.user)


@transactions_router.get("/category/{category}/", response=list[TransactionOut], auth=api_auth,
                         summary="Transactions of a category (AI or tax category)")
@paginate(NewestFirstWindow, date_field="transaction_date", scope=Transaction.time_index_scope)
def transaction_by_category(request, category: str):
    return transaction_list_for(request.user, category=category[:64])


@transactions_router.get("/{oid:transaction_id}/", response=TransactionOut, auth=api_auth,
                         summary="Transaction details")
def transaction_detail(request, transaction_id: str):
    return _visible_transaction(request, transaction_id)


@transactions_router.put("/{oid:transaction_id}/", response=TransactionOut, auth=api_auth,
                         summary="Update a transaction (chain rows: label, category and business fields only)")
def transaction_put(request, transaction_id: str, payload: TransactionUpdateIn):
    return services.transaction_update(actor=request.user, transaction=_visible_transaction(request, transaction_id),
                                       **payload.dict(exclude_unset=True))


@transactions_router.delete("/{oid:transaction_id}/", response=MessageOut, auth=api_auth,
                            summary="Delete a manual transaction")
def transaction_delete(request, transaction_id: str):
    services.transaction_delete(actor=request.user, transaction=_visible_transaction(request, transaction_id))
    return {"message": "Deleted."}
