"""/api/exchange-rates/: current exchange rates (shared market data and the organization's own),
conversion to fiat, the holdings' value, and the member's price alerts."""

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from core.jsonapi.auth import api_auth
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.schemas import MessageOut, StrictSchema
from core.jsonapi.types import Amount, FiatAmount, ObjectIdStr
from wallets import services
from wallets.models import AlertDirection, PriceQuote
from wallets.prices import convert
from wallets.selectors import price_alert_list_for

exchange_rates_router = Router(tags=["exchange rates"])

AlertDirectionIn = Literal[tuple(AlertDirection.values)]


class RateOut(Schema):
    asset: str
    fiat: str
    price: FiatAmount
    source: str
    day: date | None
    as_of: datetime


def _rate_rank(quote):
    """A latest quote before a daily close; then the newest day; the organization's own on a tie."""
    if quote.day is None:
        return (1, quote.fetched_at.date(), quote.organization_id is not None, quote.fetched_at)
    return (0, quote.day, quote.organization_id is not None, quote.fetched_at)


@exchange_rates_router.get("/", response=list[RateOut], auth=api_auth,
                           summary="Current exchange rates (shared market data and your organization's own)")
def exchange_rates(request, fiat: str = "USD"):
    latest = {}
    for quote in PriceQuote.objects.for_actor(request.user).filter(fiat=fiat.upper()):
        if quote.symbol not in latest or _rate_rank(quote) > _rate_rank(latest[quote.symbol]):
            latest[quote.symbol] = quote
    return [{"asset": q.symbol, "fiat": q.fiat, "price": q.price, "source": q.source, "day": q.day,
             "as_of": q.fetched_at} for _, q in sorted(latest.items())]


class ConvertIn(StrictSchema):
    asset: str = Field(max_length=20)
    amount: Decimal = Field(ge=0, max_digits=34)
    fiat: str = Field("USD", min_length=3, max_length=3)
    date: dt.date | None = None


class ConvertOut(Schema):
    asset: str
    amount: Amount
    fiat: str
    price: FiatAmount
    value: FiatAmount
    day: date | None


@exchange_rates_router.post("/convert/", response=ConvertOut, auth=api_auth, summary="Convert crypto to fiat")
def exchange_convert(request, payload: ConvertIn):
    return convert(symbol=payload.asset, amount=payload.amount, fiat=payload.fiat, day=payload.date,
                   organization=request.user.organization_id)


class PriceAlertOut(Schema):
    id: ObjectIdStr
    asset: str
    direction: str
    threshold: FiatAmount
    fiat: str
    is_active: bool
    triggered_at: datetime | None
    last_price: FiatAmount | None
    created_at: datetime

    @staticmethod
    def resolve_asset(obj):
        return obj.symbol


class PriceAlertIn(StrictSchema):
    asset: str = Field(min_length=1, max_length=20)
    direction: AlertDirectionIn
    threshold: Decimal = Field(gt=0, max_digits=34, decimal_places=8)
    fiat: str = Field("USD", min_length=3, max_length=3)


class PriceAlertUpdateIn(StrictSchema):
    asset: str | None = Field(None, min_length=1, max_length=20)
    direction: AlertDirectionIn | None = None
    threshold: Decimal | None = Field(None, gt=0, max_digits=34, decimal_places=8)
    fiat: str | None = Field(None, min_length=3, max_length=3)
    is_active: bool | None = None
    rearm: bool = Field(False, description="fire again on the next crossing (also implied by a new condition)")


def _visible_alert(request, alert_id):
    return get_object_or_404(price_alert_list_for(request.user), alert_id)


@exchange_rates_router.get("/alerts/", response=list[PriceAlertOut], auth=api_auth, summary="Your price alerts")
@paginate(LimitOffsetNoCount)
def price_alert_list(request):
    return price_alert_list_for(request.user)


@exchange_rates_router.post("/alerts/", response={201: PriceAlertOut}, auth=api_auth,
                            summary="Be notified once when a price goes above or below a threshold")
def price_alert_create(request, payload: PriceAlertIn):
    return Status(201, services.price_alert_create(user=request.user, symbol=payload.asset,
                                                   direction=payload.direction, threshold=payload.threshold,
                                                   fiat=payload.fiat))


@exchange_rates_router.get("/alerts/{oid:alert_id}/", response=PriceAlertOut, auth=api_auth, summary="A price alert")
def price_alert_detail(request, alert_id: str):
    return _visible_alert(request, alert_id)


@exchange_rates_router.put("/alerts/{oid:alert_id}/", response=PriceAlertOut, auth=api_auth,
                           summary="Change or re-arm a price alert")
def price_alert_put(request, alert_id: str, payload: PriceAlertUpdateIn):
    changes = payload.dict(exclude_unset=True)
    if "asset" in changes:
        changes["symbol"] = changes.pop("asset")
    return services.price_alert_update(actor=request.user, alert=_visible_alert(request, alert_id), **changes)


@exchange_rates_router.delete("/alerts/{oid:alert_id}/", response=MessageOut, auth=api_auth,
                              summary="Delete a price alert")
def price_alert_delete(request, alert_id: str):
    services.price_alert_delete(actor=request.user, alert=_visible_alert(request, alert_id))
    return {"message": "Deleted."}
