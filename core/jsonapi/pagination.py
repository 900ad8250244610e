"""The one pagination convention: `limit` + `offset`, a `next` link, and never a full count (a count
is a full scan on the embedded server, stack.md defect 4). One extra row is fetched to know whether
a next page exists."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from core.windows import cursor_decode, cursor_encode, newest_first_rows  # noqa: F401 (cursor_encode: re-exported)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Bounded at the schema edge (issue 19): a bigger offset is a 422, never an 8-byte overflow in MongoDB.
MAX_OFFSET = 2**31 - 1


class Serialised:
    """A queryset whose rows a list endpoint returns through `out` (a row -> the response's dict):
    both paginators read the page from the queryset and serialise only that page."""

    def __init__(self, queryset, out):
        self.queryset, self.out = queryset, out

    def __getitem__(self, item):  # a slice: one query for the page
        return [self.out(row) for row in self.queryset[item]]


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


class NewestFirstWindow(PaginationBase):
    """`limit` + `offset` as in LimitOffsetNoCount, plus `cursor`: for lists read newest first by a
    date (then id), each page is a bounded, index-served window (issue 17).

    - First page (no cursor, offset 0) and cursor pages: the window starts where the organization's
      time index (core.time_index, `scope`) says the newest `limit + 1` rows before the cursor begin,
      widened if it holds fewer (a filter, a stale count) and finally unbounded; its cost is about a
      page of rows, whatever the history's size.
    - `next` links carry a cursor (the last row's date and id), and `next_cursor` gives it alone.
    - An `offset` works as the spec has it (its `next` goes on by offset), as a window holding the
      newest `offset + limit + 1` rows: its cost grows with the offset, never with the rest of the
      history; clients walking a long list follow `next_cursor` instead.
    - A list asked for in another order (e.g. by amount) is served by offset as before.
    """

    class Input(Schema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
        cursor: str | None = Field(None, max_length=100, description="from `next_cursor` of the previous page")

    class Output(Schema):
        items: list[Any]
        limit: int
        offset: int
        next: str | None
        next_cursor: str | None = None

    items_attribute = "items"

    def __init__(self, *, date_field: str, scope: str, owner_attribute: str = "organization_id", **kwargs):
        super().__init__(**kwargs)
        # owner_attribute: the caller's attribute keying the counts (their organization; "pk" for a
        # list of their own, counted per person: core.time_indexed's time_index_owner).
        self.date_field, self.scope, self.owner_attribute = date_field, scope, owner_attribute

    def paginate_queryset(self, queryset, pagination: Input, request: HttpRequest, **params):
        limit, offset = pagination.limit, pagination.offset
        serialised = queryset if isinstance(queryset, Serialised) else None
        rows_of = serialised.queryset if serialised else queryset
        if pagination.cursor is None and not self._newest_first(rows_of):
            return LimitOffsetNoCount().paginate_queryset(queryset, LimitOffsetNoCount.Input(limit=limit, offset=offset),
                                                          request)
        after = cursor_decode(pagination.cursor) if pagination.cursor is not None else None
        organization_id = getattr(getattr(request, "auth", None) or request.user, self.owner_attribute, None)
        rows = self._window_page(rows_of, limit=limit, after=after, organization_id=organization_id,
                                 offset=offset if after is None else 0)
        has_next = len(rows) > limit
        rows = rows[:limit]
        next_cursor = cursor_encode(getattr(rows[-1], self.date_field), rows[-1].pk) if has_next else None
        return {
            "items": [serialised.out(row) for row in rows] if serialised else rows,
            "limit": limit,
            "offset": offset,
            # A client paging by offset goes on by offset; the cursor is there for it to switch.
            "next": (None if not next_cursor else _page_url(request, limit, offset + limit) if offset and after is None
                     else _cursor_url(request, limit, next_cursor)),
            "next_cursor": next_cursor,
        }

    def _newest_first(self, queryset) -> bool:
        return tuple(queryset.query.order_by) in ((f"-{self.date_field}", "-id"), (f"-{self.date_field}", "-pk"))

    def _window_page(self, queryset, *, limit, after, organization_id, offset):
        return newest_first_rows(queryset, date_field=self.date_field, scope=self.scope, owner_id=organization_id,
                                 limit=limit, after=after, offset=offset)


def _cursor_url(request: HttpRequest, limit: int, cursor: str) -> str:
    query = request.GET.copy()
    query.pop("offset", None)
    query["limit"] = str(limit)
    query["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
