"""Back-office page of a person's notifications (/app/notifications/): newest first, each with the
link to the page that acts on it (accounts.notifications.notification_link), marked read from the
page (HTMX). Everyone sees only their own notifications: another person's id is a 404."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Notification
from accounts.notifications import notification_link

PAGE_ROWS = 50


def _own(request):
    return Notification.objects.filter(user=request.user).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def _with_links(notifications):
    for notification in notifications:
        notification.link_url, notification.link_text = notification_link(notification)
    return notifications


@login_required
@require_GET
def notification_page(request):
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    unread = request.GET.get("unread") == "1"
    queryset = _own(request)
    if unread:
        queryset = queryset.filter(is_read=False)
    # One row more than shown tells whether there is a next page (no count: constant cost).
    rows = list(queryset.order_by("-created_at", "-id")[(page - 1) * PAGE_ROWS:page * PAGE_ROWS + 1])
    context = {"notifications": _with_links(rows[:PAGE_ROWS]), "page": page, "unread": unread,
               "has_next": len(rows) > PAGE_ROWS}
    return render(request, "accounts/notifications.html", context)


@login_required
@require_POST
def notification_mark_read(request, notification_id):
    notification = _own(request).filter(pk=notification_id).first()
    if notification is None:
        raise Http404
    Notification.objects.filter(pk=notification.pk, user=request.user).update(is_read=True)
    notification.is_read = True
    return render(request, "accounts/_notification_row.html", {"notification": _with_links([notification])[0]})
