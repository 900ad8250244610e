"""What the dashboard registers into core, which imports no app: the figures' cache (the system's
clear-cache endpoint) and the dashboard-stats feed's figures provider (core.consumers); and its
listener of wallets' transactions_changed, which tells the feed to refresh."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from bson import ObjectId
from django.core.serializers.json import DjangoJSONEncoder

from accounts.models import User
from core.consumers import EVENT_DASHBOARD_CHANGED, dashboard_stats_provider_register
from core.realtime import StaffFeed, publish, staff_feed_group
from core.services import cache_register
from reporting.dashboard.selectors import dashboard_cache_clear, dashboard_for
from wallets.signals import transactions_changed


class _FiguresEncoder(DjangoJSONEncoder):
    """As the API writes them: amounts as plain decimal strings, ids as strings."""

    def default(self, o):
        if isinstance(o, Decimal):
            return format(o, "f")
        if isinstance(o, ObjectId):
            return str(o)
        if isinstance(o, dt.datetime):
            return o.isoformat()
        return super().default(o)


def dashboard_stats(user, fresh: bool = False) -> dict:
    return json.loads(json.dumps(dashboard_for(user, fresh=fresh), cls=_FiguresEncoder))


def dashboard_changed_announce(sender, user_id=None, organization_id=None, **kwargs) -> None:
    """wallets.signals.transactions_changed: the organization's dashboard-stats feed refreshes (its
    sockets read the figures again, debounced); sent after the commit (core.realtime.publish)."""
    if organization_id is None and user_id is not None:
        organization_id = User.objects.filter(pk=user_id).values_list("organization_id", flat=True).first()
    if organization_id is not None:
        publish(staff_feed_group(organization_id, StaffFeed.DASHBOARD_STATS), EVENT_DASHBOARD_CHANGED, {})


def register() -> None:
    cache_register("dashboard", "Dashboard figures, per user, kept for DASHBOARD_CACHE_SECONDS",
                   lambda organization_id: dashboard_cache_clear(organization_id=organization_id))
    dashboard_stats_provider_register(dashboard_stats)
    transactions_changed.connect(dashboard_changed_announce, dispatch_uid="reporting_dashboard_changed")
