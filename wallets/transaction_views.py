"""The transactions back-office page (/app/transactions/): the transactions the member may see,
filtered and paged (50 a page, one more row read to know whether there is a next one: the query count
never grows; the first page and each "Older" page are a bounded window over the time index, core.windows,
so a page costs the same at 100k rows as at 1k), a drawer with one transaction's detail and its label / category override, and a bulk
label on the selected rows. Every change goes through wallets.services.transaction_update (the
journal entry is re-booked, the classifier is told). The classifier's own panel in the drawer
(suggest, accept, reject) is ai_audit's, and the drawer's books panel (its journal entry, cost basis
or open lot) is the ledger's: both loaded by URL name (wallets never imports a higher app).
Import (a Koinly universal CSV, through wallets.imports like the API and `manage.py
import_transactions`: all rows or none, each bad row shown with its line and error) and export of the
filtered list (the same writer as the API's export)."""

import csv
import io

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from core import permissions
from core.errors import DomainError, ErrorCode, InvalidInput, NotFound, TooLarge
from core.http_status import http_status_of
from core.windows import cursor_decode, newest_first_page, page_number
from wallets.imports import ImportRejected, transactions_export_universal, transactions_import_universal
from wallets.models import Transaction, TransactionStatus, TransactionType
from wallets.selectors import transaction_get_for, transaction_list_for, wallet_list_for
from wallets.services.transactions import TransactionCategory, TransactionLabel, transaction_update
from wallets.transaction_api import MAX_IMPORT_BYTES

PAGE_ROWS = 50
MAX_BULK = 200


def _day(value: str, name: str):
    if not value:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC)
    except ValueError:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, f"{name}: give a day as YYYY-MM-DD.") from None


def _choices():
    return {"labels": TransactionLabel.choices, "categories": TransactionCategory.choices,
            "types": TransactionType.choices, "statuses": TransactionStatus.choices}


def _filtered(request):
    data = request.GET
    filters = {
        "wallet_id": data.get("wallet", "").strip()[:24],
        "asset": data.get("asset", "").strip()[:20],
        "transaction_type": data.get("type", "") if data.get("type", "") in TransactionType.values else "",
        "status": data.get("status", "") if data.get("status", "") in TransactionStatus.values else "",
        "label": data.get("label", "") if data.get("label", "") in TransactionLabel.values else "",
        "category": data.get("category", "") if data.get("category", "") in TransactionCategory.values else "",
        "unlabelled": data.get("unlabelled", "") == "1",
    }
    queryset = transaction_list_for(
        request.user, wallet_id=filters["wallet_id"] or None, asset=filters["asset"] or None,
        transaction_type=filters["transaction_type"] or None, status=filters["status"] or None,
        date_from=_day(data.get("date_from", ""), "From"), date_to=_day(data.get("date_to", ""), "To"))
    if filters["label"]:
        queryset = queryset.filter(ai_subcategory=filters["label"])
    if filters["category"]:
        queryset = queryset.filter(ai_category=filters["category"])
    if filters["unlabelled"]:
        queryset = queryset.filter(ai_subcategory="")
    return filters, queryset


def _list_context(request, *, error: str = "", notice: str = "") -> dict:
    data = request.GET
    page = page_number(data.get("page"))
    cursor = data.get("cursor", "")[:100]
    rows, has_next, filters, next_cursor = [], False, {}, ""
    try:
        filters, queryset = _filtered(request)
        rows, next_cursor = newest_first_page(
            queryset, date_field=Transaction.time_index_field, scope=Transaction.time_index_scope,
            owner_id=request.user.organization_id, limit=PAGE_ROWS, page=page,
            after=cursor_decode(cursor) if cursor else None)
        has_next = bool(next_cursor)
    except DomainError as exc:
        error = exc.message
    query = data.copy()
    for name in ("page", "fragment", "cursor"):
        query.pop(name, None)
    position = f"cursor={cursor}" if cursor else f"page={page}"
    return {"transactions": rows, "page": page, "has_next": has_next, "next_cursor": next_cursor,
            "cursor": cursor, "position": position, "filters": filters, "form": data,
            "query": query.urlencode(), "error": error, "notice": notice,
            "wallets": list(wallet_list_for(request.user).only("name", "address")),
            "can_review": permissions.can_work_books(request.user),
            "can_import": permissions.can_import_transactions(request.user), **_choices()}


@login_required
@require_GET
def transaction_list_page(request):
    template = "wallets/_transaction_table.html" if request.htmx and request.GET.get("fragment") \
        else "wallets/transactions.html"
    return render(request, template, _list_context(request))


def _visible(request, transaction_id):
    transaction = transaction_get_for(request.user, transaction_id)
    if transaction is None:
        raise Http404
    return transaction


def _drawer(request, transaction, *, error: str = "", notice: str = "", status: int = 200):
    return render(request, "wallets/_transaction_drawer.html", {
        "tx": transaction, "error": error, "notice": notice,
        "can_label": permissions.can_edit_transaction_business_fields(request.user, transaction),
        "can_view_books": permissions.can_view_books(request.user), **_choices()},
        status=status)


@login_required
@require_GET
def transaction_drawer(request, transaction_id):
    return _drawer(request, _visible(request, transaction_id))


