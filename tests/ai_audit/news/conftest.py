"""A local HTTP server serving real-format feeds (RSS 2.0 and Atom 1.0 as publishers write them), a
broken one, a slow one, a missing one and redirects, for the news fetcher.

The server is on loopback, which feeds may not reach by default: `feed_server` turns
NEWS_FEEDS_ALLOW_PRIVATE_ADDRESSES on for the test (tests/ai_audit/news/test_feed_urls.py turns it off)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Chain Daily</title>
  <link>https://chain-daily.example/</link>
  <description>Crypto markets and protocols</description>
  <atom:link href="https://chain-daily.example/feed/" rel="self" type="application/rss+xml"/>
  <item>
    <title>Bitcoin tops its yearly high as ETF inflows grow</title>
    <link>https://chain-daily.example/2026/12/bitcoin-high</link>
    <guid isPermaLink="false">chain-daily-1001</guid>
    <pubDate>Tue, 01 Dec 2026 09:30:00 +0000</pubDate>
    <dc:creator>Ana Reporter</dc:creator>
    <description><![CDATA[<p>BTC traded above <b>$120,000</b> while ETH lagged.</p>]]></description>
  </item>
  <item>
    <title>Ethereum developers schedule the next upgrade</title>
    <link>https://chain-daily.example/2026/12/ethereum-upgrade</link>
    <guid isPermaLink="false">chain-daily-1002</guid>
    <pubDate>Tue, 01 Dec 2026 11:00:00 +0000</pubDate>
    <description>Client teams agreed on a date &amp; a testnet plan.</description>
  </item>
  <item>
    <title>Stablecoin rules: what changes for USDC issuers</title>
    <link>https://chain-daily.example/2026/12/stablecoin-rules</link>
    <guid isPermaLink="false">chain-daily-1003</guid>
    <pubDate>Mon, 30 Nov 2026 16:15:00 +0000</pubDate>
    <description>Regulators published the final text.</description>
  </item>
</channel>
</rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Protocol Notes</title>
  <link href="https://notes.example/"/>
  <link rel="self" href="https://notes.example/atom.xml"/>
  <updated>2026-12-01T12:00:00Z</updated>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <author><name>Protocol Notes</name></author>
  <entry>
    <title>Solana validators ship a fee change</title>
    <link href="https://notes.example/solana-fees"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2026-12-01T12:00:00Z</updated>
    <published>2026-12-01T10:00:00Z</published>
    <summary type="html">&lt;p&gt;SOL fees fall; $SOL holders vote.&lt;/p&gt;</summary>
  </entry>
  <entry>
    <title>Ethereum staking reaches a new record</title>
    <link href="https://notes.example/eth-staking"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-bbbb-80da344efa6b</id>
    <updated>2026-11-29T08:00:00Z</updated>
    <summary>More ether is staked than ever.</summary>
  </entry>
</feed>
"""

BROKEN = b"<html><head><title>Maintenance</title></head><body><p>Back soon <b>unclosed</body>"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        server.hits.append(self.path)
        if self.path == "/slow.xml":
            time.sleep(server.slow_seconds)
        redirects = {"/to-rss.xml": "/rss.xml", "/to-metadata.xml": "http://169.254.169.254/latest/meta-data/",
                     "/to-unspecified.xml": f"http://0.0.0.0:{server.server_address[1]}/rss.xml"}
        if self.path in redirects:
            self.send_response(302)
            self.send_header("Location", redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        routes = {"/rss.xml": (RSS, "application/rss+xml"), "/atom.xml": (ATOM, "application/atom+xml"),
                  "/broken.xml": (BROKEN, "text/html"), "/slow.xml": (RSS, "application/rss+xml"),
                  "/rss-again.xml": (RSS, "application/rss+xml")}
        if self.path not in routes:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, content_type = routes[self.path]
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def feed_server(settings):
    settings.NEWS_FEEDS_ALLOW_PRIVATE_ADDRESSES = True  # the server is on loopback
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.hits, server.slow_seconds = [], 5
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
