"""Security headers (Content-Security-Policy with a per-request nonce, Permissions-Policy) and CORS
for the JSON API (allow-list from CORS_ALLOWED_ORIGINS)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.http import HttpResponse

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
CORS_ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-CSRFToken"
CORS_ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"


def content_security_policy(request, nonce: str) -> str:
    script_src = ["'self'", f"'nonce-{nonce}'"]
    if request.path.startswith("/admin/"):
        # The one documented exception (issue 19): the admin (unfold) ships the standard build of
        # Alpine.js 3 (unfold/js/alpine/alpine.js), which evaluates every x-data / x-on / x-show
        # expression of unfold's own templates with the AsyncFunction constructor: without
        # 'unsafe-eval' its menus, tabs, filters and dialogs stop working. Alpine's CSP build cannot
        # take those inline object expressions, so the exception stays, limited to /admin/ (staff
        # only, behind login), and it allows no inline <script>: scripts still need this request's
        # nonce or our own origin. The app's pages (/app/) and the API get no 'unsafe-eval'.
        script_src.append("'unsafe-eval'")
    host = request.get_host()
    directives = {
        "default-src": ["'self'"],
        "script-src": script_src,
        # unfold sets its colours in a <style> block and style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", f"ws://{host}", f"wss://{host}"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # templates: <script nonce="{{ request.csp_nonce }}">
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy(request, nonce))
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class ApiCorsMiddleware:
    """CORS only for /api/ and only for allow-listed origins; credentials are never allowed
    (API clients authenticate with a bearer token, not cookies)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        origin = request.headers.get("Origin")
        allowed = (request.path.startswith("/api/") and origin is not None
                   and origin in settings.CORS_ALLOWED_ORIGINS)
        if allowed and request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = CORS_ALLOWED_METHODS
            response["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
            response["Access-Control-Max-Age"] = "600"
        else:
            response = self.get_response(request)
        if allowed:
            response["Access-Control-Allow-Origin"] = origin
            response["Vary"] = "Origin"
        return response
