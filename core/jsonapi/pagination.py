"""The one pagination convention: `limit` + `offset`, a `next` link, and never a full count (a count
is a full scan on the embedded server, stack.md defect 4). One extra row is fetched to know whether
a next page exists."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Bounded at the schema edge (issue 19): a bigger offset is a 422, never an 8-byte overflow in MongoDB.
MAX_OFFSET = 2**31 - 1


class LimitOffsetNoCount(PaginationBase):
    class Input(Schema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    class Output(Schema):
        items: list[Any]
        limit: int
        offset: int
        next: str | None

    items_attribute = "items"

    def paginate_queryset(self, queryset, pagination: Input, request: HttpRequest, **params):
        limit, offset = pagination.limit, pagination.offset
        rows = list(queryset[offset : offset + limit + 1])
        has_next = len(rows) > limit
        return {
            "items": rows[:limit],
            "limit": limit,
            "offset": offset,
            "next": _page_url(request, limit, offset + limit) if has_next else None,
        }


def _page_url(request: HttpRequest, limit: int, offset: int) -> str:
    query = request.GET.copy()
    query["limit"] = str(limit)
    query["offset"] = str(offset)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
