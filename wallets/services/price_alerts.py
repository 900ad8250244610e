"""Price alerts: a member's own alerts (set, change, re-arm, delete) and the periodic check that
fires each crossed alert once, with a notification to its owner."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import DatabaseError
from django.utils import timezone
from pymongo.errors import PyMongoError

from accounts.models import NotificationPriority, NotificationType
from accounts.notifications import notification_create
from core import money, permissions
from core.errors import Conflict, ErrorCode, InvalidInput
from core.transactions import in_transaction
from wallets.models import AlertDirection, PriceAlert
from wallets.selectors import asset_get, price_book_for

logger = logging.getLogger(__name__)

MAX_PRICE_ALERTS_PER_USER = 100


def _alert_fields(*, symbol: str | None = None, direction: str | None = None, threshold=None,
                  fiat: str | None = None) -> dict:
    fields = {}
    if symbol is not None:
        fields["symbol"] = asset_get(symbol).symbol
    if direction is not None:
        if direction not in AlertDirection.values:
            raise InvalidInput(ErrorCode.VALIDATION_ERROR, "direction must be 'above' or 'below'.",
                               {"fields": {"direction": AlertDirection.values}})
        fields["direction"] = direction
    if threshold is not None:
        threshold = Decimal(threshold)
        if not threshold.is_finite() or threshold <= 0:
            raise InvalidInput(ErrorCode.VALIDATION_ERROR, "The threshold must be a positive price.",
                               {"fields": {"threshold": "> 0"}})
        fields["threshold"] = threshold
    if fiat is not None:
        fiat = fiat.strip().upper()
        if len(fiat) != 3 or not fiat.isalpha():
            raise InvalidInput(ErrorCode.VALIDATION_ERROR, "fiat must be a 3-letter currency code.",
                               {"fields": {"fiat": "e.g. USD"}})
        fields["fiat"] = fiat
    return fields


def price_alert_create(*, user, symbol: str, direction: str, threshold, fiat: str = "USD") -> PriceAlert:
    """`user` (the acting member) sets an alert of their own, in their organization."""
    permissions.require(permissions.can_use_backoffice(user), "You cannot set price alerts.")
    fields = _alert_fields(symbol=symbol, direction=direction, threshold=threshold, fiat=fiat)
    if PriceAlert.objects.for_actor(user).filter(user=user).count() >= MAX_PRICE_ALERTS_PER_USER:
        raise Conflict(ErrorCode.ALERT_LIMIT_REACHED, f"You already have {MAX_PRICE_ALERTS_PER_USER} price alerts.")
    return PriceAlert.objects.create(user=user, organization_id=user.organization_id, **fields)


def price_alert_update(*, actor, alert: PriceAlert, rearm: bool = False, is_active: bool | None = None,
                       **changes) -> PriceAlert:
    """Change an alert. Changing its condition (asset, direction, threshold, fiat) or `rearm=True`
    re-arms it: it may fire again once."""
    permissions.require_own(actor, alert)
    permissions.require(permissions.can_manage_price_alert(actor, alert),
                        "Only the alert's owner or a manager can change it.")
    fields = _alert_fields(**changes)
    condition_changed = any(getattr(alert, name) != value for name, value in fields.items())
    for name, value in fields.items():
        setattr(alert, name, value)
    if is_active is not None:
        alert.is_active = is_active
    if rearm or condition_changed:
        alert.triggered_at = None
    alert.save()
    return alert


def price_alert_delete(*, actor, alert: PriceAlert) -> None:
    permissions.require_own(actor, alert)
    permissions.require(permissions.can_manage_price_alert(actor, alert),
                        "Only the alert's owner or a manager can delete it.")
    alert.delete()


def _crossed(alert: PriceAlert, price: Decimal) -> bool:
    return price >= alert.threshold if alert.direction == AlertDirection.ABOVE else price <= alert.threshold


def price_alert_fire(*, alert: PriceAlert, price: Decimal) -> bool:
    """Mark a crossed alert as fired and notify its owner, once: the conditional update on
    `triggered_at=None` matches for one caller only, and the notification is written in the same
    transaction (its websocket event goes out after the commit). False: someone else fired it."""

    def fire_write():
        won = PriceAlert.objects.filter(pk=alert.pk, is_active=True, triggered_at=None).update(
            triggered_at=timezone.now(), last_price=price)
        if won:
            word = "above" if alert.direction == AlertDirection.ABOVE else "below"
            threshold = money.format_fiat(alert.threshold, alert.fiat)
            notification_create(
                user=alert.user, type=NotificationType.SYSTEM, priority=NotificationPriority.HIGH,
                title=f"{alert.symbol} is {word} {threshold}",
                message=f"{alert.symbol} is at {money.format_fiat(price, alert.fiat)}, {word} your alert's "
                        f"threshold of {threshold}.",
                action_url="/app/portfolio/", action_text="Open portfolio",
                metadata={"price_alert_id": str(alert.pk), "price": str(price)})
        return won

    return bool(in_transaction(fire_write))


def price_alerts_check() -> dict:
    """Compare every armed alert with the current stored price its organization sees (shared
    quotes and its own) and fire the crossed ones. System work over every organization."""
    armed = list(PriceAlert.objects.filter(is_active=True, triggered_at=None).select_related("user"))
    fired = unpriced = 0
    for organization_id, fiat in sorted({(alert.organization_id, alert.fiat) for alert in armed}, key=str):
        alerts = [alert for alert in armed if alert.fiat == fiat and alert.organization_id == organization_id]
        book = price_book_for({alert.symbol for alert in alerts}, fiat=fiat, organization=organization_id)
        for symbol in sorted({alert.symbol for alert in alerts}):
            price = book.current(symbol)
            if price is None:
                unpriced += sum(1 for alert in alerts if alert.symbol == symbol)
                continue
            # One write per asset and organization records the price every armed alert saw.
            PriceAlert.objects.for_organization(organization_id).filter(
                symbol=symbol, fiat=fiat, is_active=True, triggered_at=None).update(last_price=price)
            for alert in (a for a in alerts if a.symbol == symbol and _crossed(a, price)):
                try:
                    fired += price_alert_fire(alert=alert, price=price)
                except (DatabaseError, PyMongoError):
                    # e.g. a write conflict with another checker: that one fires it.
                    logger.warning("price alert %s: check lost a write conflict", alert.pk, exc_info=True)
    return {"armed": len(armed), "fired": fired, "unpriced": unpriced}
