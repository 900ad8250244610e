"""Prices: a provider interface with a CoinGecko HTTP client and the local store.

Offline by default: without PRICE_API_BASE_URL only the local store answers (prices entered in the
admin, imported, or taken from trades). JSON numbers are parsed straight into Decimal, never float.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from core.jsonapi.errors import ApiError
from wallets.models import Cryptocurrency, PriceQuote


class PriceUnavailable(Exception):
    pass


class CoinGeckoClient:
    """The two CoinGecko calls we need: /simple/price and /coins/{id}/history."""

    def __init__(self, base_url: str, api_key: str = "", timeout: int = 10):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def _get(self, path: str, params: dict) -> dict:
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        if self.api_key:
            request.add_header("x-cg-pro-api-key" if "pro-api" in self.base_url else "x-cg-demo-api-key", self.api_key)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read(), parse_float=Decimal, parse_int=Decimal)
        except urllib.error.HTTPError as exc:
            raise PriceUnavailable(f"price API answered {exc.code} for {path}") from None
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise PriceUnavailable(f"price API unreachable: {exc}") from None

    def current(self, ids: list[str], fiat: str) -> dict[str, Decimal]:
        body = self._get("/simple/price", {"ids": ",".join(ids), "vs_currencies": fiat.lower()})
        return {coin: Decimal(values[fiat.lower()]) for coin, values in body.items() if fiat.lower() in values}

    def historical(self, coin_id: str, day: dt.date, fiat: str) -> Decimal:
        body = self._get(f"/coins/{coin_id}/history", {"date": day.strftime("%d-%m-%Y"), "localization": "false"})
        try:
            return Decimal(body["market_data"]["current_price"][fiat.lower()])
        except (KeyError, TypeError):
            raise PriceUnavailable(f"no {fiat} price for {coin_id} on {day}") from None


def price_client() -> CoinGeckoClient | None:
    if not settings.PRICE_API_BASE_URL:
        return None
    return CoinGeckoClient(settings.PRICE_API_BASE_URL, settings.PRICE_API_KEY, settings.PRICE_API_TIMEOUT_SECONDS)


def price_record(*, symbol: str, price: Decimal, fiat: str | None = None, day: dt.date | None = None,
                 source: str = "manual") -> PriceQuote:
    fiat = (fiat or settings.REPORTING_FIAT).upper()
    if price is None or Decimal(price) < 0:
        raise ApiError(422, "invalid_price", "A price must be zero or more.")
    quote, _ = PriceQuote.objects.update_or_create(symbol=symbol.upper(), fiat=fiat, day=day, source=source,
                                                   defaults={"price": Decimal(price)})
    if day is None and fiat == settings.REPORTING_FIAT:
        Cryptocurrency.objects.filter(symbol=symbol.upper()).update(current_price=Decimal(price),
                                                                   last_updated=timezone.now())
    return quote


def prices_refresh_current() -> int:
    """Fetch current prices of every asset with a price-API id (periodic task; no-op offline)."""
    client = price_client()
    if client is None:
        return 0
    assets = {c.price_api_id: c for c in Cryptocurrency.objects.exclude(price_api_id="")}
    if not assets:
        return 0
    prices = client.current(sorted(assets), settings.REPORTING_FIAT)
    for coin_id, price in prices.items():
        price_record(symbol=assets[coin_id].symbol, price=price, source="coingecko")
    return len(prices)


def price_current(*, symbol: str, fiat: str | None = None) -> Decimal:
    """The newest price: any "latest" quote (API or manual), else the newest daily close."""
    fiat = (fiat or settings.REPORTING_FIAT).upper()
    quote = (PriceQuote.objects.filter(symbol=symbol.upper(), fiat=fiat, day__isnull=True)
             .order_by("-fetched_at").first()
             or PriceQuote.objects.filter(symbol=symbol.upper(), fiat=fiat).order_by("-day").first())
    if quote is None:
        raise ApiError(404, "no_price", f"No {fiat} price for {symbol.upper()}: enter one or configure a price API.")
    return quote.price


def price_on(*, symbol: str, day: dt.date, fiat: str | None = None) -> Decimal:
    """The daily price: stored, else fetched from the price API and stored."""
    fiat = (fiat or settings.REPORTING_FIAT).upper()
    quote = PriceQuote.objects.filter(symbol=symbol.upper(), fiat=fiat, day=day).order_by("source").first()
    if quote is not None:
        return quote.price
    client = price_client()
    asset = Cryptocurrency.objects.filter(symbol=symbol.upper()).exclude(price_api_id="").first()
    if client is None or asset is None:
        raise ApiError(404, "no_price", f"No {fiat} price for {symbol.upper()} on {day}.")
    try:
        price = client.historical(asset.price_api_id, day, fiat)
    except PriceUnavailable as exc:
        raise ApiError(503, "price_api_unavailable", str(exc)) from None
    return price_record(symbol=symbol, price=price, fiat=fiat, day=day, source="coingecko").price


def convert(*, symbol: str, amount: Decimal, fiat: str | None = None, day: dt.date | None = None) -> dict:
    fiat = (fiat or settings.REPORTING_FIAT).upper()
    price = price_on(symbol=symbol, day=day, fiat=fiat) if day else price_current(symbol=symbol, fiat=fiat)
    return {"asset": symbol.upper(), "amount": amount, "fiat": fiat, "price": price, "value": amount * price,
            "day": day}
