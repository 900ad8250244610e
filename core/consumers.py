"""The base WebSocket consumer and the platform's consumers (live area, staff feeds).

Who joins which group is decided by core.permissions only; nothing is ever sent to an
installation-wide group:
- /ws/live/: the user's own group and, for each audience of `permissions.live_audiences(user)`
  (members / books / staff), that audience of their organization;
- /ws/admin/<feed>/: managers and admins of an organization (`can_view_staff_feeds`; anyone else is
  closed with 4403) join that feed of their organization; platform superusers
  (`can_run_platform_tasks`) also join the platform's feed (installation-wide work);
- /ws/notifications/ (accounts.consumers): the user's own group.
/ws/admin/dashboard-stats/ sends the dashboard's figures (`dashboard.stats`) on connect (read fresh: a reconnecting client catches up), at least every
`DASHBOARD_STATS_INTERVAL_SECONDS` (10-30 s), and, debounced, after `dashboard.changed` on its feed
(reporting announces a change of the organization's transactions there). The figures come from a provider reporting registers (core imports no app):
`dashboard_stats_provider_register(fn)`; app modules named `dashboard` are discovered on first use.
Every socket also joins the user's control group: `access.changed` there (a move to another
organization, a role or accountant change, a deactivation) closes it with 4409, and the client
reconnects into the groups it may join now.
"""

import asyncio
import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils.module_loading import autodiscover_modules

from core import permissions
from core.jsonapi.middleware import json_depth_exceeds
from core.realtime import (
    EVENT_ACCESS_CHANGED,
    StaffFeed,
    organization_group,
    relay_ensure_running,
    staff_feed_group,
    user_control_group,
    user_group,
)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
MAX_FRAME_CHARACTERS = 65536  # clients send small control messages; anything bigger is refused
MAX_FRAME_DEPTH = 64
CLOSE_ACCESS_CHANGED = 4409  # what the user may see changed: reconnect to join the right groups

logger = logging.getLogger(__name__)


class BaseLiveConsumer(AsyncJsonWebsocketConsumer):
    """Authenticated JSON websocket: joins `group_names_for(user)` if `allowed(user)`, answers ping
    with pong and forwards realtime events as {"type": <event type>, "data": <payload>}."""

    joined_groups: list[str] = []  # set once authenticated

    def allowed(self, user) -> bool:
        """Whether this authenticated user may open the socket (closed with 4403 otherwise)."""
        return True

    def group_names_for(self, user) -> list[str]:
        raise NotImplementedError

    async def connect(self):
        user = self.scope.get("user")
        # Accept first so the client receives a meaningful close code.
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not self.allowed(user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await relay_ensure_running()
        groups = self.group_names_for(user)
        self.joined_groups = [*groups, user_control_group(user.pk)]
        for group in self.joined_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.send_json({"type": "connected", "data": {"groups": groups}})

    async def disconnect(self, code):
        for group in self.joined_groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # The JSON base class raises on binary frames and bad JSON, which would drop the connection.
        if text_data is not None and (len(text_data) > MAX_FRAME_CHARACTERS
                                      or json_depth_exceeds(text_data.encode(), MAX_FRAME_DEPTH)):
            text_data = None  # too big or too deep to parse safely: treated like a bad frame
        try:
            content = json.loads(text_data) if text_data is not None else None
        except (ValueError, RecursionError):
            content = None
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if not self.joined_groups:
            return  # closed at connect (4401/4403): nothing to answer
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "data": content.get("data")})
        else:
            await self.send_json({"type": "error", "data": {"code": "unknown_message"}})

    async def realtime_event(self, event):
        await self.send_json({"type": event["event_type"], "data": event["payload"]})
        if event["event_type"] == EVENT_ACCESS_CHANGED:
            await self.close(code=CLOSE_ACCESS_CHANGED)


class LiveAreaConsumer(BaseLiveConsumer):
    """The back-office pages' live-update area: what the user could read over HTTP."""

    def group_names_for(self, user):
        groups = [user_group(user.pk)]
        groups += [organization_group(user.organization_id, audience)
                   for audience in permissions.live_audiences(user)]
        return groups


