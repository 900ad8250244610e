"""Crypto news end to end: feeds served by a local HTTP server (RSS 2.0, Atom, broken, slow, missing),
fetched by the periodic task's service, deduplicated, stored per organization, served by
GET /api/ai/crypto-news/ and filtered by asset."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from ai_audit.models import NewsFeed, NewsItem
from ai_audit.news import services
from ai_audit.news.tasks import news_refresh
from core.errors import Conflict, Forbidden, InvalidInput


@pytest.fixture
def api(client, make_user, access_token_for):
    def make(role=Role.USER, **fields):
        user = make_user(role=role, **fields)
        auth = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}

        def get(path, **params):
            return client.get(path, params, **auth)

        get.user = user
        return get

    return make


def _feed(manager, server, path, name=None):
    return services.news_feed_create(actor=manager, name=name or path, url=f"{server.base_url}{path}")


def test_no_feed_empty_list_says_how_to_add_one(api):
    body = api()("/api/ai/crypto-news/").json()
    assert body["items"] == [] and body["next"] is None
    assert "No news feed is configured" in body["message"] and "/app/news/" in body["message"]


def test_rss_and_atom_items_stored_with_assets_and_served_newest_first(api, make_user, feed_server):
    manager = make_user(role=Role.MANAGER)
    _feed(manager, feed_server, "/rss.xml", "Chain Daily")
    _feed(manager, feed_server, "/atom.xml", "Protocol Notes")
    report = services.news_refresh_all()
    assert report == {"feeds": 2, "new": 5, "errors": 0}
    get = api()
    body = get("/api/ai/crypto-news/").json()
    assert body["message"] is None
    titles = [item["title"] for item in body["items"]]
    assert titles[0] == "Ethereum developers schedule the next upgrade"  # 1 Dec 11:00 UTC
    assert len(titles) == 5
    bitcoin = next(i for i in body["items"] if i["title"].startswith("Bitcoin"))
    assert bitcoin["assets"] == ["BTC", "ETH"] and bitcoin["feed_name"] == "Chain Daily"
    assert bitcoin["summary"] == "BTC traded above $120,000 while ETH lagged."  # tags stripped
    assert bitcoin["link"] == "https://chain-daily.example/2026/12/bitcoin-high"
    assert bitcoin["published_at"].startswith("2026-12-01T09:30:00")
    solana = next(i for i in body["items"] if i["title"].startswith("Solana"))
    assert solana["assets"] == ["SOL"]
    eth = get("/api/ai/crypto-news/", asset="eth").json()["items"]
    assert {i["title"] for i in eth} == {"Bitcoin tops its yearly high as ETF inflows grow",
                                         "Ethereum developers schedule the next upgrade",
                                         "Ethereum staking reaches a new record"}
    assert get("/api/ai/crypto-news/", asset="USDC").json()["items"][0]["title"].startswith("Stablecoin")
    assert get("/api/ai/crypto-news/", asset="DOGE").json() == {
        "items": [], "limit": 50, "offset": 0, "next": None, "message": None}


def test_fetching_again_and_a_second_feed_with_the_same_items_store_nothing_twice(make_user, feed_server):
    manager = make_user(role=Role.MANAGER)
    _feed(manager, feed_server, "/rss.xml")
    assert services.news_refresh_all()["new"] == 3
    assert services.news_refresh_all()["new"] == 0
    _feed(manager, feed_server, "/rss-again.xml")  # another URL serving the same guids
    assert services.news_refresh_all() == {"feeds": 2, "new": 0, "errors": 0}
    assert NewsItem.objects.count() == 3
    assert NewsFeed.objects.get(url__endswith="/rss-again.xml").last_status == "ok: 3 items, 0 new"


def test_the_periodic_task_fetches(make_user, feed_server):
    manager = make_user(role=Role.MANAGER)
    _feed(manager, feed_server, "/atom.xml")
    news_refresh.call_local()
    assert NewsItem.objects.count() == 2


def test_broken_missing_and_slow_feeds_are_reported_and_the_others_go_on(make_user, feed_server, settings):
    settings.NEWS_FETCH_TIMEOUT_SECONDS = 1
    manager = make_user(role=Role.MANAGER)
    for path in ("/broken.xml", "/missing.xml", "/slow.xml", "/atom.xml"):
        _feed(manager, feed_server, path)
    report = services.news_refresh_all()
    assert report == {"feeds": 4, "new": 2, "errors": 3}
    status = {feed.url.rsplit("/", 1)[-1]: feed.last_status for feed in NewsFeed.objects.all()}
    assert status["broken.xml"].startswith("error: not an RSS or Atom feed")
    assert status["missing.xml"] == "error: HTTP 404"
    assert status["slow.xml"] == "error: no answer within 1 s"
    assert status["atom.xml"] == "ok: 2 items, 2 new"


def test_a_feed_too_large_is_refused(make_user, feed_server, settings):
    settings.NEWS_MAX_FEED_BYTES = 1000
    manager = make_user(role=Role.MANAGER)
    feed = _feed(manager, feed_server, "/rss.xml")
    assert services.feed_refresh(feed) == 0
    feed.refresh_from_db()
    assert feed.last_status.startswith("error: larger than")


def test_news_of_another_organization_is_never_served(api, make_user, make_organization, feed_server):
    other = make_organization("Other")
    outsider = make_user(role=Role.MANAGER, organization=other)
    _feed(outsider, feed_server, "/rss.xml")
    services.news_refresh_all()
    body = api()("/api/ai/crypto-news/").json()
    assert body["items"] == [] and "No news feed" in body["message"]
    # the same item in two organizations is stored once for each
    _feed(make_user(role=Role.MANAGER), feed_server, "/rss.xml")
    services.news_refresh_all()
    assert NewsItem.objects.count() == 6


def test_feed_configuration_rules(make_user, feed_server):
    manager, user = make_user(role=Role.MANAGER), make_user()
    with pytest.raises(Forbidden):
        services.news_feed_create(actor=user, name="x", url=f"{feed_server.base_url}/rss.xml")
    with pytest.raises(InvalidInput):
        services.news_feed_create(actor=manager, name="x", url="file:///etc/passwd")
    feed = services.news_feed_create(actor=manager, name="", url=f"{feed_server.base_url}/rss.xml")
    assert feed.name == f"127.0.0.1:{feed_server.server_address[1]}"
    with pytest.raises(Conflict):
        services.news_feed_create(actor=manager, name="again", url=f"{feed_server.base_url}/rss.xml")
    services.feed_refresh(feed)
    services.news_feed_delete(actor=manager, feed=feed)
    assert not NewsItem.objects.exists()


def test_list_query_count_does_not_grow_with_items(api, make_user, feed_server):
    manager = make_user(role=Role.MANAGER)
    feed = _feed(manager, feed_server, "/rss.xml")
    get = api()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert get("/api/ai/crypto-news/").status_code == 200
        return len(queries)

    services.feed_refresh(feed)
    few = count()
    for n in range(12):
        NewsItem.objects.create(organization_id=feed.organization_id, feed=feed, dedupe_key=f"extra-{n}",
                                title=f"Extra {n}", published_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    assert count() == few


def test_filters_are_bounded(api):
    get = api()
    assert get("/api/ai/crypto-news/", asset="X" * 21).status_code == 422
    assert get("/api/ai/crypto-news/", feed_id="not-an-id").status_code == 422
