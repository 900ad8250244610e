"""The transactions back-office page (/app/transactions/): the transactions the member may see,
filtered and paged (50 a page, one more row read to know whether there is a next one: the query count
never grows), a drawer with one transaction's detail and its label / category override, and a bulk
label on the selected rows. Every change goes through wallets.services.transaction_update (the
journal entry is re-booked, the classifier is told). The classifier's own panel in the drawer
(suggest, accept, reject) is ai_audit's (loaded by URL name: wallets never imports ai_audit)."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from core import permissions
from core.errors import DomainError, ErrorCode, InvalidInput
from core.http_status import http_status_of
from wallets.models import TransactionStatus, TransactionType
from wallets.selectors import transaction_get_for, transaction_list_for, wallet_list_for
from wallets.services.transactions import TransactionCategory, TransactionLabel, transaction_update

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
    try:
        page = max(1, int(data.get("page", "1")))
    except ValueError:
        page = 1
    rows, has_next, filters = [], False, {}
    try:
        filters, queryset = _filtered(request)
        found = list(queryset[(page - 1) * PAGE_ROWS:page * PAGE_ROWS + 1])
        rows, has_next = found[:PAGE_ROWS], len(found) > PAGE_ROWS
    except DomainError as exc:
        error = exc.message
    query = data.copy()
    for name in ("page", "fragment"):
        query.pop(name, None)
    return {"transactions": rows, "page": page, "has_next": has_next, "filters": filters, "form": data,
            "query": query.urlencode(), "error": error, "notice": notice,
            "wallets": list(wallet_list_for(request.user).only("name", "address")),
            "can_review": permissions.can_work_books(request.user), **_choices()}


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
        "can_label": permissions.can_edit_transaction_business_fields(request.user, transaction), **_choices()},
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
