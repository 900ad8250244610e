"""Crypto news: the organization's RSS/Atom feeds (configured in the admin or on the back-office news
page), fetched by the periodic task `news_refresh`, parsed by feedparser (never by hand),
deduplicated per organization and stored with the assets each item mentions.

Fetching is bounded: `NEWS_FETCH_TIMEOUT_SECONDS` (default 10) per connection and per read, and
`NEWS_MAX_FEED_BYTES` (2 MB) per feed; a feed that is down, slow, too big or not a feed is reported
in its `last_status` and the others go on.

A feed's URL may not reach private addresses (ai_audit.news.feed_urls): refused when the feed is
added (422 invalid_feed_url) and checked again on every connection of every fetch, redirects
included, against the address actually connected to.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import html
import logging
import re
import time
from dataclasses import dataclass

import feedparser
import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError
from django.utils import timezone

from ai_audit.models import NewsFeed, NewsItem
from ai_audit.news.assets import assets_mentioned, known_assets
from ai_audit.news.feed_urls import FeedUrlRefused, feed_url_check, guarded_session
from core import permissions
from core.errors import Conflict, ErrorCode, InvalidInput
from wallets.models import Cryptocurrency

logger = logging.getLogger(__name__)

MAX_ITEMS_PER_FETCH = 200
MAX_SUMMARY_CHARS = 1000
USER_AGENT = "crypto-books-news/1 (+feedparser)"


def fetch_timeout() -> float:
    return float(getattr(settings, "NEWS_FETCH_TIMEOUT_SECONDS", 10))


def max_feed_bytes() -> int:
    return int(getattr(settings, "NEWS_MAX_FEED_BYTES", 2 * 1024 * 1024))


class FeedError(Exception):
    """A feed could not be read (the message says why); the feed's last_status shows it."""


@dataclass(frozen=True)
class ParsedItem:
    key: str
    title: str
    link: str
    summary: str
    published_at: dt.datetime | None


def _plain(text: str, limit: int) -> str:
    text = re.sub(r"<[^>]+>", " ", text or "")
    return re.sub(r"\s+", " ", html.unescape(text)).strip()[:limit]


def _when(entry) -> dt.datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.timezone.utc)


def download(url: str) -> bytes:
    """The feed's bytes (time- and size-limited; only public addresses, redirects included)."""
    deadline = time.monotonic() + fetch_timeout() * 3
    try:
        feed_url_check(url)
        with guarded_session() as session, session.get(
                url, timeout=fetch_timeout(), stream=True, allow_redirects=True,
                headers={"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, "
                         "application/xml;q=0.9, */*;q=0.5"}) as response:
            if response.status_code != 200:
                raise FeedError(f"HTTP {response.status_code}")
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_feed_bytes():
                    raise FeedError(f"larger than {max_feed_bytes() // 1024} KiB")
                if time.monotonic() > deadline:
                    raise FeedError(f"took longer than {fetch_timeout() * 3:.0f} s")
                chunks.append(chunk)
            return b"".join(chunks)
    except FeedUrlRefused as refused:
        raise FeedError(f"refused: {refused}") from None
    except requests.TooManyRedirects:
        raise FeedError("too many redirects") from None
    except requests.Timeout:
        raise FeedError(f"no answer within {fetch_timeout():.0f} s") from None
    except requests.RequestException as error:
        raise FeedError(f"cannot reach the feed ({type(error).__name__})") from None


def parse(data: bytes) -> list[ParsedItem]:
    """Items of an RSS 0.9x/1.0/2.0 or Atom document, by feedparser."""
    document = feedparser.parse(data)
    if not document.entries:
        reason = str(document.get("bozo_exception") or "no items") if document.get("bozo") else "no items"
        if document.get("bozo") or not document.get("version"):
            raise FeedError(f"not an RSS or Atom feed ({reason[:120]})")
        return []
    items = []
    for entry in document.entries[:MAX_ITEMS_PER_FETCH]:
        title = _plain(entry.get("title", ""), 500)
        link = (entry.get("link") or "").strip()[:1000]
        if not link.startswith(("http://", "https://")):
            link = ""
        published = _when(entry)
        identity = (entry.get("id") or entry.get("guid") or link or f"{title}|{published}").strip()
        if not title and not link:
            continue
        items.append(ParsedItem(key=hashlib.sha256(identity.encode()).hexdigest()[:64], title=title or link,
                                link=link, summary=_plain(entry.get("summary", "") or entry.get("description", ""),
                                                          MAX_SUMMARY_CHARS), published_at=published))
    return items


