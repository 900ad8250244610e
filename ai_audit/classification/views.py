"""Back-office pages of classification: the panel in the transactions page's drawer (the current
suggestion, "classify", accept and reject), and the review queue (/app/classifications/review/).
Every decision goes through ai_audit.classification.services (labels through wallets' one path)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from ai_audit.classification import services
from ai_audit.models import TransactionClassification
from core import permissions
from core.errors import DomainError
from core.http_status import http_status_of
from core.windows import page_number
from wallets.selectors import transaction_get_for

REVIEW_PAGE_ROWS = 50


def _status(request, exc: DomainError) -> int:
    # htmx swaps only 2xx answers: the error is shown in place, a plain post gets the status.
    return 200 if request.htmx else http_status_of(exc)


def _panel(request, transaction, *, suggestion=None, error="", notice="", status=200):
    record = TransactionClassification.objects.for_actor(request.user).filter(transaction_id=transaction.pk).first()
    response = render(request, "ai_audit/classification/_panel.html", {
        "tx": transaction, "record": record, "suggestion": suggestion, "error": error, "notice": notice,
        "can_label": permissions.can_edit_transaction_business_fields(request.user, transaction)}, status=status)
    if notice:
        response["HX-Trigger"] = "transactions-changed"
    return response


def _visible(request, transaction_id):
    transaction = transaction_get_for(request.user, transaction_id)
    if transaction is None:
        raise Http404
    return transaction


@login_required
@require_GET
def classification_panel(request, transaction_id):
    return _panel(request, _visible(request, transaction_id))


@login_required
@require_POST
def classification_classify(request, transaction_id):
    """Suggest (never applies: accepting is the next click)."""
    transaction = _visible(request, transaction_id)
    try:
        [item] = services.classify_request(actor=request.user, transaction_ids=[str(transaction.pk)])
    except DomainError as exc:
        return _panel(request, transaction, error=exc.message, status=_status(request, exc))
    return _panel(request, transaction, suggestion=item.suggestion, error=item.note)


def _decide(request, record_id, decide, done: str):
    record = TransactionClassification.objects.for_actor(request.user).filter(pk=record_id).first()
    transaction = transaction_get_for(request.user, record.transaction_id) if record is not None else None
    if transaction is None:
        raise Http404
    try:
        decide(actor=request.user, record_id=record.pk)
    except DomainError as exc:
        error, status = exc.message, _status(request, exc)
        if request.POST.get("from") == "review":
            return _review(request, error=error, status=status)
        return _panel(request, transaction, error=error, status=status)
    transaction.refresh_from_db()
    if request.POST.get("from") == "review":
        return _review(request, notice=done)
    return _panel(request, transaction, notice=done)


@login_required
@require_POST
def classification_accept(request, record_id):
    return _decide(request, record_id, services.suggestion_accept, "Accepted: the journal entry is re-booked.")


@login_required
@require_POST
def classification_reject(request, record_id):
    return _decide(request, record_id, services.suggestion_reject, "Rejected: label it yourself to teach the classifier.")


def _review(request, *, error="", notice="", status=200):
    state = request.GET.get("state", "")[:16]
    try:
        queryset = services.review_queue_for(request.user, state)
    except DomainError as exc:
        raise PermissionDenied(exc.message) from None
    page = page_number(request.GET.get("page"))
    rows = list(queryset[(page - 1) * REVIEW_PAGE_ROWS:page * REVIEW_PAGE_ROWS + 1])
    template = "ai_audit/classification/_review_table.html" if request.htmx else "ai_audit/classification/review.html"
    response = render(request, template, {
        "records": rows[:REVIEW_PAGE_ROWS], "has_next": len(rows) > REVIEW_PAGE_ROWS, "page": page, "state": state,
        "error": error, "notice": notice, "threshold": services.classifier_state_for(request.user.organization_id)
        .review_threshold}, status=status)
    return response


@login_required
@require_GET
def review_queue_page(request):
    return _review(request)
