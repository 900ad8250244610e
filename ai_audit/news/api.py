"""GET /api/ai/crypto-news/ (thin): items of the RSS/Atom feeds the organization configures, newest
first, filterable by asset mentioned (`?asset=ETH`). With no feed configured the list is empty and
`message` says how to add one; no item is ever made up. Feeds are configured in the admin (AI audit >
News feeds) or on the back-office page /app/news/ (managers and admins): the spec has no feed endpoint.
"""

from datetime import datetime

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from ai_audit.news import selectors
from core.jsonapi.auth import api_auth
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.types import ObjectIdStr

ai_router = Router(tags=["news"])


class NewsItemOut(Schema):
    id: ObjectIdStr
    title: str
    link: str
    summary: str
    published_at: datetime | None
    fetched_at: datetime
    assets: list[str]
    feed_id: ObjectIdStr
    feed_name: str

    @staticmethod
    def resolve_feed_name(obj):
        return obj.feed.name


class NewsFilters(Schema):
    asset: str | None = Field(None, max_length=20, description="a symbol, e.g. ETH: items mentioning it")
    feed_id: ObjectIdStr | None = None
    search: str | None = Field(None, max_length=100, description="words in the title")


class NewsPagination(LimitOffsetNoCount):
    """The shared pagination, plus `message`: how to add a feed when the organization has none."""

    class Output(LimitOffsetNoCount.Output):
        message: str | None = None

    def paginate_queryset(self, queryset, pagination, request, **params):
        page = super().paginate_queryset(queryset, pagination, request, **params)
        if not page["items"] and pagination.offset == 0 and not selectors.news_feeds_configured(request.user):
            page["message"] = selectors.NO_FEED_MESSAGE
        return page


@ai_router.get("/crypto-news/", response=list[NewsItemOut], auth=api_auth,
               summary="Crypto news from the organization's RSS/Atom feeds")
@paginate(NewsPagination)
def crypto_news(request, filters: Query[NewsFilters]):
    return selectors.news_list_for(request.user, **filters.dict())
