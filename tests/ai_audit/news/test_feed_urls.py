"""Feed URLs cannot reach the installation's own network (issue 14): refused when the feed is added
(422 invalid_feed_url) in every written form of a private address, and checked again at fetch time
on the address actually connected to, redirects included (DNS rebinding)."""

import socket

import pytest

from accounts.models import Role
from ai_audit.news import feed_urls, services
from ai_audit.news.admin import NewsFeedForm
from ai_audit.news.feed_urls import FeedUrlRefused, address_kind, feed_url_check
from core.errors import ErrorCode, InvalidInput
from core.http_status import http_status_of

REFUSED = {
    "http://127.0.0.1/feed": "loopback",
    "http://127.9.9.9:8080/feed": "loopback",
    "http://localhost/feed": "loopback",
    "http://[::1]/feed": "loopback",
    "http://2130706433/feed": "loopback",  # decimal
    "http://0x7f000001/feed": "loopback",  # hex
    "http://0x7f.0.0.1/feed": "loopback",  # hex octet
    "http://0177.0.0.1/feed": "loopback",  # octal
    "http://127.1/feed": "loopback",  # short
    "http://[::ffff:127.0.0.1]/feed": "loopback",  # IPv4-mapped IPv6
    "http://[::ffff:7f00:1]/feed": "loopback",
    "http://0.0.0.0/feed": "unspecified",
    "http://0/feed": "unspecified",
    "http://[::]/feed": "unspecified",
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://2852039166/latest/meta-data/": "link-local",  # 169.254.169.254 as a decimal
    "http://[fe80::1]/feed": "link-local",
    "http://10.0.0.1/feed": "private",
    "http://172.16.5.4/feed": "private",
    "http://192.168.1.1/feed": "private",
    "http://100.64.0.1/feed": "private",  # carrier-grade NAT
    "http://[fc00::1]/feed": "private",
    "http://[fd12:3456::1]/feed": "private",
    "http://224.0.0.1/feed": "multicast",
    "http://[ff02::1]/feed": "multicast",
    "http://240.0.0.1/feed": "reserved",
}


@pytest.fixture
def private_off(settings):
    settings.NEWS_FEEDS_ALLOW_PRIVATE_ADDRESSES = False
    return settings


@pytest.fixture
def dns(monkeypatch):
    """A DNS server whose answers the test sets: name -> list of addresses, one list per lookup (the
    last one repeats)."""
    answers, asked = {}, []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        queue = answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(feed_urls, "getaddrinfo", getaddrinfo)
    getaddrinfo.answers, getaddrinfo.asked = answers, asked
    return getaddrinfo


@pytest.mark.parametrize("url,kind", REFUSED.items())
def test_every_written_form_of_a_private_address_is_refused(private_off, url, kind):
    with pytest.raises(FeedUrlRefused) as refused:
        feed_url_check(url)
    assert f"is a {kind} address" in str(refused.value)


def test_public_addresses_pass_and_other_schemes_do_not(private_off):
    for address in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert address_kind(address) == "public"
    assert feed_url_check("https://8.8.8.8/feed.xml") == "https://8.8.8.8/feed.xml"
    assert feed_url_check("http://[2606:4700:4700::1111]/atom") == "http://[2606:4700:4700::1111]/atom"
    for url in ("file:///etc/passwd", "gopher://8.8.8.8/", "ftp://8.8.8.8/feed", "http:///feed", "http://[::1/feed"):
        with pytest.raises(FeedUrlRefused):
            feed_url_check(url)


def test_a_name_resolving_to_any_private_address_is_refused(private_off, dns):
    dns.answers["mixed.feeds.test"] = ["8.8.8.8"]
    assert feed_url_check("http://mixed.feeds.test/rss") == "http://mixed.feeds.test/rss"
    dns.answers["inside.feeds.test"] = ["10.1.2.3"]
    with pytest.raises(FeedUrlRefused, match="private address"):
        feed_url_check("http://inside.feeds.test/rss")
    with pytest.raises(FeedUrlRefused, match="does not resolve"):
        feed_url_check("http://nowhere.feeds.test/rss")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["http://127.0.0.1/feed", "http://localhost:8000/rss", "http://[::1]/feed",
                                 "http://0.0.0.0/feed", "http://169.254.169.254/latest/meta-data/",
                                 "http://10.0.0.1/feed", "http://[::ffff:127.0.0.1]/feed"])