def _known_assets() -> dict:
    return known_assets(Cryptocurrency.objects.filter(is_active=True).values_list("symbol", "name"))


def feed_refresh(feed: NewsFeed, known: dict | None = None) -> int:
    """Fetch one feed and store its new items; returns how many were new. Never raises for the feed's
    own problems: they go to `last_status`."""
    known = known if known is not None else _known_assets()
    try:
        items = parse(download(feed.url))
    except FeedError as error:
        NewsFeed.objects.filter(pk=feed.pk).update(last_fetched_at=timezone.now(), last_status=f"error: {error}"[:300])
        logger.info("news feed %s (%s): %s", feed.pk, feed.url, error)
        return 0
    existing = set(NewsItem.objects.filter(organization_id=feed.organization_id,
                                           dedupe_key__in=[item.key for item in items]).values_list("dedupe_key", flat=True))
    new = 0
    for item in items:
        if item.key in existing:
            continue
        existing.add(item.key)
        try:
            NewsItem.objects.create(organization_id=feed.organization_id, feed=feed, dedupe_key=item.key,
                                    title=item.title, link=item.link, summary=item.summary,
                                    published_at=item.published_at,
                                    assets=assets_mentioned(f"{item.title}\n{item.summary}", known))
            new += 1
        except IntegrityError:  # stored meanwhile by another run: the unique key keeps one
            continue
    NewsFeed.objects.filter(pk=feed.pk).update(last_fetched_at=timezone.now(),
                                               last_status=f"ok: {len(items)} items, {new} new")
    return new


def news_refresh_all(organization_id=None) -> dict:
    """Every active feed (of one organization, or all): {"feeds", "new", "errors"}."""
    feeds = NewsFeed.objects.filter(is_active=True)
    if organization_id is not None:
        feeds = feeds.filter(organization_id=organization_id)
    known = _known_assets()
    report = {"feeds": 0, "new": 0, "errors": 0}
    for feed in feeds:
        report["feeds"] += 1
        report["new"] += feed_refresh(feed, known)
        if NewsFeed.objects.filter(pk=feed.pk, last_status__startswith="error").exists():
            report["errors"] += 1
    return report


def news_feed_create(*, actor, name: str, url: str) -> NewsFeed:
    """Add a feed to the actor's organization (managers and admins)."""
    permissions.require(permissions.can_manage_news_feeds(actor), "Only managers and admins configure news feeds.")
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise InvalidInput(ErrorCode.INVALID_FEED_URL, "The feed address must be an http(s) URL.",
                           {"field": "url"}) from None
    feed_url_allowed(url)
    if NewsFeed.objects.for_actor(actor).filter(url=url).exists():
        raise Conflict(ErrorCode.FEED_EXISTS, "This feed is already configured.", {"field": "url"})
    name = (name or "").strip()[:120] or url.split("//", 1)[-1].split("/", 1)[0]
    try:
        return NewsFeed.objects.create(organization_id=actor.organization_id, name=name, url=url)
    except IntegrityError:
        raise Conflict(ErrorCode.FEED_EXISTS, "This feed is already configured.", {"field": "url"}) from None


def feed_url_allowed(url: str) -> str:
    """`url` if its host resolves only to addresses feeds may reach; InvalidInput(invalid_feed_url) if not."""
    try:
        return feed_url_check(url)
    except FeedUrlRefused as refused:
        raise InvalidInput(ErrorCode.INVALID_FEED_URL, str(refused), {"field": "url"}) from None


def news_feed_delete(*, actor, feed: NewsFeed) -> None:
    permissions.require(permissions.can_manage_news_feeds(actor), "Only managers and admins configure news feeds.")
    permissions.require_own(actor, feed)
    NewsItem.objects.filter(feed=feed).delete()
    feed.delete()
