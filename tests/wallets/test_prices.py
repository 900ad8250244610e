"""Prices: the CoinGecko client against a local HTTP server speaking its protocol, the local store
(offline by default), conversion, and portfolio value."""

import datetime as dt
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from wallets.models import Cryptocurrency, PriceQuote, WalletType
from wallets.prices import CoinGeckoClient, PriceUnavailable, price_current, price_on, price_record, prices_refresh_current
from wallets.services import transaction_create, wallet_create
from core.errors import DomainError

pytestmark = pytest.mark.django_db


class FakeCoinGecko(BaseHTTPRequestHandler):
    """Answers /simple/price and /coins/{id}/history like CoinGecko's v3 API (demo key required)."""

    requests = []

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        FakeCoinGecko.requests.append((url.path, query, self.headers.get("x-cg-demo-api-key")))
        if self.headers.get("x-cg-demo-api-key") != "demo-key":
            return self._send(401, {"status": {"error_code": 10002, "error_message": "API key missing"}})
        if url.path == "/api/v3/simple/price":
            prices = {"ethereum": {"usd": 2501.123456789012}, "usd-coin": {"usd": 0.9998}}
            ids = query["ids"].split(",")
            return self._send(200, {i: prices[i] for i in ids if i in prices})
        if url.path == "/api/v3/coins/ethereum/history":
            if query["date"] == "01-03-2025":
                return self._send(200, {"id": "ethereum", "market_data": {"current_price": {"usd": 2217.5}}})
            return self._send(200, {"id": "ethereum"})
        return self._send(404, {"error": "coin not found"})

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def coingecko(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCoinGecko)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.PRICE_API_BASE_URL = f"http://127.0.0.1:{server.server_port}/api/v3"
    settings.PRICE_API_KEY = "demo-key"
    FakeCoinGecko.requests.clear()
    yield settings.PRICE_API_BASE_URL
    server.shutdown()


def test_client_parses_prices_as_exact_decimals(coingecko):
    client = CoinGeckoClient(coingecko, "demo-key")
    prices = client.current(["ethereum", "usd-coin"], "USD")
    assert prices == {"ethereum": Decimal("2501.123456789012"), "usd-coin": Decimal("0.9998")}
    assert all(isinstance(p, Decimal) for p in prices.values())
    assert FakeCoinGecko.requests[-1] == ("/api/v3/simple/price", {"ids": "ethereum,usd-coin", "vs_currencies": "usd"},
                                          "demo-key")
    assert client.historical("ethereum", dt.date(2025, 3, 1), "USD") == Decimal("2217.5")


def test_client_errors_are_clear(coingecko):
    with pytest.raises(PriceUnavailable, match="401"):
        CoinGeckoClient(coingecko, "wrong").current(["ethereum"], "USD")
    with pytest.raises(PriceUnavailable, match="no USD price"):
        CoinGeckoClient(coingecko, "demo-key").historical("ethereum", dt.date(2025, 3, 2), "USD")
    with pytest.raises(PriceUnavailable, match="unreachable"):
        CoinGeckoClient("http://127.0.0.1:9/api/v3").current(["ethereum"], "USD")


def test_refresh_stores_current_prices_and_updates_assets(coingecko):
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH", price_api_id="ethereum")
    Cryptocurrency.objects.create(name="Local", symbol="LOC")
    assert prices_refresh_current() == 1
    assert price_current(symbol="eth") == Decimal("2501.123456789012")
    assert Cryptocurrency.objects.get(symbol="ETH").current_price == Decimal("2501.123456789012")


def test_offline_by_default_uses_only_the_local_store(organization, settings):
    settings.PRICE_API_BASE_URL = ""
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH", price_api_id="ethereum")
    assert prices_refresh_current() == 0
    with pytest.raises(DomainError) as missing:
        price_current(symbol="ETH", organization=organization)
    assert missing.value.code == "no_price"
    price_record(organization=organization, symbol="ETH", price=Decimal("2400"), day=dt.date(2025, 1, 1))
    # the newest daily close when no latest quote
    assert price_current(symbol="ETH", organization=organization) == Decimal("2400")
    price_record(organization=organization, symbol="ETH", price=Decimal("2600"))
    assert price_current(symbol="ETH", organization=organization) == Decimal("2600")
    # hand-entered prices are the organization's own: shared lookups and other organizations do not see them
    with pytest.raises(DomainError):
        price_current(symbol="ETH")
    with pytest.raises(DomainError) as unowned:
        price_record(symbol="ETH", price=Decimal("1"))
    assert unowned.value.code == "organization_required"


def test_historical_price_is_fetched_once_then_stored(coingecko):
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH", price_api_id="ethereum")
    assert price_on(symbol="ETH", day=dt.date(2025, 3, 1)) == Decimal("2217.5")
    assert price_on(symbol="ETH", day=dt.date(2025, 3, 1)) == Decimal("2217.5")
    history_calls = [r for r in FakeCoinGecko.requests if r[0].endswith("/history")]
    assert len(history_calls) == 1 and PriceQuote.objects.filter(day=dt.date(2025, 3, 1)).count() == 1


def test_convert_and_portfolio_value_endpoints(organization, client, make_user, access_token_for, settings):
    settings.PRICE_API_BASE_URL = ""
    user = make_user()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    Cryptocurrency.objects.create(name="Other", symbol="OTH")
    price_record(organization=organization, symbol="ETH", price=Decimal("2000"))
    wallet = wallet_create(user=user, name="w", wallet_type=WalletType.PRIVATE_KEY)
    transaction_create(actor=wallet.user, wallet=wallet, asset="ETH", transaction_type="BUY", amount=Decimal("1.5"),
                       price_at_transaction=Decimal("1800"), transaction_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    # Received with its value at the time, but the store has no current price of OTH: held, unpriced.
    transaction_create(actor=wallet.user, wallet=wallet, asset="OTH", transaction_type="INCOME", amount=Decimal("7"),
                       usd_value=Decimal("70"), transaction_date=dt.datetime(2025, 1, 2, tzinfo=dt.UTC))
    converted = client.post("/api/exchange-rates/convert/", {"asset": "eth", "amount": "0.25"},
                            content_type="application/json", **headers).json()
    assert Decimal(converted["value"]) == Decimal("500") and converted["fiat"] == "USD"
    missing = client.post("/api/exchange-rates/convert/", {"asset": "OTH", "amount": "1"},
                          content_type="application/json", **headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_price"
    value = client.get("/api/exchange-rates/portfolio-value/", **headers).json()
    assert Decimal(value["total_value"]) == Decimal("3000") and value["unpriced"] == ["OTH"]
    rates = client.get("/api/exchange-rates/", **headers).json()
    assert [(r["asset"], Decimal(r["price"])) for r in rates] == [("ETH", Decimal("2000"))]
    assert client.post("/api/exchange-rates/convert/", {"asset": "ETH", "amount": "-1"},
                       content_type="application/json", **headers).status_code == 422
