"""POST /api/transactions/classify/ and POST /api/ai/classify-transaction/ (thin), and the review
queue: GET /api/ai/classifications/review/, POST /api/ai/classifications/{id}/accept/ and /reject/."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Router, Schema
from ninja.pagination import paginate

from ai_audit.classification import services
from core.errors import ErrorCode, InvalidInput
from core.jsonapi.auth import api_auth
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.schemas import StrictSchema
from core.jsonapi.types import ObjectIdStr
from wallets.selectors import transaction_list_for

transactions_router = Router(tags=["classification"])
ai_router = Router(tags=["classification"])


class ClassifyFilterIn(StrictSchema):
    wallet_id: ObjectIdStr | None = None
    asset: str | None = Field(None, max_length=20)
    transaction_type: str | None = Field(None, max_length=16)
    status: str | None = Field(None, max_length=16)
    category: str | None = Field(None, max_length=64)
    date_from: datetime | None = None
    date_to: datetime | None = None
    unclassified_only: bool = Field(False, description="only rows without a label yet")


class ClassifyIn(StrictSchema):
    transaction_id: ObjectIdStr | None = Field(None, description="one transaction")
    transaction_ids: list[ObjectIdStr] | None = Field(None, min_length=1, max_length=services.MAX_BATCH,
                                                      description="several transactions (at most 500)")
    filter: ClassifyFilterIn | None = Field(None, description="the transactions a filter selects (the first 500, "
                                                             "newest first)")
    apply: bool = Field(False, description="false: suggestions only; true: each suggestion becomes the label "
                                           "(as accepted by you; accountants and managers)")


class SuggestionOut(Schema):
    classification_id: ObjectIdStr
    transaction_id: ObjectIdStr
    label: str = Field(description="the suggested label, or empty (not enough history)")
    category: str = Field(description="business, personal, trading, or empty")
    confidence: Decimal | None = Field(description="in [0, 1]")
    reason: str
    layer: str = Field(description="rule, model, llm or none")
    state: str = Field(description="none, pending, applied, accepted, rejected, overridden")
    applied: bool = Field(description="this call made it the transaction's label")
    note: str = Field(description="why it was not applied, or why the language model was not used")


class ClassifyOut(Schema):
    count: int
    results: list[SuggestionOut]


def _out(item: services.Classified) -> dict:
    record = item.record
    return {"classification_id": record.pk, "transaction_id": item.transaction.pk, "label": item.suggestion.label,
            "category": item.suggestion.category,
            "confidence": item.suggestion.confidence if item.suggestion.label else None,
            "reason": item.suggestion.reason, "layer": item.suggestion.layer, "state": record.state,
            "applied": item.applied, "note": item.note}


def _classify(request, payload: ClassifyIn) -> dict:
    given = [name for name in ("transaction_id", "transaction_ids", "filter") if getattr(payload, name) is not None]
    if len(given) != 1:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "Give one of transaction_id, transaction_ids or filter.",
                           {"fields": {"transaction_id": "one of", "transaction_ids": "one of", "filter": "one of"}})
    if payload.filter is not None:
        options = payload.filter.dict()
        unclassified = options.pop("unclassified_only")
        queryset = transaction_list_for(request.user, **options)
        if unclassified:
            queryset = queryset.filter(is_classified=False)
        items = services.classify_request(actor=request.user, queryset=queryset, apply=payload.apply)
    else:
        ids = [payload.transaction_id] if payload.transaction_id else payload.transaction_ids
        items = services.classify_request(actor=request.user, transaction_ids=[str(i) for i in ids],
                                          apply=payload.apply)
    return {"count": len(items), "results": [_out(item) for item in items]}


@transactions_router.post("/classify/", response=ClassifyOut, auth=api_auth,
                          summary="Classify transactions (one, a list of ids, or a filter)")
def transactions_classify(request, payload: ClassifyIn):
    return _classify(request, payload)


@ai_router.post("/classify-transaction/", response=ClassifyOut, auth=api_auth,
                summary="Classify a transaction with the offline classifier (and the optional language model)")
def ai_classify_transaction(request, payload: ClassifyIn):
    return _classify(request, payload)


class ReviewItemOut(Schema):
    id: ObjectIdStr
    transaction_id: ObjectIdStr
    state: str
    suggested_label: str
    suggested_category: str
    suggested_confidence: Decimal | None
    suggested_reason: str
    suggested_layer: str
    label: str
    category: str
    labelled_by: str = Field(description="who labelled it (empty: nobody, or applied automatically)")
    labelled_at: datetime | None

    @staticmethod
    def resolve_labelled_by(obj):
        return obj.labelled_by.username if obj.labelled_by_id and obj.labelled_by else ""


@ai_router.get("/classifications/review/", response=list[ReviewItemOut], auth=api_auth,
               summary="The review queue: suggestions waiting for a person (state=applied: those applied automatically)")
@paginate(LimitOffsetNoCount)
def review_queue(request, state: Literal["", "pending", "none", "applied"] = ""):
    return services.review_queue_for(request.user, state)


@ai_router.post("/classifications/{oid:classification_id}/accept/", response=ReviewItemOut, auth=api_auth,
                summary="Accept a suggestion: it becomes the label (re-books the entry, teaches the classifier)")
def suggestion_accept(request, classification_id: str):
    return services.suggestion_accept(actor=request.user, record_id=classification_id)


@ai_router.post("/classifications/{oid:classification_id}/reject/", response=ReviewItemOut, auth=api_auth,
                summary="Reject a suggestion: it leaves the queue, the transaction keeps its label")
def suggestion_reject(request, classification_id: str):
    return services.suggestion_reject(actor=request.user, record_id=classification_id)
