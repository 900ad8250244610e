"""WebSocket routes (all under /ws/)."""

from django.urls import path

from accounts.consumers import NotificationsConsumer
from core.consumers import AdminGroupConsumer, LiveAreaConsumer, TaskLogsConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveAreaConsumer.as_asgi()),
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
    path("ws/admin/task-logs/", TaskLogsConsumer.as_asgi()),
    path("ws/admin/dashboard-stats/", AdminGroupConsumer.as_asgi(group_name="admin.dashboard-stats")),
    path("ws/admin/user-management/", AdminGroupConsumer.as_asgi(group_name="admin.user-management")),
    path(
        "ws/admin/manager-verification/",
        AdminGroupConsumer.as_asgi(group_name="admin.manager-verification"),
    ),
]
