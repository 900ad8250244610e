"""The notifications page (accounts/notification_views.py)."""

from django.urls import path

from accounts import notification_views

urlpatterns = [
    path("app/notifications/", notification_views.notification_page, name="backoffice-notifications"),
    path("app/notifications/<oid:notification_id>/read/", notification_views.notification_mark_read,
         name="backoffice-notification-read"),
]
