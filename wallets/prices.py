"""Prices: a provider interface with a CoinGecko HTTP client and the local store.

Offline by default: without PRICE_API_BASE_URL only the local store answers (prices entered in the
admin, imported, or taken from trades). JSON numbers are parsed straight into Decimal, never float.

Quotes from the price API (and the demo's market data) are shared by every organization; quotes an
organization enters by hand or imports are its own. A lookup for an organization sees both, and on
the same day its own quote wins.
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

from wallets.models import ORGANIZATION_PRICE_SOURCES, Cryptocurrency, PriceQuote, PriceSource
from core.errors import ErrorCode, InvalidInput, NotFound, Unavailable


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


def _organization_id(organization):
    return getattr(organization, "pk", organization)


def quote_preference(quote) -> tuple:
    """Sort key among quotes of one asset and day: the organization's own first, then by source."""
    return (quote.organization_id is None, quote.source)


def price_record(*, symbol: str, price: Decimal, fiat: str | None = None, day: dt.date | None = None,
                 source: str = PriceSource.MANUAL, organization=None) -> PriceQuote:
    """Store a quote. `organization` (an Organization or its id): the organization's own quote,
    required for the sources it makes (ORGANIZATION_PRICE_SOURCES); None: shared market data."""
    fiat = (fiat or settings.REPORTING_FIAT).upper()
    organization_id = _organization_id(organization)
    if price is None or Decimal(price) < 0:
        raise InvalidInput(ErrorCode.INVALID_PRICE, "A price must be zero or more.")
    if source in ORGANIZATION_PRICE_SOURCES and organization_id is None:
        raise InvalidInput(ErrorCode.ORGANIZATION_REQUIRED, f"A {str(source)!r} price belongs to an organization.")
    quote, _ = PriceQuote.objects.update_or_create(
        organization_id=organization_id, symbol=symbol.upper(), fiat=fiat, day=day, source=source,
        defaults={"price": Decimal(price)})
    if day is None and fiat == settings.REPORTING_FIAT and organization_id is None:
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
        price_record(symbol=assets[coin_id].symbol, price=price, source=PriceSource.COINGECKO)
    return len(prices)


def _quotes(organization, symbol: str, fiat: str):
    return PriceQuote.objects.for_organization(_organization_id(organization)).filter(symbol=symbol.upper(), fiat=fiat)


def price_current(*, symbol: str, fiat: str | None = None, organization=None) -> Decimal:
    """The newest price seen by `organization` (shared quotes and its own): any "latest" quote (API
    or manual; the organization's own on the same day), else the newest daily close."""
    fiat = (fiat or settings.REPORTING_FIAT).upper()
    quotes = _quotes(organization, symbol, fiat)
    latest = sorted(quotes.filter(day__isnull=True),
                    key=lambda q: (q.fetched_at.date(), q.organization_id is not None, q.fetched_at))
    quote = latest[-1] if latest else None
    if quote is None:
        newest_day = quotes.filter(day__isnull=False).order_by("-day").first()
        if newest_day is not None:
            quote = min(quotes.filter(day=newest_day.day), key=quote_preference)
    if quote is None:
        raise NotFound(ErrorCode.NO_PRICE, f"No {fiat} price for {symbol.upper()}: enter one or configure a price API.")
    return quote.price


def price_on(*, symbol: str, day: dt.date, fiat: str | None = None, organization=None) -> Decimal:
    """The daily price seen by `organization` (its own first): stored, else fetched from the price
    API and stored as shared market data."""
    fiat = (fiat or settings.REPORTING_FIAT).upper()
    quote = min(_quotes(organization, symbol, fiat).filter(day=day), key=quote_preference, default=None)
    if quote is not None:
        return quote.price
    client = price_client()
    asset = Cryptocurrency.objects.filter(symbol=symbol.upper()).exclude(price_api_id="").first()
    if client is None or asset is None:
        raise NotFound(ErrorCode.NO_PRICE, f"No {fiat} price for {symbol.upper()} on {day}.")
    try:
        price = client.historical(asset.price_api_id, day, fiat)
    except PriceUnavailable as exc:
        raise Unavailable(ErrorCode.PRICE_API_UNAVAILABLE, str(exc)) from None
    return price_record(symbol=symbol, price=price, fiat=fiat, day=day, source=PriceSource.COINGECKO).price


def convert(*, symbol: str, amount: Decimal, fiat: str | None = None, day: dt.date | None = None,
            organization=None) -> dict:
    fiat = (fiat or settings.REPORTING_FIAT).upper()
    price = (price_on(symbol=symbol, day=day, fiat=fiat, organization=organization) if day
             else price_current(symbol=symbol, fiat=fiat, organization=organization))
    return {"asset": symbol.upper(), "amount": amount, "fiat": fiat, "price": price, "value": amount * price,
            "day": day}
