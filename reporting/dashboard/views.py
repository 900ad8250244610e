"""The back-office dashboard page (/app/dashboard/): the figures of /api/dashboard/ and the insights of
/api/dashboard/insights/ (the same selectors), for every member over what they may see. Managers and
admins get the figures live from /ws/admin/dashboard-stats/ (static/backoffice/live.js)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import permissions
from reporting.dashboard.selectors import dashboard_for, insights_for


@login_required
@require_GET
def dashboard_page(request):
    if not permissions.can_use_backoffice(request.user):
        raise PermissionDenied("The dashboard is for members of an organization.")
    figures = dashboard_for(request.user)
    return render(request, "reporting/dashboard/page.html", {
        "d": figures, "fiat": figures["fiat"], "insights": insights_for(request.user)["insights"],
        "live": permissions.can_view_staff_feeds(request.user),
    })