class StaffFeedConsumer(BaseLiveConsumer):
    """A /ws/admin/<feed>/ feed of the user's organization (and the platform's, for superusers); the
    domain services publish their events to `core.realtime.staff_feed_group(org, feed)`."""

    feed = ""

    def allowed(self, user) -> bool:
        return permissions.can_view_staff_feeds(user)

    def group_names_for(self, user):
        groups = [staff_feed_group(user.organization_id, self.feed)]
        if permissions.can_run_platform_tasks(user):
            groups.append(staff_feed_group(None, self.feed))
        return groups


class TaskLogsConsumer(StaffFeedConsumer):
    feed = StaffFeed.TASK_LOGS


# --- the dashboard-stats feed's figures ------------------------------------------------------------------
EVENT_DASHBOARD_STATS = "dashboard.stats"
EVENT_DASHBOARD_CHANGED = "dashboard.changed"
STATS_INTERVAL_BOUNDS = (10, 30)  # seconds (the spec: configurable 10-30 s)
DEFAULT_STATS_INTERVAL = 15
DEFAULT_STATS_DEBOUNCE = 2.0
_stats_provider = None
_discovered = False


def dashboard_stats_provider_register(provider) -> None:
    """`provider(user, fresh: bool) -> dict` (JSON-ready): the figures the feed sends to `user`."""
    global _stats_provider
    _stats_provider = provider


def dashboard_stats_provider():
    global _discovered
    if not _discovered:
        autodiscover_modules("dashboard")
        _discovered = True
    return _stats_provider


def stats_interval_seconds() -> float:
    low, high = STATS_INTERVAL_BOUNDS
    value = float(getattr(settings, "DASHBOARD_STATS_INTERVAL_SECONDS", DEFAULT_STATS_INTERVAL))
    return min(max(value, low), high)


class DashboardStatsConsumer(StaffFeedConsumer):
    feed = StaffFeed.DASHBOARD_STATS

    ticker: asyncio.Task | None = None
    pending: asyncio.TimerHandle | None = None

    async def connect(self):
        await super().connect()
        if not self.joined_groups:
            return  # refused
        # Fresh on (re)connect: a client that was away catches up with what changed meanwhile. In the
        # background, so the socket answers pings and forwards events while the figures are read.
        self.ticker = asyncio.ensure_future(self._tick())

    async def disconnect(self, code):
        if self.ticker is not None:
            self.ticker.cancel()
        if self.pending is not None:
            self.pending.cancel()
        await super().disconnect(code)

    async def _tick(self):
        await self.send_stats(fresh=True)
        while True:
            await asyncio.sleep(stats_interval_seconds())
            await self.send_stats(fresh=False)

    async def send_stats(self, *, fresh: bool):
        provider = await database_sync_to_async(dashboard_stats_provider)()
        if provider is None:
            return
        try:
            figures = await database_sync_to_async(provider)(self.scope["user"], fresh)
        except Exception:  # a bad read must not drop the socket; the next tick tries again
            logger.exception("dashboard figures failed for user %s", self.scope["user"].pk)
            return
        await self.send_json({"type": EVENT_DASHBOARD_STATS, "data": figures})

    def _refresh_soon(self):
        if self.pending is not None:
            self.pending.cancel()
        delay = float(getattr(settings, "DASHBOARD_STATS_DEBOUNCE_SECONDS", DEFAULT_STATS_DEBOUNCE))
        loop = asyncio.get_running_loop()
        self.pending = loop.call_later(delay, lambda: asyncio.ensure_future(self.send_stats(fresh=True)))

    async def realtime_event(self, event):
        await super().realtime_event(event)
        if event["event_type"] == EVENT_DASHBOARD_CHANGED:
            self._refresh_soon()


class UserManagementConsumer(StaffFeedConsumer):
    feed = StaffFeed.USER_MANAGEMENT


class ManagerVerificationConsumer(StaffFeedConsumer):
    feed = StaffFeed.MANAGER_VERIFICATION
