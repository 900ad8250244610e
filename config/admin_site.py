from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from unfold.sites import UnfoldAdminSite

from core import permissions


class BackOfficeAdminSite(UnfoldAdminSite):
    site_header = "Crypto Books"
    site_title = "Crypto Books admin"
    index_title = "Back-office"

    def has_permission(self, request):
        """Managers and admins of an organization (and platform superusers): core.permissions."""
        return super().has_permission(request) and permissions.can_open_admin(request.user)

    def login(self, request, extra_context=None):
        """One login for the admin and the back-office, with lockout, verification and single-session
        rules (core.views.backoffice_login). A logged-in user who may not open the admin is sent to the
        back-office with a message: sending them to the login, which sends a logged-in user back to
        `next`, would loop."""
        if request.user.is_authenticated and not self.has_permission(request):
            messages.info(request, "The admin is for the managers and admins of an organization; "
                                   "you are back in the back-office.")
            return redirect("backoffice-home")
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('backoffice-login')}?{urlencode({'next': next_url})}")
