"""WebSocket routes (all under /ws/)."""

from django.urls import path

from accounts.consumers import NotificationsConsumer
from core import consumers
from invoicing.consumers import PayPageConsumer

websocket_urlpatterns = [
    path("ws/pay/<str:token>/", PayPageConsumer.as_asgi()),
    path("ws/live/", consumers.LiveAreaConsumer.as_asgi()),
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
    path("ws/admin/task-logs/", consumers.TaskLogsConsumer.as_asgi()),
    path("ws/admin/dashboard-stats/", consumers.DashboardStatsConsumer.as_asgi()),
    path("ws/admin/user-management/", consumers.UserManagementConsumer.as_asgi()),
    path("ws/admin/manager-verification/", consumers.ManagerVerificationConsumer.as_asgi()),
]