def test_adding_such_a_feed_is_a_422_invalid_feed_url(private_off, make_user, url):
    manager = make_user(role=Role.MANAGER)
    with pytest.raises(InvalidInput) as refused:
        services.news_feed_create(actor=manager, name="inside", url=url)
    assert refused.value.code == ErrorCode.INVALID_FEED_URL and http_status_of(refused.value) == 422
    assert refused.value.details == {"field": "url"}
    form = NewsFeedForm(data={"name": "inside", "url": url, "is_active": True})  # the admin's form
    assert not form.is_valid() and "url" in form.errors


@pytest.mark.django_db
def test_the_setting_off_refuses_the_local_server_at_fetch_time(make_user, feed_server, settings):
    manager = make_user(role=Role.MANAGER)
    feed = services.news_feed_create(actor=manager, name="local", url=f"{feed_server.base_url}/rss.xml")
    settings.NEWS_FEEDS_ALLOW_PRIVATE_ADDRESSES = False  # a feed stored before the rule, or the setting changed
    assert services.feed_refresh(feed) == 0
    feed.refresh_from_db()
    assert feed.last_status.startswith("error: refused: The feed's host 127.0.0.1 is a loopback address")
    assert feed_server.hits == []
    with pytest.raises(InvalidInput):
        services.news_feed_create(actor=manager, name="again", url=f"{feed_server.base_url}/atom.xml")
    settings.NEWS_FEEDS_ALLOW_PRIVATE_ADDRESSES = True
    assert services.feed_refresh(feed) == 3 and feed_server.hits == ["/rss.xml"]


@pytest.mark.django_db
def test_redirects_are_checked_and_the_setting_never_opens_link_local_or_unspecified(make_user, feed_server):
    manager = make_user(role=Role.MANAGER)
    for url in ("http://169.254.169.254/latest/meta-data/", "http://0.0.0.0:80/", "http://224.0.0.1/"):
        with pytest.raises(InvalidInput):
            services.news_feed_create(actor=manager, name="x", url=url)
    followed = services.news_feed_create(actor=manager, name="moved", url=f"{feed_server.base_url}/to-rss.xml")
    assert services.feed_refresh(followed) == 3
    assert feed_server.hits == ["/to-rss.xml", "/rss.xml"]
    for path, kind in (("/to-metadata.xml", "link-local"), ("/to-unspecified.xml", "unspecified")):
        feed_server.hits.clear()
        feed = services.news_feed_create(actor=manager, name=path, url=f"{feed_server.base_url}{path}")
        assert services.feed_refresh(feed) == 0
        feed.refresh_from_db()
        assert feed.last_status.startswith("error: refused:") and f"is a {kind} address" in feed.last_status
        assert feed_server.hits == [path]  # 0.0.0.0 would have reached this same server


@pytest.mark.django_db
def test_a_rebinding_name_is_refused_at_fetch_time(make_user, feed_server, dns, settings):
    settings.NEWS_FEEDS_ALLOW_PRIVATE_ADDRESSES = False
    port = feed_server.server_address[1]
    dns.answers["news.rebind.test"] = ["8.8.8.8", "127.0.0.1"]  # public when added, loopback afterwards
    manager = make_user(role=Role.MANAGER)
    feed = services.news_feed_create(actor=manager, name="rebind", url=f"http://news.rebind.test:{port}/rss.xml")
    assert services.feed_refresh(feed) == 0
    feed.refresh_from_db()
    assert "news.rebind.test is a loopback address (127.0.0.1)" in feed.last_status
    assert feed_server.hits == []


@pytest.mark.django_db
def test_the_connection_goes_to_the_address_that_was_checked(make_user, feed_server, dns):
    """The name is unknown to the system's resolver: the fetch works only because each connection uses the
    address its own check resolved, never a second lookup."""
    port = feed_server.server_address[1]
    dns.answers["news.checked.test"] = ["127.0.0.1"]
    manager = make_user(role=Role.MANAGER)
    feed = services.news_feed_create(actor=manager, name="checked", url=f"http://news.checked.test:{port}/rss.xml")
    dns.asked.clear()
    assert services.feed_refresh(feed) == 3
    assert feed_server.hits == ["/rss.xml"]
    assert dns.asked == ["news.checked.test", "news.checked.test"]  # the URL check, then the connection's own
