"""The base WebSocket consumer and the platform's consumers (live area, task logs, admin feeds)."""

import json

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.realtime import (
    GROUP_DASHBOARD_STATS,
    GROUP_LIVE,
    GROUP_MANAGER_VERIFICATION,
    GROUP_TASK_LOGS,
    GROUP_USER_MANAGEMENT,
    relay_ensure_running,
)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class BaseLiveConsumer(AsyncJsonWebsocketConsumer):
    """Authenticated JSON websocket: joins `group_names_for(user)`, answers ping with pong and
    forwards realtime events as {"type": <event type>, "data": <payload>}."""

    require_staff = False
    joined_groups: list[str] = []  # set once authenticated

    def group_names_for(self, user) -> list[str]:
        raise NotImplementedError

    async def connect(self):
        user = self.scope.get("user")
        # Accept first so the client receives a meaningful close code.
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if self.require_staff and not user.is_staff:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await relay_ensure_running()
        self.joined_groups = self.group_names_for(user)
        for group in self.joined_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.send_json({"type": "connected", "data": {"groups": self.joined_groups}})

    async def disconnect(self, code):
        for group in self.joined_groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # The JSON base class raises on binary frames and bad JSON, which would drop the connection.
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
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


class LiveAreaConsumer(BaseLiveConsumer):
    """The back-office pages' live-update area."""

    def group_names_for(self, user):
        return [GROUP_LIVE]


class TaskLogsConsumer(BaseLiveConsumer):
    require_staff = True

    def group_names_for(self, user):
        return [GROUP_TASK_LOGS]


class AdminGroupConsumer(BaseLiveConsumer):
    """A staff feed of one group; the domain services publish their events to these groups."""

    require_staff = True
    group_name = ""

    def group_names_for(self, user):
        return [self.group_name]


class DashboardStatsConsumer(AdminGroupConsumer):
    group_name = GROUP_DASHBOARD_STATS


class UserManagementConsumer(AdminGroupConsumer):
    group_name = GROUP_USER_MANAGEMENT


class ManagerVerificationConsumer(AdminGroupConsumer):
    group_name = GROUP_MANAGER_VERIFICATION