@login_required
@require_POST
def transaction_label_edit(request, transaction_id):
    """The drawer's override: label and category (and the business purpose)."""
    transaction = _visible(request, transaction_id)
    data = request.POST
    changes = {"business_purpose": data.get("business_purpose", "")[:200]}
    if data.get("label"):
        changes["label"] = data["label"]
        changes["category"] = data.get("category") or TransactionCategory.BUSINESS
    try:
        transaction = transaction_update(actor=request.user, transaction=transaction, **changes)
    except DomainError as exc:
        transaction.refresh_from_db()
        # htmx swaps only 2xx answers: the error is shown in the drawer, a plain post gets the status.
        return _drawer(request, transaction, error=exc.message, status=200 if request.htmx else http_status_of(exc))
    response = _drawer(request, transaction, notice="Saved: the journal entry is re-booked.")
    response["HX-Trigger"] = "transactions-changed"
    return response


@login_required
@require_POST
def transaction_bulk_label(request):
    """Label the selected rows of the list (each through the same service, each re-booked)."""
    ids = request.POST.getlist("selected")[:MAX_BULK]
    label, category = request.POST.get("label", ""), request.POST.get("category") or TransactionCategory.BUSINESS
    done, errors = 0, []
    if not ids or not label:
        errors.append("Select transactions and a label.")
    for transaction_id in ids if label else []:
        transaction = transaction_get_for(request.user, transaction_id)
        if transaction is None:
            errors.append(f"{transaction_id}: not found.")
            continue
        try:
            transaction_update(actor=request.user, transaction=transaction, label=label, category=category)
            done += 1
        except DomainError as exc:
            errors.append(f"{transaction.transaction_date:%Y-%m-%d} {transaction.amount.normalize():f} "
                          f"{transaction.cryptocurrency.symbol}: {exc.message}")
    notice = f"{done} labelled {label}." if done else ""
    response = render(request, "wallets/_transaction_table.html",
                      _list_context(request, error=" ".join(errors), notice=notice))
    response["HX-Trigger"] = "transactions-changed"
    return response


# --- import and export ----------------------------------------------------------------------------------
REJECTED_ROWS_SHOWN = 200  # bad rows listed on the page (the service reports up to 500)
ROW_TEXT_CHARS = 160


def _rejected_rows(text: str, errors) -> list[dict]:
    """The bad rows of a rejected file, in row order: its line number (the header is line 1), what the
    row says, and each error against it (column and reason)."""
    by_row: dict[int, list] = {}
    for error in errors:
        by_row.setdefault(error.row, []).append(error)
    wanted = sorted(by_row)[:REJECTED_ROWS_SHOWN]
    texts: dict[int, str] = {}
    if wanted:
        last = wanted[-1]
        for number, values in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1):
            if number in by_row:
                texts[number] = ", ".join(values)[:ROW_TEXT_CHARS]
            if number >= last:
                break
    return [{"row": row, "text": texts.get(row, ""), "errors": by_row[row]} for row in wanted]


def _import_wallet(request):
    wallet_id = request.POST.get("wallet", "").strip()[:24]
    if not wallet_id:
        return None
    wallet = wallet_list_for(request.user).filter(pk=wallet_id).first() if len(wallet_id) == 24 else None
    if wallet is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such wallet.")
    return wallet


@login_required
@require_POST
def transaction_import(request):
    """The Import panel's hx-post: a summary when the file went in (the list refreshes), else the bad
    rows with their errors and nothing imported."""
    context: dict = {"report": None, "rejected": [], "rejected_count": 0, "error": ""}
    status = 200
    upload = request.FILES.get("file")
    text = ""
    try:
        if upload is None:
            raise InvalidInput(ErrorCode.VALIDATION_ERROR, "Choose a CSV file to import.")
        if upload.size > MAX_IMPORT_BYTES:
            raise TooLarge(ErrorCode.PAYLOAD_TOO_LARGE, "The file is larger than 20 MB.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(ErrorCode.INVALID_ENCODING, "The file is not UTF-8 text.") from None
        context["report"] = transactions_import_universal(user=request.user, text=text, wallet=_import_wallet(request))
    except ImportRejected as exc:
        context.update(error=exc.message, rejected=_rejected_rows(text, exc.errors),
                       rejected_count=len({e.row for e in exc.errors}))
        status = http_status_of(exc)
    except DomainError as exc:
        context["error"], status = exc.message, http_status_of(exc)
    # htmx swaps only 2xx answers: the panel shows the error; a plain post gets the status.
    response = render(request, "wallets/_transaction_import.html", context,
                      status=200 if request.htmx else status)
    if context["report"] is not None and context["report"].created:
        response["HX-Trigger"] = "transactions-changed"
    return response


@login_required
@require_GET
def transaction_export(request):
    """The filtered list (the page's filters) as a Koinly universal CSV."""
    try:
        _, queryset = _filtered(request)
    except DomainError as exc:
        return HttpResponse(exc.message, status=http_status_of(exc), content_type="text/plain; charset=utf-8")
    response = HttpResponse(transactions_export_universal(user=request.user, transactions=queryset),
                            content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="transactions-universal.csv"'
    return response
