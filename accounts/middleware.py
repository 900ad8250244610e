"""Ends a browser login whose session was ended elsewhere (a newer login, logout, password reset)."""

from django.contrib.auth import logout
from django.utils import timezone

from accounts.models import UserSession
from core.jsonapi.auth import BROWSER_SESSION_KEY


class ActiveUserSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session_id = request.session.get(BROWSER_SESSION_KEY) if hasattr(request, "session") else None
        if session_id and request.user.is_authenticated:
            alive = UserSession.objects.filter(
                pk=session_id, user=request.user, is_active=True, expires_at__gt=timezone.now()
            ).exists()
            if not alive:
                logout(request)
        return self.get_response(request)
