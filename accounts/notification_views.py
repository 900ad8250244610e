"""Back-office page of a person's notifications (/app/notifications/): newest first, each with the
link to the page that acts on it (accounts.notifications.notification_link), marked read from the
page (HTMX). Everyone sees only their own notifications: another person's id is a 404."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Notification
from accounts.notifications import notification_link
from accounts.selectors import notification_list_visible
from core.errors import DomainError
from core.windows import cursor_decode, newest_first_page, page_number

PAGE_ROWS = 50


def _with_links(notifications):
    for notification in notifications:
        notification.link_url, notification.link_text = notification_link(notification)
    return notifications


@login_required
@require_GET
def notification_page(request):
    page = page_number(request.GET.get("page"))
    unread = request.GET.get("unread") == "1"
    cursor = request.GET.get("cursor", "")[:100]
    queryset = notification_list_visible(user=request.user, unread=unread)
    try:
        after = cursor_decode(cursor) if cursor else None
    except DomainError:
        after = cursor = None  # a cursor this page did not make: the newest page
    # One row more than shown tells whether there is a next page (no count: constant cost).
    rows, next_cursor = newest_first_page(queryset, date_field=Notification.time_index_field,
                                          scope=Notification.time_index_scope, owner_id=request.user.pk,
                                          limit=PAGE_ROWS, page=page, after=after)
    context = {"notifications": _with_links(rows), "page": page, "unread": unread, "cursor": cursor,
               "has_next": bool(next_cursor), "next_cursor": next_cursor, "offset_paging": page > 1 and not cursor}
    return render(request, "accounts/notifications.html", context)


@login_required
@require_POST
def notification_mark_read(request, notification_id):
    notification = notification_list_visible(user=request.user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404
    Notification.objects.filter(pk=notification.pk, user=request.user).update(is_read=True)
    notification.is_read = True
    return render(request, "accounts/_notification_row.html", {"notification": _with_links([notification])[0]})
