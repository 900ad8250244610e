"""Puts Django's own error answers under /api/ (unknown path 404, 405, CSRF 403, 500) into the
API's error envelope, so clients parse exactly one error shape."""

import logging

from django.conf import settings

from core.jsonapi.errors import STATUS_CODES, error_response, is_error_envelope

API_PREFIX = "/api/"
MESSAGES = {
    403: "You do not have permission to do this.",
    404: "Not found.",
    405: "Method not allowed.",
    500: "An unexpected error occurred.",
}


class ApiErrorEnvelopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if getattr(response, "streaming", False) or is_error_envelope(response.content):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response  # a JSON answer of ours (e.g. the health report's 503)
        status = response.status_code
        code = STATUS_CODES.get(status, "error")
        message = MESSAGES.get(status, response.reason_phrase or "Error.")
        details = {}
        if status == 403 and b"CSRF" in response.content:
            code, message = "csrf_failed", "CSRF verification failed: send the X-CSRFToken header."
        if status == 405 and response.has_header("Allow"):
            details = {"allowed_methods": [m.strip() for m in response["Allow"].split(",")]}
        wrapped = error_response(status, code, message, details)
        if response.has_header("Allow"):
            wrapped["Allow"] = response["Allow"]
        return wrapped

    def process_exception(self, request, exception):
        # Errors raised outside ninja (middleware, URL resolution) on API paths.
        if request.path.startswith(API_PREFIX) and not settings.DEBUG_PROPAGATE_EXCEPTIONS:
            logging.getLogger("api").exception("unhandled error on %s %s", request.method, request.path)
            return error_response(500, "internal_error", MESSAGES[500])
        return None
