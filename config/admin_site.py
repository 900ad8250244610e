from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from unfold.sites import UnfoldAdminSite


class BackOfficeAdminSite(UnfoldAdminSite):
    site_header = "Crypto Books"
    site_title = "Crypto Books admin"
    index_title = "Back-office"

    def login(self, request, extra_context=None):
        """One login for the admin and the back-office, with lockout, verification and single-session
        rules (core.views.backoffice_login)."""
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('backoffice-login')}?{urlencode({'next': next_url})}")
