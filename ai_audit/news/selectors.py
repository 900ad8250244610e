"""Reads of crypto news: the organization's items (newest first, by asset) and feeds."""

from ai_audit.models import NewsFeed, NewsItem
from core import permissions

NO_FEED_MESSAGE = ("No news feed is configured for your organization. A manager or admin adds an RSS or Atom "
                   "feed on the back-office news page (/app/news/) or in the admin (AI audit > News feeds); "
                   "items appear after the next fetch (every 15 minutes).")


def news_list_for(actor, *, asset: str | None = None, feed_id=None, search: str | None = None):
    permissions.require(permissions.can_view_news(actor), "Members of an organization read its news.")
    queryset = NewsItem.objects.for_actor(actor).select_related("feed")
    if asset:
        queryset = queryset.filter(assets__contains=[asset.strip().upper()])
    if feed_id:
        queryset = queryset.filter(feed_id=feed_id)
    if search:
        queryset = queryset.filter(title__icontains=search.strip())
    return queryset.order_by("-published_at", "-fetched_at")


def news_feed_list_for(actor):
    permissions.require(permissions.can_view_news(actor), "Members of an organization read its news.")
    return NewsFeed.objects.for_actor(actor).order_by("name")


def news_feeds_configured(actor) -> bool:
    return NewsFeed.objects.for_actor(actor).filter(is_active=True).exists()
