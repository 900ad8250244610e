"""Feed URLs may not reach the server's own network (SSRF): an organization admin types them, and the
periodic task fetches them from inside the installation.

- `feed_url_check(url)`: http(s) only; every address the host resolves to must be public. An IP
  written in any form the resolver accepts (dotted, decimal `2130706433`, hex `0x7f000001`, octal,
  short `127.1`, IPv6 `[::1]`, IPv4-mapped `[::ffff:127.0.0.1]`) is read as the address it is.
- `guarded_session()`: the `requests` session the fetcher uses. Each new connection (the first one and
  every redirect's) resolves its host once, checks every address, and connects to the address it
  checked: a name that answers a public address to the check and a private one a moment later (DNS
  rebinding) never gets the second lookup. Proxies from the environment are not used (a proxy would
  resolve the name itself).

Refused always: unspecified (0.0.0.0, ::), link-local (169.254.0.0/16 with the cloud metadata service,
fe80::/10), multicast and reserved addresses. Refused unless `NEWS_FEEDS_ALLOW_PRIVATE_ADDRESSES` is
True (tests and local development fetching from a loopback server): loopback and private or
otherwise non-global addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, ...).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_REDIRECTS = 5
ALWAYS_REFUSED = ("unspecified", "link-local", "multicast", "reserved")

# The resolver (a module attribute, so a test can play a DNS server that changes its answer).
getaddrinfo = socket.getaddrinfo


class FeedUrlRefused(Exception):
    """The URL's host is (or resolves to) an address feeds may not reach; the message says which."""


def private_addresses_allowed() -> bool:
    return bool(getattr(settings, "NEWS_FEEDS_ALLOW_PRIVATE_ADDRESSES", False))


def address_kind(address) -> str:
    """"public", or why the address is not: unspecified, link-local, multicast, reserved, loopback, private."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        ip = ip.ipv4_mapped or ip.sixtofour or ip
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_loopback:
        return "loopback"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private or not ip.is_global:
        return "private"
    return "public"


def _literal(host: str):
    """The address a host written as an IP literal stands for (any IPv4 form inet_aton reads), or None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def resolve_checked(host: str, port: int) -> list[tuple]:
    """The (family, address) pairs `host` resolves to, once; FeedUrlRefused if any is not allowed."""
    host = (host or "").strip().strip("[]").rstrip(".")
    if not host:
        raise FeedUrlRefused("The feed address has no host.")
    literal = _literal(host)
    if literal is not None:
        found = [(socket.AF_INET6 if literal.version == 6 else socket.AF_INET, str(literal))]
    else:
        try:
            answers = getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise FeedUrlRefused(f"The feed's host {host} does not resolve ({error}).") from None
        found = list(dict.fromkeys((family, info[0].split("%", 1)[0]) for family, _, _, _, info in answers))
        if not found:
            raise FeedUrlRefused(f"The feed's host {host} does not resolve.")
    allow_private = private_addresses_allowed()
    for _, address in found:
        kind = address_kind(address)
        if kind in ALWAYS_REFUSED or (kind != "public" and not allow_private):
            raise FeedUrlRefused(f"The feed's host {host} is a {kind} address ({address}): feeds must be on the "
                                 f"public internet.")
    return found


def feed_url_check(url: str) -> str:
    """The URL if it is http(s) on a host with only allowed addresses; FeedUrlRefused otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FeedUrlRefused("The feed address is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedUrlRefused("The feed address must be an http(s) URL.")
    resolve_checked(parts.hostname, port)
    return url


class _CheckedConnect:
    """Connect to the address that was checked, not to a second lookup of the name. The name stays the
    connection's host for the Host header, TLS SNI and the certificate check."""

    def _new_conn(self):
        _, address = resolve_checked(self._dns_host, self.port)[0]
        name = self._dns_host
        self._dns_host = address
        try:
            return super()._new_conn()
        finally:
            self._dns_host = name


class _CheckedHTTPConnection(_CheckedConnect, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedConnect, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


def guarded_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the check must see the real peer
    session.max_redirects = MAX_REDIRECTS
    adapter = _CheckedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
