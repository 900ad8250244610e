"""Back-office page of crypto news under /app/news/: the items of the organization's feeds (filter by
asset), the feeds with their last fetch status, and for managers and admins the forms to add or
remove a feed and to fetch now. With no feed, the page says how to add one (no made-up items)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ai_audit.news import selectors, services
from core import permissions
from core.errors import DomainError

PAGE_ROWS = 50


def _require_view(request) -> None:
    if not permissions.can_view_news(request.user):
        raise PermissionDenied("Members of an organization read its news.")


def _require_manage(request) -> None:
    if not permissions.can_manage_news_feeds(request.user):
        raise PermissionDenied("Only managers and admins configure news feeds.")


@login_required
@require_GET
def news_page(request):
    _require_view(request)
    asset = (request.GET.get("asset") or "").strip().upper()[:20]
    items = list(selectors.news_list_for(request.user, asset=asset or None)[:PAGE_ROWS])
    feeds = list(selectors.news_feed_list_for(request.user))
    return render(request, "ai_audit/news/news_list.html", {
        "items": items, "feeds": feeds, "asset": asset, "no_feed_message": selectors.NO_FEED_MESSAGE,
        "can_manage": permissions.can_manage_news_feeds(request.user)})


@login_required
@require_POST
def news_feed_add_action(request):
    _require_manage(request)
    try:
        feed = services.news_feed_create(actor=request.user, name=request.POST.get("name", ""),
                                         url=request.POST.get("url", ""))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("news-list")
    new = services.feed_refresh(feed)
    feed.refresh_from_db()
    messages.success(request, f"Feed {feed.name} added ({feed.last_status}); {new} new items.")
    return redirect("news-list")


@login_required
@require_POST
def news_feed_delete_action(request, feed_id):
    _require_manage(request)
    feed = selectors.news_feed_list_for(request.user).filter(pk=feed_id).first()
    if feed is None:
        raise Http404("No such feed.")
    services.news_feed_delete(actor=request.user, feed=feed)
    messages.success(request, f"Feed {feed.name} removed with its items.")
    return redirect("news-list")


@login_required
@require_POST
def news_refresh_action(request):
    _require_manage(request)
    report = services.news_refresh_all(organization_id=request.user.organization_id)
    messages.success(request, f"{report['feeds']} feeds fetched: {report['new']} new items, {report['errors']} errors.")
    return redirect("news-list")
